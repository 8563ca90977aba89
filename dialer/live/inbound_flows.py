"""Inbound calls' FastAGI route `inbound` (IVR-1..4): the DID's flow, run on the caller's channel.

The pbx answers a call from the trunk and runs this route (context `ringcast-inbound`: the DID is
the extension, the linkedid the AGI's argument). The handler looks the call up (`inbound_lookup`,
with the flows it has parsed: `flow_cache`, one parse per flow version),
opens its record (`inbound_store.open_call`), has the ACD follow it, renders the flow's text
prompts (once per flow version) and drives the pure `FlowRun`:

- `Play` → STREAM FILE; `Collect` → GET DATA: the prompt (a key cuts it short), then the timeout,
  for up to `max_digits` keys (`#` also ends it: GET DATA's only terminator) → `Digits`, `Timeout`;
- the flow's end: `RouteToQueue` → screening (ACD-10: a blacklisted caller is refused as the flow
  says, with the number's message or busy; a malicious one goes on, flagged), then the queue: the
  dialplan holds the caller with the queue's music and the ACD routes it (`InboundAcd.enqueue`);
  `RouteToAgent` (ACD-9) → the same, in the node's queue (or the agent's first), the call asking
  for that agent alone; `Dial` and `Voicemail` → where the dialplan sends the caller after this
  route (NEXT_VAR); `Hangup` → hung up. `RunSurvey` is not carried out yet: the caller hears the
  number's message and the call ends failed.

A DID without a flow at that moment says its default message and hangs up: never dead air. The
trail (path, inputs, variables, outcome; 随路信息) is recorded when the flow ends, or when the caller
hangs up in it, with the caller's flags (vip, malicious: from its tags) for the screen pop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from campaigns import agent_store, inbound_store
from dialer.acd.commands import FlagMalicious, Refusal, Refuse
from dialer.acd.screening import CallerFlags, screen
from dialer.asterisk.confgen import (
    BUSY_CONTEXT,
    MOH_VAR,
    NEXT_VAR,
    OUTBOUND_CONTEXT,
    QUEUE_HOLD_CONTEXT,
    VOICEMAIL_CONTEXT,
    VOICEMAIL_VAR,
    goto,
)
from dialer.asterisk.fastagi import AgiCall, AgiHangup
from dialer.asterisk.prompts import Message, PromptLibrary, Spoken
from dialer.ivr.actions import (
    Collect,
    Dial,
    Digits,
    Final,
    Hangup,
    HungUp,
    Play,
    RouteToAgent,
    RouteToQueue,
    Timeout,
    Voicemail,
)
from dialer.ivr.facts import MALICIOUS, VIP
from dialer.ivr.run import FlowRun
from dialer.live.flow_cache import FlowCache
from dialer.live.inbound_call import InboundCall, Stage
from dialer.live.inbound_lookup import Arrival, look_up
from ringcast.errors import UserError

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)

MESSAGE_LANGUAGE = "zh"  # of an inbound number's default message (TTS)
FLAGGED = (VIP, MALICIOUS)  # the caller's tags shown as flags on the agent's screen


class InboundFlows:
    def __init__(self, dialer: LiveDialer, prompts: PromptLibrary) -> None:
        self.dialer = dialer
        self.acd = dialer.inbound
        self.prompts = prompts
        self._flows = FlowCache()  # the flows' parsed versions, used in the database thread
        self._rendered: set[Hashable] = set()
        self._rendering = asyncio.Lock()

    async def handle(self, agi: AgiCall) -> None:
        dialer = self.dialer
        arrived = datetime.now(UTC)
        did, caller_id = agi.headers.get("agi_extension", ""), agi.headers.get("agi_callerid", "")
        arrival = await dialer.db.run(
            look_up, dialer.database, self._flows, did, caller_id, arrived, dialer.default_region
        )
        caller = arrival.caller
        call_id = await dialer.db.run(
            inbound_store.open_call,
            dialer.database,
            uniqueid=agi.uniqueid,
            linkedid=agi.headers.get("agi_arg_1") or None,
            did=did,
            caller=caller.number,
            region=caller.region,
            arrived_at=arrived,
        )
        flags = tuple(tag for tag in FLAGGED if caller.tagged(tag))
        call = InboundCall(call_id, agi.uniqueid, caller.number, caller.region, arrived, flags=flags)
        self.acd.arrived(call, agi.channel)
        try:
            if arrival.flow is None:
                await self._say_message(agi, arrival)
                return
            await self._run_flow(agi, call, arrival)
        except AgiHangup:
            self.acd.ended_in_flow(call, datetime.now(UTC))
            raise

    async def _run_flow(self, agi: AgiCall, call: InboundCall, arrival: Arrival) -> None:
        stored = arrival.flow
        assert stored is not None
        await self._render((stored.name, stored.version), stored.flow)
        run = FlowRun(stored.flow, arrival.caller, call.arrived_at)
        try:
            final = await self._walk(agi, run)
        except AgiHangup:
            if not run.finished:
                run.feed(HungUp())
            raise
        finally:
            dialer = self.dialer
            trail = run.trail.as_json() | ({"flags": list(call.flags)} if call.flags else {})
            dialer.record_later(inbound_store.record_trail, dialer.database, call.call_id, stored.name, trail)
        if isinstance(final, RouteToQueue):
            await self._queue(agi, call, arrival, final.queue, final.priority)
        elif isinstance(final, RouteToAgent):
            await self._to_agent(agi, call, arrival, final)
        elif isinstance(final, Dial):
            call.stage = Stage.DIALLED
            await agi.set_variable(NEXT_VAR, goto(OUTBOUND_CONTEXT, final.number))
        elif isinstance(final, Voicemail):
            await agi.set_variable(VOICEMAIL_VAR, call.leave_message(final.name))
            await agi.set_variable(NEXT_VAR, goto(VOICEMAIL_CONTEXT))
        elif isinstance(final, Hangup):
            await agi.hangup()
        else:
            log.error("inbound call %s: %s is not carried out yet: the number's message", call.call_id, final)
            call.stage = Stage.FAILED
            await self._say_message(agi, arrival)

    async def _walk(self, agi: AgiCall, run: FlowRun) -> Final:
        """Play and collect what the flow asks, up to its end."""
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
            else:
                return action

    async def _to_agent(self, agi: AgiCall, call: InboundCall, arrival: Arrival, final: RouteToAgent) -> None:
        """Direct to one agent (ACD-9): it waits in the node's queue, else the agent's first one."""
        dialer = self.dialer
        try:
            agent = await dialer.db.run(agent_store.load_agent, dialer.database, final.agent)
        except UserError as exc:
            log.error("inbound call %s: %s; the number's message instead", call.call_id, exc)
            call.stage = Stage.FAILED
            await self._say_message(agi, arrival)
            return
        queue = final.queue or await self.acd.home_queue(agent.id)
        await self._queue(agi, call, arrival, queue, final.priority, agent.id)

    async def _queue(
        self,
        agi: AgiCall,
        call: InboundCall,
        arrival: Arrival,
        name: str | None,
        priority: int,
        agent: int | None = None,
    ) -> None:
        """Screen the caller (ACD-10), then hold it in queue `name` (asking for `agent`, if given)."""
        assert arrival.flow is not None
        queue = await self.acd.queue(name) if name is not None else None
        flags = CallerFlags(arrival.blacklisted, arrival.caller.tagged(MALICIOUS))
        screened = screen(call.uniqueid, flags, Refusal(arrival.flow.flow.blacklisted))
        if queue is None:
            log.error("inbound call %s: no queue %r; the number's message instead", call.call_id, name)
            call.stage = Stage.FAILED
        elif isinstance(screened, Refuse):
            how = screened.how.value
            log.info("inbound call %s: %s is blacklisted, refused (%s)", call.call_id, call.caller, how)
            call.stage = Stage.REFUSED
            if screened.how is Refusal.BUSY:
                await agi.set_variable(NEXT_VAR, goto(BUSY_CONTEXT))
                return
        else:
            if isinstance(screened, FlagMalicious):
                log.warning("inbound call %s: %s is flagged malicious", call.call_id, call.caller)
            await agi.set_variable(MOH_VAR, queue.music_class)
            await agi.set_variable(NEXT_VAR, goto(QUEUE_HOLD_CONTEXT))
            await self.acd.enqueue(call, queue.name, priority, agent)
            return
        await self._say_message(agi, arrival)

    async def _say_message(self, agi: AgiCall, arrival: Arrival) -> None:
        """The number's default message, then the hang-up."""
        message = Message(arrival.message, MESSAGE_LANGUAGE)
        await self._render(message, message)
        await agi.stream_file(self.prompts.sound(message.prompt, message.language))
        await agi.hangup()

    async def _render(self, key: Hashable, spoken: Spoken) -> None:
        """Make the text prompts' sound files, once per `key` (a flow's version, a message)."""
        if key in self._rendered:
            return
        async with self._rendering:
            if key not in self._rendered:
                await asyncio.to_thread(self.prompts.render_missing, spoken)
                self._rendered.add(key)
