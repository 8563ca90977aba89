"""The live dialer service: campaigns' calls through Asterisk, one AMI event at a time.

It runs a `CampaignRunner` per running campaign (`campaign_runners.CampaignRunners`, which
polls the database), originates the calls the runners open, and routes every AMI event to the
call or agent leg it concerns:

- a customer answered (or AMD said human) → the longest-idle ready agent of the campaign is
  reserved and the customer is Redirected into that agent's conference (its phone leg is already
  there, AGT-2); with no agent, the call waits; `connect_within` after the human was known it is
  abandoned: Redirected to the abandon message, then hung up (DIAL-7);
- a customer joined an agent's conference → the agent's number is said into it, when the campaign
  asks for it (AGT-5);
- a call dialled for a reserved agent (preview, click-to-call) goes to that agent on answer;
- a broadcast campaign's call goes to its survey (FastAGI, `dialer.live.surveys`) or its recorded
  message on answer, or on AMD's human verdict (DIAL-5);
- the agent hangs up on a call whose campaign has a post-call survey, or on an inbound caller last
  served by a queue with one → the customer is Redirected into the survey, and the agent goes to
  wrap-up when the survey starts (the attempt or the inbound call ends there, SRV-2; `post_call`);
- a machine → hung up; a hang-up → the attempt is closed (`dial_store.close_attempt`) and the
  agent, if any, goes to wrap-up;
- an agent's leg joined its conference or hung up → `agents.AgentService`, which owns the agents;
  a ring-mode agent's phone rung for an inbound call → `inbound_ringing.InboundRinging` (ACD-6);
- an inbound caller's channel (its FastAGI flow, its queue, its agent) → `inbound_acd.InboundAcd`,
  which shares the agents, their reservation and the move into their conference with outbound
  calls; an agent who becomes ready gets a waiting inbound call before any outbound customer.
  Outbound calls go to agents on a persistent connection only (`AgentDesk.dialing`).

A stop drains (`drain`): no new outbound call and no new inbound caller queued; calls in progress
may end by themselves for a while, then the rest are hung up.

Every state change is persisted through the database thread; the pacer of the call's campaign is
fed each call event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campaigns import dial_store
from campaigns.config import CampaignConfig
from campaigns.dial_store import OpenedAttempt
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import AgentState, AmdResult, CallOutcome, DialMode
from dialer.asterisk.ami import AmiError, AmiLink, OriginateRequest
from dialer.asterisk.confgen import (
    AGI_CONTEXT,
    AGI_ROUTE_VAR,
    AGI_URL_VAR,
    AMD_CONTEXT,
    AMD_USER_EVENT,
    ANNOUNCE_CONTEXT,
    ANNOUNCE_PROMPT_VAR,
    BRIDGE_CONTEXT,
    MESSAGE_CONTEXT,
    MESSAGE_VAR,
    PARK_CONTEXT,
    SURVEY_ROUTE,
    TRUNK_ENDPOINT,
)
from dialer.asterisk.events import (
    AmiEvent,
    ChannelCreated,
    ChannelHungUp,
    ConferenceJoined,
    LinkDown,
    LinkUp,
    OriginateFinished,
    UserEventReceived,
)
from dialer.calls.outbound import CallState, OutboundCall
from dialer.live.agents import AgentService
from dialer.live.attempt_result import attempt_result
from dialer.live.call_controls import CallControls
from dialer.live.campaign_runners import CampaignRunners
from dialer.live.channel_ids import ChannelIds
from dialer.live.dbthread import DatabaseThread
from dialer.live.desk import AgentDesk, AgentSession
from dialer.live.inbound_acd import InboundAcd
from dialer.live.instants import utc
from dialer.live.post_call import PostCallSurveys
from dialer.live.runner import CampaignRunner
from dialer.live.screen_feed import ScreenFeed
from dialer.outcomes import unanswered_outcome
from dialer.pacing import events as pe
from ringcast.errors import UserError

log = logging.getLogger(__name__)

DRAIN_HANGUP_S = 5.0  # a clean stop waits this long for hung-up calls and legs to report their end
HANGUP_GRACE_S = 1.0  # a failed dial's Hangup may come after its OriginateResponse, or not at all
DEFAULT_ABANDON_MESSAGE = "vm-goodbye"
_ORIGINATE = "rc-orig-"  # the ActionID of an originate: this prefix and the channel id
_AMD_RESULTS = {result.value for result in AmdResult}


@dataclass
class _Leg:
    """What is known of a channel the dialer created: a customer's call or an agent's phone leg."""

    channel: str | None = None  # Asterisk channel name (Redirect/Hangup need it)
    originate_reason: int | None = None
    hangup_cause: int | None = None
    hangup_text: str = ""
    timers: list[asyncio.TimerHandle] = field(default_factory=list)


class LiveDialer:
    def __init__(
        self, database: Database, ami: AmiLink, default_region: str = "CN", agi_url: str | None = None
    ) -> None:
        self.database = database
        self.ami = ami
        self.agi_url = agi_url  # agi://host:port of this engine's FastAGI server, for surveys
        self.default_region = default_region  # for numbers agents type without a country code
        self.pbx_spool: Path | None = None  # the pbx's recordings here (voicemail); None: not checked
        self.db = DatabaseThread(database)
        self.channel_ids = ChannelIds.for_database(database.masked_url)
        self.desk = AgentDesk()
        self.agents = AgentService(self)
        self.inbound = InboundAcd(self)
        self.screen = ScreenFeed(self)  # agents' screen pops (AGT-3), read by the control API
        self.controls = CallControls(self)  # in-call controls (AGT-4)
        self.post_call = PostCallSurveys(self)  # customers into the survey after their agent (SRV-2)
        self.campaigns = CampaignRunners(self)
        self.runners = self.campaigns.runners  # by campaign id
        self.calls: dict[str, OutboundCall] = {}  # by channel id
        self.legs: dict[str, _Leg] = {}  # by channel id: customers and agent legs
        self._actions: set[asyncio.Task[None]] = set()  # AMI actions in the background
        ami.subscribe(self._on_event)

    # ---- campaigns --------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.screen.start()  # the last run's screen pops, before the control API serves
        await self.inbound.start()
        self.campaigns.start()

    async def drain(self, timeout_s: float) -> None:
        """A clean stop: no new call, outbound or inbound (a caller no longer queues: its flow plays
        the number's message); calls in progress may end by themselves for `timeout_s` (agents
        may still give dispositions), then the rest are hung up; every agent is logged out. Nothing
        stays open for the next start to reconcile."""
        await self._stop_dialing()
        inbound = self.inbound.calls
        if self.calls or inbound:
            up = len(self.calls) + len(inbound)
            log.info("stopping: %d calls in progress may go on for %.0f s", up, timeout_s)
        await self._until(lambda: not self.calls and not inbound, timeout_s)
        for channel_id in [*self.calls, *inbound]:
            self.in_background(self.hangup_channel(channel_id))
        await self._until(lambda: not self.calls and not inbound, DRAIN_HANGUP_S)
        for session in list(self.desk):
            try:
                await self.agents.logout(session.name)
            except UserError:  # still holding a call whose end has not come: its phone goes
                if session.leg_channel:
                    await self.hangup_channel_named(session.leg_channel)
        await self._until(lambda: not self.desk.sessions, DRAIN_HANGUP_S)
        self.screen.pops.close()  # agents' event streams end: the API can stop

    @staticmethod
    async def _until(done: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not done() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        await self._stop_dialing()
        self.db.close()

    async def _stop_dialing(self) -> None:
        """No campaign launches another call, no inbound caller is queued; the runners' hopper leads
        go back."""
        self.inbound.stop_queueing()
        await self.campaigns.stop()

    # ---- placing calls ----------------------------------------------------------------------------

    async def launch(self, runner: CampaignRunner, opened: OpenedAttempt) -> None:
        """A runner's call: dialled for its campaign."""
        await self.originate_call(runner.config, opened)

    async def originate_call(
        self, config: CampaignConfig, opened: OpenedAttempt, agent: AgentSession | None = None
    ) -> None:
        """Dial an opened attempt; with `agent`, for that agent, already reserved (no AMD, no pacing)."""
        now = time.time()
        call = OutboundCall(
            opened.attempt_id,
            opened.lead.lead_id,
            config.id,
            opened.channel_id,
            dialed_at=now,
            amd=config.amd and agent is None,
            ivr=config.dial_mode is DialMode.BROADCAST,
            agent_id=None if agent is None else agent.agent_id,
        )
        self.calls[call.channel_id] = call
        runner = self.runners.get(config.id)
        if runner is not None:
            runner.lines.add(call.channel_id)
            if agent is None:
                runner.observe(pe.CallDialed(now, call.channel_id))
        request = OriginateRequest(
            channel=f"PJSIP/{opened.lead.e164}@{config.trunk or TRUNK_ENDPOINT}",
            context=AMD_CONTEXT if call.amd else _ivr_context(config) if call.ivr else PARK_CONTEXT,
            caller_id=config.caller_id,
            timeout_ms=int(config.ring_timeout_s * 1000),
            variables=self._call_variables(config),
            channel_id=call.channel_id,
        )
        try:
            await self.originate_leg(request)
        except AmiError as exc:
            # Given back as never dialled; should Asterisk place it after all, its channel is
            # an unknown one of ours and is hung up as it appears (`_on_channel`).
            log.warning("campaign %s: originate of attempt %s failed: %s", config.name, call.attempt_id, exc)
            await self._end_call(call, time.time(), outcome=CallOutcome.CANCELLED, cause_text=str(exc)[:64])

    def _call_variables(self, config: CampaignConfig) -> dict[str, str]:
        """What the dialplan needs to know of a customer's call: the message to play (the abandon
        message, or a broadcast's), and the survey to run (broadcast, or after the agent)."""
        broadcast = config.dial_mode is DialMode.BROADCAST
        message = config.broadcast_message if broadcast else config.abandon_message
        variables = {MESSAGE_VAR: message or DEFAULT_ABANDON_MESSAGE}
        if config.survey_id is not None and self.agi_url is not None:
            variables |= {AGI_URL_VAR: self.agi_url, AGI_ROUTE_VAR: SURVEY_ROUTE}
        return variables

    async def originate_leg(self, request: OriginateRequest) -> None:
        """Originate a channel the dialer follows by its channel id (a customer or an agent's phone);
        its ActionID names the channel, so that its OriginateResponse finds the leg."""
        assert request.channel_id is not None
        self.legs[request.channel_id] = _Leg()
        await self.ami.originate(replace(request, action_id=f"{_ORIGINATE}{request.channel_id}"))

    def follow_leg(self, channel_id: str, channel: str) -> None:
        """Follow a channel the dialer did not create (an inbound caller): its hang-up, its name."""
        self.legs[channel_id] = _Leg(channel)

    def forget_leg(self, channel_id: str) -> None:
        """The channel is gone for good (an outbound customer, an inbound caller, an agent's leg)."""
        self.legs.pop(channel_id, None)
        self.post_call.forget(channel_id)

    def record_later(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """A store call nobody waits for (it opens its own transaction: an inbound call's record),
        queued in the database thread at once (`DatabaseThread.later`): it runs after every write
        and store call asked for before it, and before those asked for after, as `db.submit`'s
        records do (an inbound call's answer before its agent's state change); a failure is logged."""
        self.db.later(work, *args, **kwargs)

    # ---- AMI events -------------------------------------------------------------------------------

    def _on_event(self, event: AmiEvent) -> Any:
        if isinstance(event, OriginateFinished):
            return self._on_originated(event)
        if isinstance(event, ChannelCreated):
            return self._on_channel(event)
        elif isinstance(event, UserEventReceived) and event.name == AMD_USER_EVENT:
            return self._on_amd(event)
        elif isinstance(event, ConferenceJoined):
            return self._on_joined(event)
        elif isinstance(event, ChannelHungUp):
            return self._on_hangup(event)
        elif isinstance(event, LinkDown):
            log.warning("AMI link down: dialing paused")
        elif isinstance(event, LinkUp) and event.reconnect:
            return self._after_reconnect()
        return None

    async def _on_channel(self, event: ChannelCreated) -> None:
        leg = self.legs.get(event.uniqueid)
        if leg is not None:
            leg.channel = leg.channel or event.channel
        elif self.channel_ids.ours(event.uniqueid):
            # ours, but unknown: an originate of a killed engine that Asterisk placed only now,
            # or one whose action failed here; nobody follows it, so it must not ring on
            log.warning("hanging up %s: a call this engine does not follow", event.uniqueid)
            self.in_background(self.hangup_channel_named(event.channel))

    async def _on_originated(self, event: OriginateFinished) -> None:
        channel_id = event.action_id.removeprefix(_ORIGINATE)
        leg = self.legs.get(channel_id)
        if channel_id == event.action_id or leg is None or leg.originate_reason is not None:
            return  # not ours, or already told
        if event.channel and leg.channel is None:
            leg.channel = event.channel
        leg.originate_reason = event.reason
        if self.inbound.ringing.follows(channel_id):
            if not event.success:
                await self.inbound.ringing.leg_ended(channel_id)
            return
        agent_id = self.channel_ids.agent_of(channel_id)
        if agent_id is not None:
            if not event.success:
                self.agents.leg_failed(agent_id)
            return
        call = self.calls.get(channel_id)
        if call is None:  # an announcer (`_announce`), a third party (`call_controls`)
            if not event.success:
                self.forget_leg(channel_id)
                await self.controls.leg_gone(channel_id)
            return
        if event.success and leg.hangup_cause is not None:  # answered and already gone again
            await self._end_call(call.answered(event.received_at), event.received_at, cause=leg.hangup_cause)
        elif event.success:
            await self._answered(call, event.received_at)
        elif leg.hangup_cause is not None:
            await self._failed(call, event.received_at)
        else:
            loop = asyncio.get_running_loop()
            leg.timers.append(
                loop.call_later(HANGUP_GRACE_S, lambda: self.in_background(self._failed_if_up(channel_id)))
            )

    async def _failed_if_up(self, channel_id: str) -> None:
        call = self.calls.get(channel_id)
        if call is not None and call.state is CallState.DIALING:
            await self._failed(call, time.time())

    async def _failed(self, call: OutboundCall, at: float) -> None:
        leg = self.legs[call.channel_id]
        outcome = unanswered_outcome(leg.originate_reason or 0, leg.hangup_cause)
        runner = self.runners.get(call.campaign_id)
        if runner is not None and call.agent_id is None:
            runner.observe(pe.CallFailed(at, call.channel_id, _fail_result(outcome.value)))
        await self.release_agent(call.agent_id, call.channel_id, at)
        await self._finish(call.hung_up(at, leg.hangup_cause, outcome))

    async def _answered(self, call: OutboundCall, at: float) -> None:
        call = call.answered(at)
        self.calls[call.channel_id] = call
        runner = self.runners.get(call.campaign_id)
        if call.state is CallState.CONNECTING:  # dialled for a reserved agent
            session = self.desk.get(call.agent_id)  # type: ignore[arg-type]
            if session is not None and session.status.call == call.channel_id:
                await self.move_to_agent(call.channel_id, session)
            else:  # its agent is gone: any other agent, or the abandon message in time
                self.calls[call.channel_id] = call.unreserve()
                await self._connect(self.calls[call.channel_id])
            return
        if runner is not None:
            runner.observe(pe.CallAnswered(at, call.channel_id))
        if call.state is CallState.WAITING:
            await self._connect(call)

    async def _on_amd(self, event: UserEventReceived) -> None:
        call = self.calls.get(event.uniqueid)
        if call is None or call.state is not CallState.DETECTING:
            return
        status = event.fields.get("Status", "").lower()
        result = AmdResult(status) if status in _AMD_RESULTS else AmdResult.NOTSURE
        call = call.verdict(event.received_at, result, event.fields.get("Cause", ""))
        self.calls[call.channel_id] = call
        runner = self.runners.get(call.campaign_id)
        if runner is not None:
            human = call.state is CallState.WAITING
            runner.observe(pe.AmdVerdict(event.received_at, call.channel_id, human))
        if call.state is CallState.WAITING:
            await self._connect(call)
        elif call.state is CallState.IN_IVR:
            config = await self.campaigns.config(call.campaign_id)
            self.in_background(self.redirect_or_hang_up(call.channel_id, _ivr_context(config)))
        else:
            self.in_background(self.hangup_channel(call.channel_id))

    # ---- connecting humans to agents --------------------------------------------------------------

    async def _connect(self, call: OutboundCall) -> None:
        """Give a waiting human to the longest-idle ready agent, or start the abandon clock."""
        runner = self.runners.get(call.campaign_id)
        resting = None  # no pacer: the desk measures occupancy itself
        if runner is not None:
            decision = runner.last_decision
            resting = frozenset(int(a) for a in decision.resting) if decision else frozenset()
        kept = runner.kept_for_inbound if runner is not None else frozenset()
        session = self.desk.choose(call.campaign_id, datetime.now(UTC), resting, kept)
        if session is None:
            delay = max(self._connect_within(call) - call.waited(time.time()), 0.0)
            loop = asyncio.get_running_loop()
            self.legs[call.channel_id].timers.append(
                loop.call_later(delay, lambda: self.in_background(self._abandon_if_waiting(call.channel_id)))
            )
            return
        now = time.time()
        call = call.reserve(session.agent_id)
        self.calls[call.channel_id] = call
        if runner is not None:
            runner.observe(pe.CallBridged(now, call.channel_id, session.agent_id))
        await self.agents.step(session, session.status.reserve(utc(now), call.channel_id))
        await self.move_to_agent(call.channel_id, session)

    async def move_to_agent(self, channel_id: str, session: AgentSession) -> None:
        """Redirect a held caller (an answered customer, an inbound caller in its queue) into the
        conference of the agent reserved for it: written to Asterisk before anything else runs, its
        result awaited in the background (the next AMI event need not wait for it); if Asterisk
        refuses, the agent is free again and the call ends (an inbound caller waits again instead)."""
        channel = self.channel_name(channel_id)

        async def moved(result: Coroutine[Any, Any, Mapping[str, Any]]) -> None:
            try:
                await result
            except AmiError as exc:
                await self.move_failed(channel_id, session, exc)

        try:
            self.in_background(moved(self.ami.redirect_now(channel, BRIDGE_CONTEXT, session.conference)))
        except AmiError as exc:
            await self.move_failed(channel_id, session, exc)

    async def move_failed(self, channel_id: str, session: AgentSession, why: Exception) -> None:
        """The caller could not be moved into the conference of the agent reserved for it: the
        agent is free again (unless it joined meanwhile); an outbound customer is hung up, an
        inbound caller waits again; a call that has ended meanwhile is left alone."""
        inbound = self.inbound.follows(channel_id)
        outbound = channel_id in self.calls
        then = "it waits again" if inbound else "hanging up" if outbound else "it has ended"
        log.warning("could not move %s to agent %s (%s): %s", channel_id, session.name, why, then)
        if session.status.state is AgentState.RESERVED:  # not joined meanwhile
            await self.release_agent(session.agent_id, channel_id, time.time())
        if inbound:
            self.inbound.offer_failed(channel_id)
        elif outbound:
            await self.hangup_channel(channel_id)

    def in_background(self, action: Coroutine[Any, Any, None]) -> None:
        """Run `action` (an AMI action, a timer's work) without holding up the events behind it;
        failures are logged."""
        task = asyncio.create_task(action)
        self._actions.add(task)
        task.add_done_callback(self._action_done)

    def _action_done(self, task: asyncio.Task[None]) -> None:
        self._actions.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    def _connect_within(self, call: OutboundCall) -> float:
        runner = self.runners.get(call.campaign_id)
        return runner.config.compliance.connect_within.total_seconds() if runner else 2.0

    async def _abandon_if_waiting(self, channel_id: str) -> None:
        call = self.calls.get(channel_id)
        if call is None or call.state is not CallState.WAITING:
            return
        now = time.time()
        call = call.abandon(now)
        self.calls[channel_id] = call
        runner = self.runners.get(call.campaign_id)
        if runner is not None:
            runner.observe(pe.CallAbandoned(now, channel_id))
        self.in_background(self.redirect_or_hang_up(channel_id, MESSAGE_CONTEXT))

    async def redirect_or_hang_up(
        self, channel_id: str, context: str, exten: str = "s", variables: Mapping[str, str] | None = None
    ) -> None:
        """Send a caller on into `context` (its message, its survey, an inbound caller's overflow),
        with channel `variables` set first; hang up if Asterisk refuses."""
        channel = self.channel_name(channel_id)
        try:
            for name, value in (variables or {}).items():
                await self.ami.set_var(channel, name, value)
            await self.ami.redirect(channel, context, exten)
        except AmiError as exc:
            log.warning("could not send %s on to %s: %s", channel_id, context, exc)
            await self.hangup_channel(channel_id)

    async def serve_waiting(self, session: AgentSession) -> None:
        """An agent became ready: a waiting inbound call of its queues goes to it (inbound has
        priority), else, on a persistent connection, the longest-waiting human of its campaign."""
        campaign_id = session.campaign_id
        if not await self.inbound.serve(session.agent_id) and not session.ring_mode:
            waiting = [
                c
                for c in self.calls.values()
                if c.campaign_id == campaign_id and c.state is CallState.WAITING
            ]
            if waiting:
                await self._connect(min(waiting, key=lambda c: c.human_at or 0.0))
        runner = self.runners.get(campaign_id)
        if runner is not None:
            runner.wake()

    async def rescue(self, channel_id: str) -> None:
        """The agent reserved for this call is gone: find it another agent (or abandon it in time)."""
        if self.inbound.follows(channel_id):
            await self.inbound.rescue(channel_id)
            return
        call = self.calls.get(channel_id)
        if call is not None and call.state is CallState.CONNECTING and call.human_at is not None:
            self.calls[channel_id] = call.unreserve()
            await self._connect(self.calls[channel_id])

    async def _on_joined(self, event: ConferenceJoined) -> None:
        agent_id = self.channel_ids.agent_of(event.uniqueid)
        if agent_id is not None:
            leg = self.legs.get(event.uniqueid)
            if leg is not None:
                leg.channel = event.channel
            if self.inbound.ringing.follows(event.uniqueid):
                await self.inbound.ringing.leg_joined(event)
            else:
                await self.agents.leg_joined(agent_id, event)
            return
        if await self.controls.joined(event):
            return
        if self.inbound.follows(event.uniqueid):
            await self.inbound.joined(event)
            return
        call = self.calls.get(event.uniqueid)
        agent_id = call.agent_id if call is not None else None
        if call is None or call.state is not CallState.CONNECTING or agent_id is None:
            return
        call = call.joined(event.received_at)
        self.calls[call.channel_id] = call
        session = self.desk.get(agent_id)
        if session is not None:  # the agent's own phone leg may have gone meanwhile
            session.last_attempt_id = call.attempt_id
            await self.agents.step(session, session.status.bridge(utc(event.received_at), call.channel_id))
            if session.announce:
                self.in_background(self._announce(call, session.announce, session.conference))

    async def _announce(self, call: OutboundCall, digits: str, conference: str) -> None:
        """Say the agent's number into its conference, where the customer has just joined (AGT-5):
        a Local channel joins it like a customer and leaves when the announcement ends, or is hung
        up with the call (`_finish`)."""
        config = await self.campaigns.config(call.campaign_id)
        channel_id = _announcer_of(call.channel_id)
        request = OriginateRequest(
            channel=f"Local/{digits}@{ANNOUNCE_CONTEXT}",
            context=BRIDGE_CONTEXT,
            exten=conference,
            timeout_ms=5_000,
            variables={ANNOUNCE_PROMPT_VAR: config.announce_prompt or ""},
            channel_id=channel_id,
        )
        try:
            await self.originate_leg(request)
        except AmiError as exc:
            self.forget_leg(channel_id)
            log.warning("could not announce agent number %s to %s: %s", digits, call.channel_id, exc)

    # ---- hang-ups ---------------------------------------------------------------------------------

    async def _on_hangup(self, event: ChannelHungUp) -> None:
        leg = self.legs.get(event.uniqueid)
        if leg is None:
            return
        leg.hangup_cause, leg.hangup_text = event.cause, event.cause_text
        if self.inbound.ringing.follows(event.uniqueid):
            await self.inbound.ringing.leg_ended(event.uniqueid)
            return
        agent_id = self.channel_ids.agent_of(event.uniqueid)
        if agent_id is not None:
            self.legs.pop(event.uniqueid, None)
            await self.agents.leg_gone(agent_id, event.uniqueid, event.received_at)
            return
        if self.controls.is_third(event.uniqueid):
            self.forget_leg(event.uniqueid)
            await self.controls.leg_gone(event.uniqueid)
            return
        if self.inbound.follows(event.uniqueid):
            await self.controls.call_ended(event.uniqueid)
            await self.inbound.hung_up(event)
            return
        call = self.calls.get(event.uniqueid)
        if call is None:  # an announcer
            self.forget_leg(event.uniqueid)
            return
        if call.state is CallState.DIALING:
            if leg.originate_reason is not None:
                await self._failed(call, event.received_at)
            return  # the OriginateResponse will tell
        await self.controls.call_ended(call.channel_id)
        await self._end_call(call, event.received_at, cause=event.cause, cause_text=event.cause_text)

    async def _end_call(
        self,
        call: OutboundCall,
        at: float,
        *,
        outcome: CallOutcome | None = None,
        cause: int | None = None,
        cause_text: str = "",
    ) -> None:
        runner = self.runners.get(call.campaign_id)
        ended = call.hung_up(at, cause)
        if outcome is not None:
            ended = replace(ended, outcome=outcome)
        if runner is not None and call.agent_id is None:
            if call.state is CallState.WAITING:
                runner.observe(pe.CallAbandoned(at, call.channel_id))
            elif call.state in (CallState.DIALING, CallState.DETECTING):
                runner.observe(pe.CallFailed(at, call.channel_id, pe.FailResult.FAILED))
        await self.release_agent(call.agent_id, call.channel_id, at)
        await self._finish(ended, cause_text)

    async def finish_transferred(self, call: OutboundCall) -> None:
        """An outbound customer an agent transferred to a queue: its attempt ends answered here (the
        customer goes on as an inbound call of that queue, already followed as one: its leg is kept,
        `call_controls.as_inbound`)."""
        await self._finish(call.hung_up(time.time(), None))

    async def release_agent(self, agent_id: int | None, channel_id: str, at: float) -> None:
        """The call's agent (reserved, or talking) is free: back to ready, or into wrap-up."""
        session = self.desk.get(agent_id) if agent_id is not None else None
        if session is not None and session.status.call == channel_id:
            await self.agents.step(session, session.status.hangup(utc(at), channel_id, session.wrap))

    async def _finish(self, call: OutboundCall, cause_text: str = "") -> None:
        """Forget the call and record its attempt."""
        self.calls.pop(call.channel_id, None)
        leg = self.legs.get(call.channel_id)
        if not self.inbound.follows(call.channel_id):  # else gone on as an inbound call, still followed
            self.forget_leg(call.channel_id)
        for timer in leg.timers if leg else ():
            timer.cancel()
        if _announcer_of(call.channel_id) in self.legs:
            self.in_background(self.hangup_channel(_announcer_of(call.channel_id)))
        runner = self.runners.get(call.campaign_id)
        if runner is not None:
            runner.lines.discard(call.channel_id)
            runner.wake()
        config = await self.campaigns.config(call.campaign_id)
        result = attempt_result(call, cause_text or (leg.hangup_text if leg else ""))
        self.db.submit(dial_store.close_attempt, config, result)
        session = self.desk.get(call.agent_id) if call.agent_id is not None else None
        if call.outcome is CallOutcome.ANSWERED and (
            session is None or session.last_attempt_id != call.attempt_id
        ):
            self.settle_undisposed(call.campaign_id, call.attempt_id)  # its agent is gone

    def settle_undisposed(self, campaign_id: int, attempt_id: int) -> None:
        """An answered call that will get no disposition: retried after the rules' `answered` delay."""
        runner = self.runners.get(campaign_id)
        if runner is not None:
            self.db.submit(dial_store.settle_undisposed, runner.config, attempt_id, datetime.now(UTC))
        else:  # its campaign stopped meanwhile
            self.in_background(self._settle_for_stopped_campaign(campaign_id, attempt_id))

    async def _settle_for_stopped_campaign(self, campaign_id: int, attempt_id: int) -> None:
        config = await self.campaigns.config(campaign_id)
        self.db.submit(dial_store.settle_undisposed, config, attempt_id, datetime.now(UTC))

    async def hangup_channel(self, channel_id: str) -> None:
        await self.hangup_channel_named(self.channel_name(channel_id))

    def channel_name(self, channel_id: str) -> str:
        """The Asterisk channel name of a leg of ours, once known; its uniqueid serves until then."""
        leg = self.legs.get(channel_id)
        return leg.channel if leg and leg.channel else channel_id

    async def hangup_channel_named(self, channel: str) -> None:
        try:
            await self.ami.hangup(channel)
        except AmiError as exc:
            log.info("hang-up of %s: %s", channel, exc)

    async def _after_reconnect(self) -> None:
        """Calls and legs that ended while the link was down are closed as Asterisk now reports them."""
        alive = {snapshot.uniqueid: snapshot for snapshot in await self.ami.channels()}
        now = time.time()
        for channel_id in [c for c in self.legs if c not in alive]:
            leg = self.legs.get(channel_id)
            if leg is None:  # finished meanwhile
                continue
            if leg.originate_reason is None:
                leg.originate_reason = 0  # its OriginateResponse was lost with the link
            await self._on_hangup(
                ChannelHungUp(now, channel_id, "", "", 0, "gone while the AMI link was down")
            )
        await self.inbound.ringing.after_reconnect(alive)
        for runner in self.runners.values():
            runner.wake()
        await self.inbound.publish_agi_url()  # a restarted pbx has lost it

    # ---- views ------------------------------------------------------------------------------------


def _ivr_context(config: CampaignConfig) -> str:
    """Where a broadcast campaign's answered human goes: its survey, else its message."""
    return AGI_CONTEXT if config.survey_id is not None else MESSAGE_CONTEXT


def _announcer_of(channel_id: str) -> str:
    """The uniqueid of the Local channel announcing the agent to call `channel_id` (not `ours()`:
    a restarted engine leaves it to end by itself within seconds)."""
    return f"{channel_id}-announce"


def _fail_result(outcome: str) -> pe.FailResult:
    if outcome in ("busy", "no_answer", "invalid"):
        return pe.FailResult(outcome)
    return pe.FailResult.FAILED
