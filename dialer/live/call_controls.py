"""In-call controls on the pbx (AGT-4): hold, resume, blind transfers, a third party dialled in.

The agent's phone never leaves its own conference (`agent-<id>`); controls move the customer's
channel and a third party's. What is allowed is `dialer.agents.call_controls`' (pure) decision;
this service carries it out:

- hold → the customer is Redirected into `ringcast-queue-hold` (`MusicOnHold(${RINGCAST_MOH})`:
  an inbound caller keeps its queue's class, set by its flow; an outbound customer has none, so the
  pbx's default class plays); resume → Redirected back into the agent's conference, as
  `LiveDialer.move_to_agent` does;
- transfer (blind; the agent goes to wrap-up, `LiveDialer.release_agent`):
  - to an agent: it must be ready; it is reserved as the ACD reserves (`take_inbound` for an inbound
    caller, a reservation for an outbound customer) and the customer is moved into its conference;
  - to a queue: the customer is held with the queue's music and waits there as an inbound call
    (`InboundAcd.enqueue`); an outbound customer first becomes an inbound call (its attempt ends
    answered, an `inbound_calls` row is opened for its channel);
  - to a number: Redirected into `ringcast-outbound`, as a queue's overflow to a number;
  - to a flow (IVR-6; it must be active): the customer is Redirected into `ringcast-flow`, which runs
    it over FastAGI (`InboundFlows.handle_sent`); the agent is not released but stays on the call,
    its legs `in_flow`. The flow's `back` end brings the caller back into the agent's conference
    (`flow_returned`: recorded and shown with the flow's inputs); another end, or the agent hanging
    up meanwhile (`leave_flow`), releases the agent; `back` then goes to its fallback queue;
- add / consult: the number is originated straight into the agent's conference (`ringcast-bridge`,
  the customer's own user profile: it leaves when the agent does); consult holds the customer
  first. Conference: the held customer back into the conference (three-way). Complete: AMI `Bridge`
  of the customer with the third party, out of the conference; the agent goes to wrap-up, and when
  either of the two hangs up the engine hangs up the other. Cancel: the third party is hung up and
  a held customer comes back.

Every control is recorded (`control_store`, in the database thread) and published on the agent's
screen-pop stream as a `control` event.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from campaigns import control_store, hopper, inbound_store, ivr_store
from campaigns.control_store import ControlRecord
from campaigns.numbers import typed_number
from campaigns.persistence.models.enums import AgentState
from dialer.agents.call_controls import CallLegs, Control, Legs, Target, TargetKind
from dialer.asterisk.ami import AmiError, OriginateRequest
from dialer.asterisk.confgen import (
    BRIDGE_CONTEXT,
    FLOW_CONTEXT,
    FLOW_VAR,
    MOH_VAR,
    OUTBOUND_CONTEXT,
    QUEUE_HOLD_CONTEXT,
    TRUNK_ENDPOINT,
)
from dialer.asterisk.events import ConferenceJoined
from dialer.ivr.run import CallTrail
from dialer.live.desk import AgentSession
from dialer.live.inbound_call import InboundCall, Stage
from dialer.live.instants import utc
from ringcast.errors import UserError

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)

CONTROL = "control"  # the screen-pop event of a control
THIRD_PARTY_RING_S = 30
THIRD_SUFFIX = "-third"
THIRD_GONE = "third_gone"  # recorded when the third party hangs up by itself
FLOW_RETURNED = "flow_returned"  # recorded when a flow's `back` end brings the caller back (IVR-6)
FLOW_LEFT = "flow_left"  # recorded when the agent hangs up while its caller is in a flow


class CallControls:
    def __init__(self, dialer: LiveDialer) -> None:
        self.dialer = dialer
        self._legs: dict[str, CallLegs] = {}  # by the customer's channel id, while a control applies
        self._thirds: dict[str, tuple[str, int]] = {}  # third party's channel id -> (customer, agent)
        self._paired: dict[str, str] = {}  # after a completed transfer: each channel -> the other
        self._moving: dict[str, int] = {}  # outbound customers on their way to a transfer's agent

    # ---- what the agent asks ----------------------------------------------------------------------

    async def control(
        self, agent_name: str, control: Control, target: Target | None = None
    ) -> dict[str, Any]:
        """Carry out `control` on the agent's call; its status with the legs after it."""
        session = self.dialer.agents.session(agent_name)
        call = session.status.call
        if call is None or session.status.state is not AgentState.ON_CALL:
            raise UserError(f"agent {agent_name} is not talking to a customer")
        legs = self._legs.get(call, CallLegs())
        after = legs.apply(control, target)
        if target is not None and target.kind is TargetKind.NUMBER:
            target = Target(target.kind, typed_number(target.name, self.dialer.default_region).e164)
        if control is Control.TRANSFER:
            assert target is not None
            await self._transfer(session, call, target)
        elif control is Control.HOLD:
            await self._hold(call)
        elif control is Control.RESUME:
            await self._back_to_agent(call, session)
        elif control in (Control.ADD, Control.CONSULT):
            assert target is not None
            if control is Control.CONSULT and legs.state is not Legs.HELD:
                await self._hold(call)
            await self._dial_third(session, call, target.name)
        elif control is Control.CONFERENCE:
            await self._back_to_agent(call, session)
        elif control is Control.COMPLETE:
            await self._complete(session, call)
        elif control is Control.CANCEL:
            await self._drop_third(call, legs)
        self._moved(session, call, control, target or legs.third, after)
        return self.dialer.agents.status(session.agent_id) | {"legs": after.state.value if after else None}

    def legs_of(self, call: str | None) -> str | None:
        """The legs' arrangement of an agent's call, for its status."""
        if call is None:
            return None
        return self._legs.get(call, CallLegs()).state.value

    # ---- carrying them out ------------------------------------------------------------------------

    async def _hold(self, call: str) -> None:
        await self._redirect(call, QUEUE_HOLD_CONTEXT)

    async def _back_to_agent(self, call: str, session: AgentSession) -> None:
        await self._redirect(call, BRIDGE_CONTEXT, session.conference)

    async def _redirect(self, call: str, context: str, exten: str = "s") -> None:
        try:
            await self.dialer.ami.redirect(self.dialer.channel_name(call), context, exten)
        except AmiError as exc:
            raise UserError(f"the pbx refused to move the call: {exc}") from None

    async def _set_var(self, call: str, name: str, value: str) -> None:
        try:
            await self.dialer.ami.set_var(self.dialer.channel_name(call), name, value)
        except AmiError as exc:
            raise UserError(f"the pbx refused to move the call: {exc}") from None

    async def _transfer(self, session: AgentSession, call: str, target: Target) -> None:
        dialer = self.dialer
        if target.kind is TargetKind.AGENT:
            other = dialer.agents.session(target.name)
            if other is session or other.ring_mode or other.status.state is not AgentState.READY:
                raise UserError(f"agent {target.name} is not ready to take a call")
            await self._release(session, call)
            await self._to_agent(call, other)
        elif target.kind is TargetKind.QUEUE:
            queue = await dialer.inbound.queue(target.name)
            if queue is None:
                raise UserError(f"no queue {target.name} takes calls now")
            await self._set_var(call, MOH_VAR, queue.music_class)
            await self._hold(call)  # the customer moved first: a refusal leaves the agent on the call
            await self._release(session, call)
            inbound = await self.as_inbound(call)
            await dialer.inbound.enqueue(inbound, queue.name, 0)
        elif target.kind is TargetKind.NUMBER:
            await self._release(session, call)
            dialer.in_background(dialer.redirect_or_hang_up(call, OUTBOUND_CONTEXT, target.name))
        else:
            await self._to_flow(call, target.name)

    async def _to_flow(self, call: str, name: str) -> None:
        """The customer into flow `name`'s FastAGI route; the agent stays on the call meanwhile."""
        dialer = self.dialer
        stored = await dialer.db.run(ivr_store.get_flow, dialer.database, name)
        if not stored.active:
            raise UserError(f"flow {name} is not active")
        await self._set_var(call, FLOW_VAR, name)
        await self._redirect(call, FLOW_CONTEXT)

    async def _release(self, session: AgentSession, call: str) -> None:
        """The transferring agent leaves the call: wrap-up, as after a hang-up."""
        self._legs.pop(call, None)
        await self.dialer.release_agent(session.agent_id, call, datetime.now(UTC).timestamp())

    async def _to_agent(self, call: str, other: AgentSession) -> None:
        dialer = self.dialer
        now = datetime.now(UTC)
        inbound = dialer.inbound.calls.get(call)
        if inbound is not None:  # the ACD's own path: reserved, then joined as an offered call
            inbound.stage, inbound.agent_id = Stage.OFFERED, other.agent_id
            await dialer.agents.take_inbound(other, call, now)
        else:
            outbound = dialer.calls[call]
            dialer.calls[call] = replace(outbound, agent_id=other.agent_id)
            self._moving[call] = other.agent_id
            await dialer.agents.step(other, other.status.reserve(now, call))
        await dialer.move_to_agent(call, other)

    async def as_inbound(self, call: str) -> InboundCall:
        """The customer as an inbound call (a queue takes only those): an outbound customer's attempt
        ends answered and an inbound record is opened for its channel."""
        dialer = self.dialer
        inbound = dialer.inbound.calls.get(call)
        if inbound is not None:
            return inbound
        outbound = dialer.calls[call]
        card = await dialer.db.run(hopper.lead_card, dialer.database, outbound.lead_id)
        number = str(card["e164"])
        await dialer.finish_transferred(outbound)
        now = datetime.now(UTC)
        call_id = await dialer.db.run(
            inbound_store.open_call,
            dialer.database,
            uniqueid=call,
            linkedid=None,
            did="transfer",
            caller=number,
            region=None,
            arrived_at=now,
        )
        inbound = InboundCall(call_id, call, number, None, now)
        dialer.inbound.arrived(inbound, dialer.channel_name(call))
        return inbound

    async def _dial_third(self, session: AgentSession, call: str, number: str) -> None:
        dialer = self.dialer
        trunk, caller_id = TRUNK_ENDPOINT, None  # an inbound-only agent's: the pbx's own caller ID
        if not session.inbound_only:
            config = await dialer.config(session.campaign_id)
            trunk, caller_id = config.trunk or TRUNK_ENDPOINT, config.caller_id
        third = third_party_of(call)
        self._thirds[third] = (call, session.agent_id)
        request = OriginateRequest(
            channel=f"PJSIP/{number}@{trunk}",
            context=BRIDGE_CONTEXT,
            exten=session.conference,
            caller_id=caller_id,
            timeout_ms=THIRD_PARTY_RING_S * 1000,
            channel_id=third,
        )
        try:
            await dialer.originate_leg(request)
        except AmiError as exc:
            self._thirds.pop(third, None)
            dialer.forget_leg(third)
            raise UserError(f"the pbx would not call {number}: {exc}") from None

    async def _complete(self, session: AgentSession, call: str) -> None:
        dialer = self.dialer
        third = third_party_of(call)
        try:
            await dialer.ami.action(
                {
                    "Action": "Bridge",
                    "Channel1": dialer.channel_name(call),
                    "Channel2": dialer.channel_name(third),
                    "Tone": "no",
                }
            )
        except AmiError as exc:
            raise UserError(f"the pbx refused to join the call to the third party: {exc}") from None
        self._thirds.pop(third, None)
        self._paired[call], self._paired[third] = third, call
        await self._release(session, call)

    async def _drop_third(self, call: str, legs: CallLegs) -> None:
        third = third_party_of(call)
        self._thirds.pop(third, None)
        await self.dialer.hangup_channel(third)
        session = self._agent_on(call)
        if legs.state is not Legs.CONFERENCE and session is not None:
            await self._back_to_agent(call, session)

    def _agent_on(self, call: str) -> AgentSession | None:
        for session in self.dialer.desk:
            if session.status.call == call:
                return session
        return None

    def _moved(
        self,
        session: AgentSession,
        call: str,
        control: Control | str,
        target: Target | None,
        after: CallLegs | None,
        shown: dict[str, Any] | None = None,
    ) -> None:
        """Keep the legs, record the control and show it on the agent's screen (with `shown`)."""
        if after is None or after == CallLegs():
            self._legs.pop(call, None)
        else:
            self._legs[call] = after
        dialer = self.dialer
        now = datetime.now(UTC)
        inbound = dialer.inbound.calls.get(call)
        outbound = dialer.calls.get(call)
        record = ControlRecord(
            at=now,
            agent_id=session.agent_id,
            call=call,
            control=str(control),
            target=str(target) if target is not None else None,
            legs=after.state.value if after is not None else None,
            attempt_id=outbound.attempt_id if outbound is not None and inbound is None else None,
            inbound_call_id=inbound.call_id if inbound is not None else None,
        )
        dialer.record_later(control_store.record_control, dialer.database, record)
        data = {"call": call, "control": record.control, "target": record.target, "legs": record.legs}
        dialer.screen.pops.publish(session.name, CONTROL, now, data | (shown or {}))

    # ---- a caller in a flow the agent sent it to (IVR-6) ------------------------------------------

    def _in_flow_with(self, call: str) -> AgentSession | None:
        """The agent kept for the caller while it is in a flow: still on the call, legs `in_flow`."""
        legs = self._legs.get(call)
        session = self._agent_on(call)
        if legs is None or legs.state is not Legs.IN_FLOW or session is None:
            return None
        return session if session.status.state is AgentState.ON_CALL else None

    def flow_returned(self, call: str, trail: CallTrail) -> AgentSession | None:
        """The flow's `back` end: the agent who sent the caller, talking again (recorded, and shown
        with what the caller keyed), to whose conference the caller goes; None when that agent has
        left the call (or nobody sent it)."""
        session = self._in_flow_with(call)
        if session is None:
            return None
        after = self._legs[call].returned()
        inputs = {"variables": dict(trail.variables), "inputs": trail.as_json()["inputs"]}
        self._moved(session, call, FLOW_RETURNED, Target(TargetKind.FLOW, trail.flow), after, inputs)
        return session

    async def flow_ended(self, call: str) -> None:
        """The caller's flow ended elsewhere than `back` (a queue, a number, a hang-up): the agent
        kept for it is released, as after a transfer."""
        session = self._in_flow_with(call)
        if session is not None:
            await self._release(session, call)

    async def leave_flow(self, call: str) -> bool:
        """The agent hangs up while its caller is in a flow: the agent alone leaves (recorded), the
        caller's flow goes on; whether the caller was in a flow."""
        session = self._in_flow_with(call)
        if session is None:
            return False
        self._moved(session, call, FLOW_LEFT, None, None)
        await self._release(session, call)
        return True

    # ---- the pbx's events -------------------------------------------------------------------------

    def is_third(self, uniqueid: str) -> bool:
        """A third party's leg, dialled in or joined to the customer by a completed transfer."""
        return uniqueid in self._thirds or (uniqueid in self._paired and uniqueid.endswith(THIRD_SUFFIX))

    async def joined(self, event: ConferenceJoined) -> bool:
        """A third party or a transferred outbound customer joined a conference; whether it was one."""
        if event.uniqueid in self._thirds:
            call, _ = self._thirds[event.uniqueid]
            legs = self._legs.get(call)
            if legs is not None:
                self._legs[call] = legs.third_joined()
            return True
        agent_id = self._moving.pop(event.uniqueid, None)
        if agent_id is None:
            return False
        session = self.dialer.desk.get(agent_id)
        outbound = self.dialer.calls.get(event.uniqueid)
        if session is not None and outbound is not None and session.status.call == event.uniqueid:
            session.last_attempt_id = outbound.attempt_id
            bridged = session.status.bridge(utc(event.received_at), event.uniqueid)
            await self.dialer.agents.step(session, bridged)
        return True

    async def leg_gone(self, uniqueid: str) -> None:
        """A third party hung up (or was never reached), or one half of a completed transfer did:
        the consultation goes back to held, the conference to two; the other half is hung up."""
        other = self._paired.pop(uniqueid, None)
        if other is not None:
            self._paired.pop(other, None)
            await self.dialer.hangup_channel(other)
            return
        call, agent_id = self._thirds.pop(uniqueid, (None, None))
        if call is None:
            return
        legs = self._legs.get(call)
        session = self.dialer.desk.get(agent_id) if agent_id is not None else None
        if legs is None or session is None or session.status.call != call:
            return
        self._moved(session, call, THIRD_GONE, legs.third, legs.third_gone())

    async def call_ended(self, call: str) -> None:
        """The customer's call ended: a third party still up is hung up, the legs forgotten."""
        self._legs.pop(call, None)
        self._moving.pop(call, None)
        third = third_party_of(call)
        if third in self._thirds:
            self._thirds.pop(third, None)
            await self.dialer.hangup_channel(third)
        await self.leg_gone(call)


def third_party_of(call: str) -> str:
    """The channel id of the third party dialled into the call of customer `call` (not `ours()`:
    a restarted engine leaves it to end with its call)."""
    return f"{call}{THIRD_SUFFIX}"
