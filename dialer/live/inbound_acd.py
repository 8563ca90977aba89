"""The live ACD: inbound callers held in their queues and given to the dialer's own agents (ACD-1..6).

The engine keeps one `Board` (`dialer.acd`) of the calls waiting and of every logged-in agent's
state (`agent_changed`, after each of the agent's steps), and carries out the router's decisions
on the pbx:

- a call's flow ends in a queue (`enqueue`; the dialplan then holds the caller with the queue's
  music, `ringcast-queue-hold`), with caller memory (`InboundCall.last_served`), or asking
  for one agent alone when dialled directly (ACD-9; in the agent's first queue, `home_queue`,
  unless the flow names one; with its number's fallback, its queue's other agents get it after
  a while, `FallBack`) → `route_call`;
- `Offer` and `Ring` (ring-all) → `ringing.phones_for`: the first agent on a persistent connection
  is reserved (`AgentService.take_inbound`) and the caller Redirected into its conference by the
  same move as an answered outbound customer (`LiveDialer.move_to_agent`); when all are in ring
  mode, their phones ring (`inbound_ringing`, ACD-6) and the first to answer gets the caller the
  same way. Once the caller has joined, the agent is on the call and `answer` is recorded. Phones
  that ring out → `ring_no_answer`: those agents are set not ready (`SetNotReady`, in the state
  log) and the call, back in its queue with its first arrival, goes to the next agent;
- `Overflow` → another queue (a new arrival there), an external number (Redirected into
  `ringcast-outbound`) or a voicemail box (`ringcast-voicemail`, with the box's greeting);
- an agent becomes ready, or a ready member resting (AGT-7) is rested (`rest_watch`) →
  `agent_ready` before the outbound customers waiting (`serve`: inbound has priority); a waiting
  call's `wake_at` (caller memory's hold ends, its fallback or overflow is due) → routed again,
  by a `loop.call_at` timer; an agent logs out → the calls waiting in its queues are routed again
  at once (`_agent_left`: one asking for that agent falls back or overflows);
- the caller hangs up → the call ends as its stage says (`InboundCall.ends_as`) and its agent goes
  to wrap-up, or back to ready, as after an outbound call; the agent's phone lost before the
  caller joined → the call waits again, with its first arrival.

Announcements (ACD-8): `inbound_announce.Announcements`, told whenever the board's order or its
queues' staffing can have changed; the handle time is the queue's average talk over the last day,
`queue_store.handle_times`, read with the queues. Voicemail (IVR-4): a caller who hangs up in a
box has left a message if its recording has sound (`voicemail_store.ended_in_box`; else the call
is abandoned), and every agent of the box (its agent, or the queue's members) gets a `voicemail`
screen-pop event.

`screen_pop` is what an agent's status, and the start of its `offered` screen pop
(`screen_feed`), show of its inbound call (caller, region, queue, priority, flags). Running
campaigns' pacers are told how many calls wait for their agents (`InboundWaiting`). The queues are
read again (`queue_store.load_queues`) every `RELOAD_S` at most, on the engine's poll and
when a call queues; a change rebuilds the board, and a call whose queue is gone goes to that
queue's voicemail box. Records go through the engine's database thread, in order, unawaited.

At start the engine publishes its FastAGI address to the pbx (the global `RINGCAST_AGI_URL`,
again after a reconnect), reads the queues, and takes back the callers a previous run left waiting
in them (`inbound_restart`); the other calls it left open are closed. Once the engine stops
(`stop_queueing`, as its drain begins) no new caller is queued: its flow finds no queue and the
caller hears the number's message (one whose flow found its queue just before is refused busy);
calls already waiting may still be served during the drain.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from campaigns import inbound_store, queue_store, voicemail_store
from campaigns.persistence.models.enums import InboundOutcome
from dialer.acd.blending import waiting_for
from dialer.acd.board import Board
from dialer.acd.calls import RememberedAgent, WaitingCall, fallen_back
from dialer.acd.commands import FallBack, Offer, Overflow, Ring, SetNotReady
from dialer.acd.queues import OverflowTarget, QueueConfig, ToNumber, ToQueue, ToVoicemail
from dialer.acd.restart import LeftOpen
from dialer.acd.ringing import ConnectNow, phones_for
from dialer.acd.router import Decision, agent_ready, ring_no_answer, route_call, wake_at
from dialer.acd.strategies import Turns
from dialer.agents.state import AgentState
from dialer.asterisk.ami import AmiError
from dialer.asterisk.confgen import (
    AGI_URL_VAR,
    BRIDGE_CONTEXT,
    BUSY_CONTEXT,
    GREETING_VAR,
    NEXT_VAR,
    OUTBOUND_CONTEXT,
    VOICEMAIL_CONTEXT,
    VOICEMAIL_VAR,
    goto,
)
from dialer.asterisk.events import ChannelHungUp, ConferenceJoined
from dialer.asterisk.fastagi import AgiCommandError, AgiHangup
from dialer.asterisk.rendering import RenderOnce
from dialer.live.desk import AgentSession, conference_of
from dialer.live.inbound_announce import Announcements
from dialer.live.inbound_call import InboundCall, Stage
from dialer.live.inbound_restart import take_back
from dialer.live.inbound_ringing import InboundRinging
from dialer.live.instants import utc
from dialer.live.rest_watch import RestWatch
from dialer.pacing.events import InboundWaiting

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)

RELOAD_S = 5.0
RETRY_OFFER_S = 1.0  # a caller whose move to its agent failed waits this long before the next offer
HANDLE_TIME_WINDOW = timedelta(days=1)  # the calls whose talk is the estimated wait's handle time


class InboundAcd:
    def __init__(self, dialer: LiveDialer) -> None:
        self.dialer = dialer
        self.board = Board(())
        self.turns = Turns()
        self.calls: dict[str, InboundCall] = {}  # by the caller's uniqueid, from its record's opening
        self.ringing = InboundRinging(self)  # ring-mode agents' phones (ACD-6)
        self._loaded_at = -RELOAD_S
        self._closed = False  # the engine stops: no new caller is queued
        self.rendered: RenderOnce | None = None  # renders announcements; given by the FastAGI flows
        self.handle_times: dict[str, float] = {}  # each queue's recent average talk (s), for the EWT
        self.announcements = Announcements(self)
        self.rest = RestWatch(dialer)  # ready members resting (AGT-7): served once rested
        self._boxes: dict[str, voicemail_store.Box] = {}  # by caller: the box it leaves a message in
        self.created_at = datetime.now(UTC)  # calls that arrived before were a previous run's

    async def start(self) -> None:
        await self.publish_agi_url()
        await self.refresh()
        await take_back(self)

    async def publish_agi_url(self) -> None:
        """Tell the pbx where inbound calls find this engine's FastAGI server (none: no inbound)."""
        if self.dialer.agi_url is None:
            return
        try:
            await self.dialer.ami.action(
                {"Action": "Setvar", "Variable": AGI_URL_VAR, "Value": self.dialer.agi_url}
            )
        except AmiError as exc:
            log.warning("could not publish the FastAGI address for inbound calls: %s", exc)

    async def refresh(self) -> None:
        """Read the queues again if they are older than `RELOAD_S`; a change rebuilds the board."""
        if time.monotonic() - self._loaded_at < RELOAD_S:
            return
        self._loaded_at = time.monotonic()
        dialer = self.dialer
        since = datetime.now(UTC) - HANDLE_TIME_WINDOW
        handle_times = await dialer.db.run(queue_store.handle_times, dialer.database, since)
        if handle_times != self.handle_times:
            self.handle_times = handle_times
            self.announcements.changed()
        queues = await dialer.db.run(queue_store.load_queues, dialer.database)
        if queues == self.board.queues:
            return
        before, self.board = self.board, Board(queues.values())
        for session in self.dialer.desk:
            candidate = session.candidate()
            self.board.update_agent(candidate)
            self.rest.watch(session, candidate, bool(self.board.seats(session.agent_id)))  # joined, left
        gone = [waiting for waiting in before.calls.values() if waiting.queue not in queues]
        kept = [waiting for waiting in before.calls.values() if waiting.queue in queues]
        for waiting in kept:
            self.board.add_call(waiting)
        for waiting in gone:
            await self._send_on(self.calls[waiting.call_id], ToVoicemail(waiting.queue), datetime.now(UTC))
        for waiting in kept:
            if waiting.call_id in self.board.calls:  # not taken by the routing of another meanwhile
                await self._route(self.calls[waiting.call_id])
        self.announcements.changed()  # a queue's announcements may have been turned on or changed

    # ---- calls from their flow --------------------------------------------------------------------

    def follows(self, uniqueid: str) -> bool:
        return uniqueid in self.calls

    def arrived(self, call: InboundCall, channel: str) -> None:
        """Follow a call whose record is open (its flow runs now)."""
        self.calls[call.uniqueid] = call
        self.dialer.follow_leg(call.uniqueid, channel)

    def ended_in_flow(self, call: InboundCall, at: datetime) -> None:
        """The caller hung up while its flow still had it (the pbx's own Hangup may come later, or
        may have come before the call was followed)."""
        if self.calls.get(call.uniqueid) is call and call.stage in (Stage.IVR, Stage.REFUSED, Stage.FAILED):
            self._end(call, at, None)

    def stop_queueing(self) -> None:
        """The engine stops: callers are no longer queued (those waiting may still be served)."""
        self._closed = True

    async def queue(self, name: str) -> QueueConfig | None:
        """Queue `name` for a caller whose flow ends there; None when there is no such queue, or when
        the engine stops: the flow then plays the number's message."""
        if self._closed:
            log.info("the engine is stopping: no caller is queued to %s any more", name)
            return None
        await self.refresh()
        return self.board.queues.get(name)

    async def home_queue(self, agent_id: int) -> str | None:
        """The first queue the agent is a member of (a direct call's, when its flow names none)."""
        await self.refresh()
        seats = self.board.seats(agent_id)
        return seats[0][0].name if seats else None

    async def enqueue(
        self,
        call: InboundCall,
        queue: str,
        priority: int,
        agent: int | None = None,
        fallback_after_s: float | None = None,
    ) -> None:
        """The call waits in `queue` (its flow has sent the caller to hold there); `agent`: dialled
        directly to that agent (ACD-9; after `fallback_after_s`, if given, to any member), else for
        any member, its last agent first (caller memory)."""
        config = self.board.queues.get(queue)  # None: removed meanwhile (`_wait` sends it on)
        now = datetime.now(UTC)
        remembered = None  # (its window: `dialer.acd.calls.asks_for`)
        if config is not None and config.memory_days and agent is None and call.last_served is not None:
            remembered = RememberedAgent(*call.last_served)
        if self.calls.get(call.uniqueid) is not call:
            return  # hung up meanwhile
        if self._closed:  # the engine began to stop after the flow found the queue: refused busy
            call.stage = Stage.FAILED
            await self._go_on(call, BUSY_CONTEXT)
            return
        fallback_at = None
        if agent is not None and fallback_after_s is not None:
            fallback_at = now + timedelta(seconds=fallback_after_s)
        waiting = WaitingCall(
            call.uniqueid, queue, now, call.caller, priority, call.region, remembered, agent, fallback_at
        )
        await self._wait(call, waiting)

    def wait_again(self, left: LeftOpen, waiting: WaitingCall, channel: str) -> InboundCall:
        """A caller a previous run left waiting, still in its hold loop: followed again at once (its
        hang-up is not missed), waiting as it was (`restart.taken_back`), its queue visit still
        open; `back_in_line` then routes it."""
        call = InboundCall(left.call_id, left.uniqueid, left.caller, left.region, left.arrived_at)
        call.flags, call.queued, call.waiting = left.flags, True, waiting
        self.arrived(call, channel)
        call.stage = Stage.WAITING
        return call

    async def back_in_line(self, call: InboundCall) -> None:
        """A taken-back call on the board and routed, unless it ended meanwhile."""
        if self.calls.get(call.uniqueid) is call:
            await self._back_on_board(call)

    async def _wait(self, call: InboundCall, waiting: WaitingCall) -> None:
        if waiting.queue not in self.board.queues:  # removed meanwhile
            await self._send_on(call, ToVoicemail(waiting.queue), waiting.arrived)
            return
        dialer = self.dialer
        dialer.record_later(
            inbound_store.enter_queue,
            dialer.database,
            call.call_id,
            waiting.queue,
            waiting.arrived,
            waiting.priority,
            waiting.direct_agent,
            waiting.fallback_at,
        )
        call.stage, call.queued, call.waiting, call.agent_id = Stage.WAITING, True, waiting, None
        await self._back_on_board(call)

    async def _back_on_board(self, call: InboundCall, rang_out: tuple[int, ...] = ()) -> None:
        """The call (`call.waiting`) waits on the board, if not there yet; the pacers are told, and
        it is routed (without the agents whose phones it `rang_out`)."""
        assert call.waiting is not None
        if call.uniqueid not in self.board.calls:
            self.board.add_call(call.waiting)
            self._tell_pacers()
        await self._route(call, rang_out)

    # ---- decisions --------------------------------------------------------------------------------

    async def _route(
        self, call: InboundCall, rang_out: tuple[int, ...] = (), *, announce: bool = True
    ) -> None:
        """Route the waiting call (`announce`: then tell the announcing queues' callers what changed)."""
        now = datetime.now(UTC)
        waiting = self.board.calls[call.uniqueid]
        if rang_out:
            decision = ring_no_answer(self.board, waiting, rang_out, now, self.turns)
        else:
            decision = route_call(self.board, waiting, now, self.turns)
        await self._carry_out(decision, now, announce=announce)
        self._wake_later(call, now)

    async def rang_out(self, call: InboundCall, agents: tuple[int, ...]) -> None:
        """The phones rung for the call did not answer (ACD-6): back in its queue with its first
        arrival, it goes to the next agent (`ring_no_answer`), and those agents are set not ready."""
        if self.calls.get(call.uniqueid) is not call or call.waiting is None:
            return
        call.stage, call.agent_id = Stage.WAITING, None
        await self._back_on_board(call, rang_out=agents)

    def _wake_later(self, call: InboundCall, now: datetime) -> None:
        if call.wake is not None:
            call.wake.cancel()
        if call.uniqueid in self.board.calls:  # still waiting: look again when its time comes
            delay = (wake_at(self.board, call.uniqueid, now) - now).total_seconds()
            loop = asyncio.get_running_loop()
            call.wake = loop.call_at(
                loop.time() + max(delay, 0.0), lambda: self.dialer.in_background(self._woken(call))
            )

    async def _woken(self, call: InboundCall) -> None:
        if call.uniqueid in self.board.calls and self.calls.get(call.uniqueid) is call:
            await self._route(call)

    async def serve(self, agent_id: int) -> bool:
        """The agent became ready: offer it the best call waiting that it may take; whether it got one."""
        if not self.board.calls:
            return False
        now = datetime.now(UTC)
        decision = agent_ready(self.board, agent_id, now, self.turns)
        await self._carry_out(decision, now)
        return bool(decision.commands)

    async def _carry_out(self, decision: Decision, now: datetime, *, announce: bool = True) -> None:
        self.turns = decision.turns
        for command in decision.commands:
            if isinstance(command, Offer):
                await self._offer(self.calls[command.call], (command.agent,), now)
            elif isinstance(command, Ring):
                await self._offer(self.calls[command.call], command.agents, now)
            elif isinstance(command, Overflow):
                await self._send_on(self.calls[command.call], command.target, now)
            elif isinstance(command, FallBack):
                self._fall_back(self.calls[command.call])
            elif isinstance(command, SetNotReady):
                session = self.dialer.desk.get(command.agent)
                if session is not None:
                    await self.dialer.agents.set_not_ready(session, command.reason, now)
            else:
                log.warning("ACD command not carried out: %s", command)
        if announce:
            self.announcements.changed()

    def _fall_back(self, call: InboundCall) -> None:
        """The direct call is its queue's from now on, with its first arrival (its visit goes on)."""
        assert call.waiting is not None
        self.board.remove_call(call.uniqueid)
        call.waiting = fallen_back(call.waiting)
        self.board.add_call(call.waiting)
        log.info(
            "inbound call %s from %s: falls back to queue %s", call.call_id, call.caller, call.waiting.queue
        )

    async def _offer(self, call: InboundCall, agents: tuple[int, ...], now: datetime) -> None:
        """Connect the call to the first of `agents` on a persistent connection, else ring them all."""
        desk = self.dialer.desk
        ring_mode = [agent for agent in agents if (session := desk.get(agent)) and session.ring_mode]
        how = phones_for(agents, ring_mode)
        self._off_board(call)
        self._tell_pacers()
        if not isinstance(how, ConnectNow):
            await self.ringing.ring(call, how.agents, now)
            return
        session = desk.get(how.agent)
        assert session is not None, "the board lists logged-in agents only"
        await self.connect(call, session, now)

    async def connect(self, call: InboundCall, session: AgentSession, now: datetime) -> None:
        """Reserve the agent (on a persistent connection) for the call, off the board, and move
        the caller into its conference: the call is offered to it until the caller joins."""
        call.stage, call.agent_id = Stage.OFFERED, session.agent_id
        await self.dialer.agents.take_inbound(session, call.uniqueid, now)
        if call.session is None:
            await self.dialer.move_to_agent(call.uniqueid, session)
            return
        try:  # its flow's session is open: the caller goes on there (`_go_on`)
            await call.session.set_variable(NEXT_VAR, goto(BRIDGE_CONTEXT, session.conference))
        except (AgiHangup, AgiCommandError) as exc:
            await self.dialer.move_failed(call.uniqueid, session, exc)

    async def _go_on(
        self, call: InboundCall, context: str, exten: str = "s", variables: Mapping[str, str] | None = None
    ) -> None:
        """Send the caller on into `context` (with channel `variables` set first). While its flow's
        FastAGI session is open (`call.session`: the flow is queueing it), through the session: the
        variables and NEXT_VAR are set there, and the dialplan goes there once the handler ends the
        session, never by an AMI Redirect, which can land as the session ends by itself and lose the
        caller (REDIRECT_NOTE, `dialer.asterisk.fastagi`). Else by AMI, in the background (hung up
        if Asterisk refuses)."""
        if call.session is None:
            self.dialer.in_background(
                self.dialer.redirect_or_hang_up(call.uniqueid, context, exten, variables)
            )
            return
        try:
            for name, value in (variables or {}).items():
                await call.session.set_variable(name, value)
            await call.session.set_variable(NEXT_VAR, goto(context, exten))
        except AgiCommandError as exc:
            log.warning("could not send %s on to %s: %s; hanging up", call.uniqueid, context, exc)
            await call.session.hangup()
        except AgiHangup:
            pass  # the caller hung up: its hang-up ends the call

    async def _send_on(self, call: InboundCall, target: OverflowTarget, now: datetime) -> None:
        """Overflow: out of its queue to another queue, a number or a voicemail box."""
        dialer = self.dialer
        self._off_board(call)
        self._tell_pacers()
        to = queue_store.overflow_text(target)
        dialer.record_later(inbound_store.overflow, dialer.database, call.call_id, now, to)
        log.info("inbound call %s from %s: overflows to %s", call.call_id, call.caller, to)
        if isinstance(target, ToQueue):
            assert call.waiting is not None
            # a new arrival there, for any of its agents: no longer for one agent (direct, remembered)
            moved = replace(fallen_back(call.waiting), queue=target.queue, arrived=now, remembered=None)
            await self._wait(call, moved)
        elif isinstance(target, ToNumber):
            call.stage = Stage.DIALLED
            await self._go_on(call, OUTBOUND_CONTEXT, target.number)
        else:
            variables = await self.voicemail_variables(call, None, target.box)
            await self._go_on(call, VOICEMAIL_CONTEXT, variables=variables)

    async def voicemail_variables(
        self, call: InboundCall, owner: voicemail_store.Owner | None, name: str
    ) -> dict[str, str]:
        """Send the caller to the voicemail box of agent or queue `name` (`owner` None: an overflow's
        box, by name): the channel variables that record its message after the box's greeting."""
        variables = {VOICEMAIL_VAR: call.leave_message(name)}
        dialer = self.dialer
        box, greeting = await dialer.db.run(voicemail_store.box_for, dialer.database, owner, name)
        if self.calls.get(call.uniqueid) is call:
            self._boxes[call.uniqueid] = box
        if greeting is not None:
            variables[GREETING_VAR] = greeting
        return variables

    def _off_board(self, call: InboundCall) -> None:
        if call.uniqueid in self.board.calls:
            self.board.remove_call(call.uniqueid)
        if call.wake is not None:
            call.wake.cancel()
            call.wake = None

    def _tell_pacers(self) -> None:
        now = time.time()
        for runner in self.dialer.runners.values():
            agents = [session.agent_id for session in self.dialer.desk.dialing(runner.id)]
            runner.observe(InboundWaiting(now, waiting_for(self.board, agents)))

    def screen_pop(self, uniqueid: str) -> dict[str, object] | None:
        """What the agent's screen shows of the inbound call it has (AGT-3, so far): the caller,
        its region, the queue, the priority and the flags (vip, malicious); None for another call."""
        call = self.calls.get(uniqueid)
        if call is None:
            return None
        waiting = call.waiting
        return {
            "caller": call.caller,
            "region": call.region,
            "queue": waiting.queue if waiting else None,
            "priority": waiting.priority if waiting else None,
            "direct": waiting is not None and waiting.direct_agent is not None,
            "flags": list(call.flags),
        }

    # ---- agents and the pbx's events --------------------------------------------------------------

    def agent_changed(self, session: AgentSession) -> None:
        candidate = session.candidate()
        left = candidate.status.state is AgentState.LOGGED_OUT and session.agent_id in self.board.agents
        if self.board.update_agent(candidate):
            self.announcements.changed()  # the staffed agents make the estimated wait
        self.rest.watch(session, candidate, bool(self.board.seats(session.agent_id)))
        if left:
            self.dialer.in_background(self._agent_left(session.agent_id))

    async def _agent_left(self, agent_id: int) -> None:
        """The agent logged out (or lost its phone): the calls its leaving concerns are routed again
        now rather than at their next wake, in the queues' order (priority, then arrival): those
        asking for it (dialled directly, or held for it by caller memory) fall back, overflow or go
        to another agent, and those of a queue nobody is logged in to any more overflow, as each
        would on arriving now. Not while the engine stops: its drain logs every agent out."""
        if self._closed:
            return
        board = self.board
        keys = set(board.asking(agent_id))
        for queue, _, _ in board.seats(agent_id):
            if not board.anyone_logged_in(queue.name):
                keys.update(board.waiting(queue.name))
        for _, _, uniqueid in sorted(keys):
            call = self.calls.get(uniqueid)
            if call is not None and uniqueid in board.calls:
                await self._route(call, announce=False)
        if keys:
            self.announcements.changed()

    async def joined(self, event: ConferenceJoined) -> None:
        """The caller joined the conference of the agent offered its call: the agent is on it."""
        call = self.calls[event.uniqueid]
        if call.stage is not Stage.OFFERED or call.agent_id is None:
            return
        if event.conference != conference_of(call.agent_id):
            return  # the conference of a ring-mode agent whose phone went meanwhile
        at = utc(event.received_at)
        call.stage = Stage.TALKING
        dialer = self.dialer
        dialer.record_later(inbound_store.answer, dialer.database, call.call_id, call.agent_id, at)
        self.turns = self.turns.answered_by(call.agent_id)
        session = dialer.desk.get(call.agent_id)
        if session is not None and session.status.call == call.uniqueid:
            await dialer.agents.step(session, session.status.bridge(at, call.uniqueid))

    async def rescue(self, uniqueid: str) -> None:
        """The agent offered the call lost its phone before the caller joined: the call waits again.
        (A caller already with the agent leaves the conference with it: to its queue's post-call
        survey, if any, else hung up.)"""
        call = self.calls[uniqueid]
        if call.stage is Stage.OFFERED and call.waiting is not None:
            call.stage, call.agent_id = Stage.WAITING, None
            await self._back_on_board(call)

    def offer_failed(self, uniqueid: str) -> None:
        """Moving the caller into its agent's conference, or ringing the phones, failed (Asterisk
        refused, the AMI link is down) and the agents were freed: the caller is still there, so the
        call waits again, back in line after `RETRY_OFFER_S` rather than at once (a link that is
        down is not hammered)."""
        call = self.calls.get(uniqueid)
        if call is None or call.stage not in (Stage.OFFERED, Stage.RINGING) or call.waiting is None:
            return
        self.ringing.drop(uniqueid)  # a ring-mode agent's phone, answered, is hung up
        call.stage, call.agent_id = Stage.WAITING, None
        loop = asyncio.get_running_loop()
        call.wake = loop.call_later(
            RETRY_OFFER_S, lambda: self.dialer.in_background(self._back_in_line(call))
        )

    async def _back_in_line(self, call: InboundCall) -> None:
        call.wake = None
        if (
            self.calls.get(call.uniqueid) is not call
            or call.stage is not Stage.WAITING
            or call.waiting is None
        ):
            return
        await self._back_on_board(call)

    async def hung_up(self, event: ChannelHungUp) -> None:
        call = self.calls[event.uniqueid]
        agent_id = call.agent_id
        self._end(call, utc(event.received_at), event.cause or None)
        await self.ringing.caller_gone(call, event.received_at)
        await self.dialer.release_agent(agent_id, call.uniqueid, event.received_at)

    async def surveyed(self, call: InboundCall, at: datetime) -> None:
        """The caller went on to its queue's survey after its agent (SRV-2): the call ends here,
        answered, and the agent goes to wrap-up; the survey's FastAGI session has the caller."""
        agent_id = call.agent_id
        self._end(call, at, None)
        await self.dialer.release_agent(agent_id, call.uniqueid, at.timestamp())

    def _end(self, call: InboundCall, at: datetime, cause: int | None) -> None:
        dialer = self.dialer
        del self.calls[call.uniqueid]
        dialer.forget_leg(call.uniqueid)
        waiting = call.uniqueid in self.board.calls
        self._off_board(call)
        if waiting:
            self._tell_pacers()
            self.announcements.changed()  # the callers behind it move up
        self.announcements.forget(call.uniqueid)
        box = self._boxes.pop(call.uniqueid, None)
        outcome = call.ends_as()
        if call.stage is Stage.VOICEMAIL and box is not None and call.voicemail is not None:
            dialer.in_background(self._message_left(call.call_id, box, call.voicemail, at, outcome, cause))
        else:
            dialer.record_later(
                inbound_store.end_call, dialer.database, call.call_id, at, outcome, cause, call.voicemail
            )
        log.info("inbound call %s from %s ended: %s", call.call_id, call.caller, outcome.value)

    async def _message_left(
        self,
        call_id: int,
        box: voicemail_store.Box,
        file: str,
        at: datetime,
        outcome: InboundOutcome,
        cause: int | None,
    ) -> None:
        """The call's end in a box: a message only if it recorded one (`ended_in_box`, which reads the
        file in the database thread), told to the box's agents on their screens (IVR-4)."""
        dialer = self.dialer
        notice = await dialer.db.run(
            voicemail_store.ended_in_box,
            dialer.database,
            dialer.pbx_spool,
            call_id,
            box,
            file,
            at,
            outcome,
            cause,
        )
        if notice is None:
            log.info("inbound call %s hung up in %s before leaving a message: abandoned", call_id, box)
            return
        log.info("voicemail message %s in %s: told %s", notice.message["id"], box, ", ".join(notice.agents))
        for agent in notice.agents:
            dialer.screen.pops.publish(agent, "voicemail", at, notice.message)
