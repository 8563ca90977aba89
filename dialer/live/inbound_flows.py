"""Inbound calls' FastAGI route `inbound` (IVR-1..4, ACD-9, ACD-10): the DID's flow, or the agent or
queue it goes straight to, on the caller's channel.

The pbx answers a call from the trunk and runs this route (context `ringcast-inbound`: the DID is
the extension, the linkedid the AGI's argument). The handler looks the call up and opens its record in
one trip to the database thread (`inbound_lookup.arrive`, with the flows it has parsed:
`flow_cache`, one parse per flow version) and has the ACD follow it. Then, before anything is
said to the caller:

- screening (`dialer.acd.screening`, ACD-10): a blacklisted caller is refused at once as the
  number's flow or direct route says (`blacklisted`: busy, or the number's message), whatever the
  flow would have played or asked; a malicious one goes on, flagged;
- a flow: its text prompts rendered (once per flow version, `RenderOnce`), the pure `FlowRun`
  driven. `Play` → STREAM FILE; `Collect` → GET DATA: the prompt (a key cuts it short), then the
  timeout, for up to `max_digits` keys (`#` also ends it: GET DATA's only terminator) → `Digits`,
  `Timeout`; `RunSurvey` → the survey asked in this same session (`SurveyCalls.ask_named`, its
  response linked to the call; a hang-up leaves it partial) → `SurveyEnded`;
- a number dialled straight to an agent or a queue (`direct`, ACD-9): the final action a one-node
  flow would give (`direct.direct_final`);
- neither at that moment: the number's default message, then the hang-up: never dead air.

The end: `RouteToQueue` → the dialplan holds the caller with the queue's music and the ACD routes
it (`InboundAcd.enqueue`); the session is the call's (`InboundCall.session`) while it is queued,
so that the ACD moves a caller it sends on at once (a ready agent, an overflow, a refusal)
through the session, never by a Redirect that could race the session's end (REDIRECT_NOTE,
`dialer.asterisk.fastagi`); `RouteToAgent` → the same, in the given queue (or the
agent's first), the call asking for that agent alone; `Dial` → where the dialplan sends the
caller after this route (NEXT_VAR); `Voicemail` → the same, with the box's greeting
(`InboundAcd.voicemail_variables`); `BackToAgent` (a DID's caller: nobody sent it) → its fallback
queue; `Hangup` → hung up. A caller held in a queue has the channel variable of the survey route
set, so that when its agent leaves the conference first it goes to route `survey`, which asks the
survey of the queue that served it last, if that queue has one (SRV-2), and hangs up otherwise.

The trail (随路信息) is recorded with the caller's flags (vip, malicious) for the screen pop: a
flow's path, inputs, variables and outcome when it ends or the caller hangs up in it; a direct
number's route (`directory`) and outcome; a refused caller's outcome.

The route `flow` (IVR-6, context `ringcast-flow`, `handle_sent`) runs the flow an agent sent its
caller into (the flow's name the AGI's argument, the call the channel's uniqueid): a caller the
engine knows, inbound or an outbound customer (its customer record is its lead's), the flow's
active version. Its trail is appended to the call's (`control_store.record_sent_flow`). `BackToAgent`
→ NEXT_VAR into the conference of the agent kept for the caller (`CallControls.flow_returned`);
that agent gone (or nobody sent the caller), the node's fallback queue. Any other end releases the
agent and is carried out as above, an outbound customer first becoming an inbound call (as a
transfer to a queue makes it, `CallControls.as_inbound`).
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from campaigns import agent_store, control_store, hopper, inbound_store, ivr_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import Lead
from campaigns.surveys.responses import SurveyedCall
from dialer.acd.commands import FlagMalicious, Refusal, Refuse
from dialer.acd.screening import CallerFlags, screen
from dialer.asterisk.confgen import (
    AGI_ROUTE_VAR,
    BRIDGE_CONTEXT,
    BUSY_CONTEXT,
    MOH_VAR,
    NEXT_VAR,
    OUTBOUND_CONTEXT,
    QUEUE_HOLD_CONTEXT,
    SURVEY_ROUTE,
    VOICEMAIL_CONTEXT,
    goto,
)
from dialer.asterisk.fastagi import AgiCall, AgiHangup
from dialer.asterisk.prompts import Message
from dialer.ivr.actions import (
    BackToAgent,
    Collect,
    Dial,
    Digits,
    Final,
    Hangup,
    HungUp,
    Play,
    RouteToAgent,
    RouteToQueue,
    RunSurvey,
    SurveyEnded,
    Timeout,
    Voicemail,
)
from dialer.ivr.direct import DirectRoute, direct_final
from dialer.ivr.facts import MALICIOUS, VIP, CallerFacts
from dialer.ivr.run import CallTrail, FlowRun
from dialer.live.flow_cache import FlowCache
from dialer.live.inbound_call import InboundCall, Stage
from dialer.live.inbound_lookup import Arrival, arrive
from dialer.live.surveys import SurveyCalls
from ringcast.errors import UserError

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)

MESSAGE_LANGUAGE = "zh"  # of an inbound number's default message (TTS)
FLAGGED = (VIP, MALICIOUS)  # the caller's tags shown as flags on the agent's screen


class InboundFlows:
    def __init__(self, dialer: LiveDialer, surveys: SurveyCalls) -> None:
        self.dialer = dialer
        self.acd = dialer.inbound
        self.surveys = surveys  # asks a flow's survey nodes
        self.rendered = surveys.rendered  # one for the engine: a prompt is rendered once
        self.prompts = surveys.prompts
        self.acd.rendered = self.rendered  # the queues' announcements are rendered by the same one
        self._flows = FlowCache()  # the flows' parsed versions, used in the database thread

    async def handle(self, agi: AgiCall) -> None:
        dialer = self.dialer
        arrived = datetime.now(UTC)
        did, caller_id = agi.headers.get("agi_extension", ""), agi.headers.get("agi_callerid", "")
        arrival, call_id = await dialer.db.run(
            arrive,
            dialer.database,
            self._flows,
            did,
            caller_id,
            arrived,
            dialer.default_region,
            uniqueid=agi.uniqueid,
            linkedid=agi.headers.get("agi_arg_1") or None,
        )
        caller = arrival.caller
        flags = tuple(tag for tag in FLAGGED if caller.tagged(tag))
        call = InboundCall(
            call_id,
            agi.uniqueid,
            caller.number,
            caller.region,
            arrived,
            flags=flags,
            last_served=arrival.last_served,
        )
        self.acd.arrived(call, agi.channel)
        try:
            await self._answer(agi, call, arrival)
        except AgiHangup:
            self.acd.ended_in_flow(call, datetime.now(UTC))
            raise

    async def handle_sent(self, agi: AgiCall) -> None:
        """A caller an agent sent into a flow (IVR-6): the flow, then back to the agent or on."""
        dialer = self.dialer
        name, uniqueid = agi.headers.get("agi_arg_1", ""), agi.uniqueid
        inbound, outbound = self.acd.calls.get(uniqueid), dialer.calls.get(uniqueid)
        if inbound is None and outbound is None:
            log.error("flow %s asked for %s, a call the engine does not follow: hung up", name, uniqueid)
            await agi.hangup()
            return
        if inbound is not None:
            caller = CallerFacts(inbound.caller, inbound.region, frozenset(inbound.flags))
            arrival = await dialer.db.run(_sent_arrival, dialer.database, self._flows, name, caller)
        else:
            assert outbound is not None
            arrival = await dialer.db.run(
                _sent_arrival, dialer.database, self._flows, name, None, outbound.lead_id
            )
        assert arrival.flow is not None
        await self.rendered.ready(("flow", arrival.flow.name, arrival.flow.version), arrival.flow.flow)
        run = FlowRun(arrival.flow.flow, arrival.caller, datetime.now(UTC))
        if inbound is not None:
            surveyed = SurveyedCall(agent_id=inbound.agent_id, inbound_call_id=inbound.call_id)
        else:
            assert outbound is not None
            surveyed = SurveyedCall(outbound.attempt_id, outbound.agent_id, outbound.campaign_id)
        try:
            final = await self._walk_to_end(agi, run, surveyed)
        finally:
            ids = {
                "inbound_call_id": inbound.call_id if inbound is not None else None,
                "attempt_id": outbound.attempt_id if outbound is not None else None,
            }
            dialer.record_later(control_store.record_sent_flow, dialer.database, run.trail.as_json(), **ids)
        await self._after_sent(agi, uniqueid, arrival, run.trail, final)

    async def _after_sent(
        self, agi: AgiCall, uniqueid: str, arrival: Arrival, trail: CallTrail, final: Final
    ) -> None:
        """Back into the agent's conference, or on as the flow's end (or `back`'s fallback) says."""
        controls = self.dialer.controls
        if isinstance(final, BackToAgent):
            agent = controls.flow_returned(uniqueid, trail)
            if agent is not None:
                await agi.set_variable(NEXT_VAR, goto(BRIDGE_CONTEXT, agent.conference))
                return
            log.info(
                "call %s: back from flow %s, its agent gone: queue %s", uniqueid, trail.flow, final.fallback
            )
            final = RouteToQueue(final.fallback)
        await controls.flow_ended(uniqueid)
        call = await controls.as_inbound(uniqueid)
        if call is None:  # the customer hung up meanwhile
            raise AgiHangup
        await self._carry_out(agi, call, arrival, final)

    async def _answer(self, agi: AgiCall, call: InboundCall, arrival: Arrival) -> None:
        """Screen the caller (ACD-10) before anything is said, then its flow, its direct route or
        the number's message."""
        flags = CallerFlags(arrival.blacklisted, arrival.caller.tagged(MALICIOUS))
        screened = screen(call.uniqueid, flags, arrival.refuse_with)
        if isinstance(screened, Refuse):
            await self._refuse(agi, call, arrival, screened.how)
            return
        if isinstance(screened, FlagMalicious):
            log.warning("inbound call %s: %s is flagged malicious", call.call_id, call.caller)
        if arrival.flow is not None:
            await self._run_flow(agi, call, arrival)
        elif arrival.direct is not None:
            await self._go_direct(agi, call, arrival, arrival.direct)
        else:
            await self._say_message(agi, arrival)

    async def _refuse(self, agi: AgiCall, call: InboundCall, arrival: Arrival, how: Refusal) -> None:
        """A blacklisted caller, refused busy or with the number's message, and nothing else said."""
        log.info("inbound call %s: %s is blacklisted, refused (%s)", call.call_id, call.caller, how.value)
        call.stage = Stage.REFUSED
        self._record_trail(call, arrival, _trail_before_any_node(arrival, f"refused ({how.value})"))
        if how is Refusal.BUSY:
            await agi.set_variable(NEXT_VAR, goto(BUSY_CONTEXT))
        else:
            await self._say_message(agi, arrival)

    async def _go_direct(self, agi: AgiCall, call: InboundCall, arrival: Arrival, route: DirectRoute) -> None:
        """A number dialled straight to an agent or a queue (ACD-9): as a one-node flow would send it."""
        final = direct_final(route, arrival.caller)
        self._record_trail(call, arrival, _trail_before_any_node(arrival, str(final)))
        await self._carry_out(agi, call, arrival, final)

    async def _run_flow(self, agi: AgiCall, call: InboundCall, arrival: Arrival) -> None:
        stored = arrival.flow
        assert stored is not None
        await self.rendered.ready(("flow", stored.name, stored.version), stored.flow)
        run = FlowRun(stored.flow, arrival.caller, call.arrived_at)
        try:
            final = await self._walk_to_end(agi, run, SurveyedCall(inbound_call_id=call.call_id))
        finally:
            self._record_trail(call, arrival, run.trail.as_json())
        await self._carry_out(agi, call, arrival, final)

    def _record_trail(self, call: InboundCall, arrival: Arrival, trail: dict[str, Any]) -> None:
        """Keep the call's trail with its flow's name and the caller's flags (through the database thread)."""
        dialer = self.dialer
        flow = arrival.flow.name if arrival.flow is not None else None
        flagged = trail | ({"flags": list(call.flags)} if call.flags else {})
        dialer.record_later(inbound_store.record_trail, dialer.database, call.call_id, flow, flagged)

    async def _carry_out(self, agi: AgiCall, call: InboundCall, arrival: Arrival, final: Final) -> None:
        """Where the caller goes at the end of its flow (or its direct route)."""
        if isinstance(final, RouteToQueue):
            await self._queue(agi, call, arrival, final.queue, final.priority)
        elif isinstance(final, RouteToAgent):
            await self._to_agent(agi, call, arrival, final)
        elif isinstance(final, Dial):
            call.stage = Stage.DIALLED
            await agi.set_variable(NEXT_VAR, goto(OUTBOUND_CONTEXT, final.number))
        elif isinstance(final, Voicemail):  # the box's greeting, then the message (IVR-4)
            for name, value in (await self.acd.voicemail_variables(call, final.owner, final.name)).items():
                await agi.set_variable(name, value)
            await agi.set_variable(NEXT_VAR, goto(VOICEMAIL_CONTEXT))
        elif isinstance(final, BackToAgent):  # a DID's caller: nobody sent it, so `back`'s fallback
            await self._queue(agi, call, arrival, final.fallback, 0)
        else:
            assert isinstance(final, Hangup)
            await agi.hangup()

    async def _walk_to_end(self, agi: AgiCall, run: FlowRun, surveyed: SurveyedCall) -> Final:
        """`_walk`; a caller hanging up in the flow ends its run (`caller hung up` in its trail)."""
        try:
            return await self._walk(agi, run, surveyed)
        except AgiHangup:
            if not run.finished:
                run.feed(HungUp())
            raise

    async def _walk(self, agi: AgiCall, run: FlowRun, surveyed: SurveyedCall) -> Final:
        """Play, collect and ask surveys as the flow says, up to its end; a survey's response is
        linked to `surveyed`."""
        language = run.flow.language
        actions = deque(run.start())
        while True:
            action = actions.popleft()
            if isinstance(action, Play):
                await agi.stream_file(self.prompts.sound(action.prompt, language))
            elif isinstance(action, Collect):
                sound = self.prompts.sound(action.prompt, language)
                keys = await agi.get_data(sound, round(action.timeout_s * 1000), action.max_digits)
                actions.extend(run.feed(Digits(keys) if keys else Timeout()))
            elif isinstance(action, RunSurvey):
                await self.surveys.ask_named(agi, action.survey, surveyed)
                actions.extend(run.feed(SurveyEnded()))
            else:
                return action

    async def _to_agent(self, agi: AgiCall, call: InboundCall, arrival: Arrival, final: RouteToAgent) -> None:
        """Direct to one agent (ACD-9): it waits in the given queue, else the agent's first one."""
        dialer = self.dialer
        try:
            agent = await dialer.db.run(agent_store.load_agent, dialer.database, final.agent)
        except UserError as exc:
            log.error("inbound call %s: %s; the number's message instead", call.call_id, exc)
            call.stage = Stage.FAILED
            await self._say_message(agi, arrival)
            return
        queue = final.queue or await self.acd.home_queue(agent.id)
        await self._queue(agi, call, arrival, queue, final.priority, agent.id, final.fallback_after_s)

    async def _queue(
        self,
        agi: AgiCall,
        call: InboundCall,
        arrival: Arrival,
        name: str | None,
        priority: int,
        agent: int | None = None,
        fallback_after_s: float | None = None,
    ) -> None:
        """Hold the caller in queue `name` (asking for `agent`, if given, until its fallback)."""
        queue = await self.acd.queue(name) if name is not None else None
        if queue is None:
            log.error("inbound call %s: no queue %r; the number's message instead", call.call_id, name)
            call.stage = Stage.FAILED
            await self._say_message(agi, arrival)
            return
        await agi.set_variable(MOH_VAR, queue.music_class)
        await agi.set_variable(AGI_ROUTE_VAR, SURVEY_ROUTE)  # after the agent: its queue's survey, if any
        await agi.set_variable(NEXT_VAR, goto(QUEUE_HOLD_CONTEXT))
        call.session = agi  # moved on at once (an agent ready, an overflow): through the session
        try:
            await self.acd.enqueue(call, queue.name, priority, agent, fallback_after_s)
        finally:
            call.session = None  # the session ends: the caller is held there, or goes where it was sent

    async def _say_message(self, agi: AgiCall, arrival: Arrival) -> None:
        """The number's default message, then the hang-up."""
        message = Message(arrival.message, MESSAGE_LANGUAGE)
        await self.rendered.ready(("message", message), message)
        await agi.stream_file(self.prompts.sound(message.prompt, message.language))
        await agi.hangup()


def _sent_arrival(
    database: Database, flows: FlowCache, name: str, caller: CallerFacts | None, lead_id: int | None = None
) -> Arrival:
    """Flow `name` (active) for a caller an agent sent into it, with the customer record: an outbound
    customer's own lead (`lead_id`), an inbound `caller`'s latest one. Its message is the default one."""
    with database.session() as session:
        stored = flows.get(session, name)
        if not stored.active:
            raise UserError(f"flow {name} is not active")
        if lead_id is not None:
            lead = session.get_one(Lead, lead_id)
            caller = CallerFacts(lead.e164, customer=dict(lead.attributes))
        else:
            assert caller is not None
            record = hopper.latest_lead(session, caller.number)
            caller = CallerFacts(
                caller.number, caller.region, caller.tags, record.attributes if record else {}
            )
    return Arrival(stored, None, ivr_store.DEFAULT_MESSAGE, caller, blacklisted=False)


def _trail_before_any_node(arrival: Arrival, outcome: str) -> dict[str, Any]:
    """The trail of a call that ends, or goes on, before any flow node: refused, or dialled straight
    to an agent or a queue (its `directory` route)."""
    if arrival.flow is not None:
        return CallTrail(arrival.flow.name, (), (), {}, outcome).as_json()
    if arrival.direct is not None:
        return {"directory": arrival.direct.target(), "outcome": outcome}
    return {"outcome": outcome}
