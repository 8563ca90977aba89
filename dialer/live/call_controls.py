"""In-call controls on the pbx (AGT-4): hold, resume, blind transfers, consultations.

The agent's phone never leaves its own conference (`agent-<id>`); controls move the customer's
channel and a third party's. What is allowed is `dialer.agents.call_controls`' (pure) decision;
this service carries it out:

- mute / unmute → `ConfbridgeMute`/`ConfbridgeUnmute` of the agent's phone in its own conference;
  an agent leaving its call muted is unmuted (its phone stays there for the next call);
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
- add / consult (a number or a ready agent; consult holds the customer first), conference (the held
  customer back: three-way), complete (attended transfer: the customer goes to the third party, the
  agent to wrap-up) and cancel are carried out by `dialer.live.third_parties`, which owns the third
  party's channel.

An outbound customer sent on to a queue becomes an inbound call (`as_inbound`): its inbound record
opened in one database job, then switched over with no await in between (followed as an inbound
call before its attempt is closed), so that a hang-up meanwhile is never missed.

Every control is recorded (`control_store`, in the database thread) and published on the agent's
screen-pop stream as a `control` event.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from campaigns import control_store, inbound_store, ivr_store
from campaigns.control_store import ControlRecord
from campaigns.numbers import typed_number
from campaigns.persistence.models.enums import AgentState, InboundOutcome
from dialer.agents.call_controls import CallLegs, Control, Legs, Target, TargetKind
from dialer.asterisk.ami import AmiError
from dialer.asterisk.confgen import (
    AGI_ROUTE_VAR,
    BRIDGE_CONTEXT,
    FLOW_CONTEXT,
    FLOW_VAR,
    MOH_VAR,
    OUTBOUND_CONTEXT,
    QUEUE_HOLD_CONTEXT,
    SURVEY_ROUTE,
)
from dialer.asterisk.events import ConferenceJoined
from dialer.ivr.run import CallTrail
from dialer.live.desk import AgentSession
from dialer.live.inbound_call import InboundCall, Stage
from dialer.live.instants import utc
from dialer.live.third_parties import ThirdParties
from ringcast.errors import UserError

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)

CONTROL = "control"  # the screen-pop event of a control
FLOW_RETURNED = "flow_returned"  # recorded when a flow's `back` end brings the caller back (IVR-6)
FLOW_LEFT = "flow_left"  # recorded when the agent hangs up while its caller is in a flow


class CallControls:
    def __init__(self, dialer: LiveDialer) -> None:
        self.dialer = dialer
        self._legs: dict[str, CallLegs] = {}  # by the customer's channel id, while a control applies
        self._moving: dict[str, int] = {}  # outbound customers on their way to a transfer's agent
        self.thirds = ThirdParties(self)  # the third party of each call that has one

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
            await self.back_to_agent(call, session)
        elif control in (Control.ADD, Control.CONSULT):
            assert target is not None
            other = self._ready_other(session, target) if target.kind is TargetKind.AGENT else None
            held_here = control is Control.CONSULT and legs.state is not Legs.HELD
            if held_here:
                await self._hold(call)
            assert after is not None
            self._keep(call, after)  # kept before the third party is brought in: its join may come first
            try:
                if other is not None:
                    await self.thirds.link_agent(session, call, other)
                else:
                    await self.thirds.dial(session, call, target.name)
            except UserError:  # the pbx would not bring the third party in: the legs stay as they were
                self._keep(call, legs)
                if held_here:
                    await self.back_to_agent(call, session)
                raise
            if call not in self.dialer.calls and not self.dialer.inbound.follows(call):
                await self.thirds.call_ended(call)  # the customer hung up meanwhile: nobody kept for it
                raise UserError(f"agent {agent_name}'s customer hung up")
            after = self._legs.get(call, after)  # joined meanwhile, or gone: as the events left them
        elif control is Control.CONFERENCE:
            await self.back_to_agent(call, session)
        elif control is Control.COMPLETE:
            await self.thirds.complete(session, call, legs)
        elif control is Control.CANCEL:
            await self.thirds.drop(call, legs)
        elif control in (Control.MUTE, Control.UNMUTE):
            try:
                await self._mute(session, control is Control.MUTE)
            except AmiError as exc:
                raise UserError(f"the pbx refused to {control.value} the agent: {exc}") from None
        self.moved(session, call, control, target or legs.third, after)
        shown = {"legs": after.state.value if after else None, "muted": bool(after and after.muted)}
        return self.dialer.agents.status(session.agent_id) | shown

    def _keep(self, call: str, legs: CallLegs) -> None:
        """The call's legs now: none kept while they are plain talking."""
        if legs == CallLegs():
            self._legs.pop(call, None)
        else:
            self._legs[call] = legs

    def legs(self, call: str) -> CallLegs | None:
        """The legs of the customer `call`, while a control applies."""
        return self._legs.get(call)

    def legs_of(self, call: str | None) -> str | None:
        """The legs' arrangement of an agent's call, for its status."""
        if call is None:
            return None
        return self._legs.get(call, CallLegs()).state.value

    # ---- carrying them out ------------------------------------------------------------------------

    async def _mute(self, session: AgentSession, muted: bool) -> None:
        """The agent's phone muted (or not) in its own conference: nobody there hears it."""
        action = "ConfbridgeMute" if muted else "ConfbridgeUnmute"
        channel = session.leg_channel or ""
        await self.dialer.ami.action({"Action": action, "Conference": session.conference, "Channel": channel})

    def _forget(self, call: str, session: AgentSession | None) -> None:
        """The call's legs forgotten: the agent off the call, unmuted if it was muted."""
        legs = self._legs.pop(call, None)
        if legs is not None and legs.muted and session is not None:
            self.dialer.in_background(self._unmuted(session))

    async def _unmuted(self, session: AgentSession) -> None:
        try:
            await self._mute(session, False)
        except AmiError as exc:
            log.warning("could not unmute agent %s after its call: %s", session.name, exc)

    async def _hold(self, call: str) -> None:
        await self._redirect(call, QUEUE_HOLD_CONTEXT)

    async def back_to_agent(self, call: str, session: AgentSession) -> None:
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
            other = self._ready_other(session, target)
            await self.release(session, call)
            await self.hand_to(call, other, reserved=False)
        elif target.kind is TargetKind.QUEUE:
            queue = await dialer.inbound.queue(target.name)
            if queue is None:
                raise UserError(f"no queue {target.name} takes calls now")
            await self._set_var(call, MOH_VAR, queue.music_class)
            if dialer.agi_url is not None:  # after its next agent: the survey of the queue, if any
                await self._set_var(call, AGI_ROUTE_VAR, SURVEY_ROUTE)
            await self._hold(call)  # the customer moved first: a refusal leaves the agent on the call
            await self.release(session, call)
            inbound = await self.as_inbound(call)
            if inbound is not None:  # else the customer hung up meanwhile
                await dialer.inbound.enqueue(inbound, queue.name, 0)
        elif target.kind is TargetKind.NUMBER:
            await self.release(session, call)
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

    async def release(self, session: AgentSession, call: str) -> None:
        """The transferring agent leaves the call: wrap-up, as after a hang-up."""
        self._forget(call, session)
        await self.dialer.release_agent(session.agent_id, call, datetime.now(UTC).timestamp())

    def _ready_other(self, session: AgentSession, target: Target) -> AgentSession:
        """The agent a transfer or a consultation is for: logged in, on a persistent connection, ready."""
        other = self.dialer.agents.session(target.name)
        if other is session or other.ring_mode or other.status.state is not AgentState.READY:
            raise UserError(f"agent {target.name} is not ready to take a call")
        return other

    async def reserve(self, call: str, other: AgentSession) -> None:
        """Reserve `other` for the customer, as the ACD reserves (an inbound caller) or the dialer
        does (an outbound customer)."""
        dialer, now = self.dialer, datetime.now(UTC)
        if call in dialer.inbound.calls:
            await dialer.agents.take_inbound(other, call, now)
        else:
            await dialer.agents.step(other, other.status.reserve(now, call))

    async def hand_to(self, call: str, other: AgentSession, *, reserved: bool) -> None:
        """The customer into the conference of `other` (reserved for it first unless `reserved`):
        joined as an offered inbound call, or as an outbound customer moving to its agent (`joined`).
        The call names `other` before any await: a hang-up meanwhile frees it."""
        dialer = self.dialer
        inbound = dialer.inbound.calls.get(call)
        if inbound is not None:
            inbound.stage, inbound.agent_id = Stage.OFFERED, other.agent_id
        elif call in dialer.calls:
            dialer.calls[call] = replace(dialer.calls[call], agent_id=other.agent_id)
            self._moving[call] = other.agent_id
        else:
            return  # the customer hung up
        if not reserved:
            await self.reserve(call, other)
        await dialer.move_to_agent(call, other)

    async def as_inbound(self, call: str) -> InboundCall | None:
        """The customer as an inbound call (a queue takes only those): an outbound customer's attempt
        ends answered and an inbound record is opened for its channel; None when the customer hung up
        (before, or while its record was being opened: the record then ends at once, `ivr_only`).
        Either way the call has no caller memory from now on: its agent has just let it go, and an
        older agent of the caller's is not one to hold it for (`InboundCall.last_served`).

        One await only, the database job (the lead's number and the new record together); after it
        the call is switched over with none: followed as an inbound call before its attempt is
        closed, so that its hang-up is never missed."""
        dialer = self.dialer
        inbound = dialer.inbound.calls.get(call)
        if inbound is not None:
            inbound.last_served = None
            return inbound
        if call not in dialer.calls:
            return None
        now = datetime.now(UTC)
        call_id, number = await dialer.db.run(
            control_store.open_transferred, dialer.database, call, dialer.calls[call].lead_id, now
        )
        outbound = dialer.calls.get(call)
        if outbound is None:  # hung up meanwhile: its attempt is closed, its record ends here
            ended = InboundOutcome.IVR_ONLY
            dialer.record_later(inbound_store.end_call, dialer.database, call_id, now, ended)
            return None
        inbound = InboundCall(call_id, call, number, None, now)
        dialer.inbound.arrived(inbound, dialer.channel_name(call))
        await dialer.finish_transferred(outbound)
        return inbound

    def agent_on(self, call: str) -> AgentSession | None:
        """The agent talking to the customer (not one reserved for it, consulted)."""
        for session in self.dialer.desk:
            if session.status.call == call and session.status.state is AgentState.ON_CALL:
                return session
        return None

    def moved(
        self,
        session: AgentSession,
        call: str,
        control: Control | str,
        target: Target | None,
        after: CallLegs | None,
        shown: dict[str, Any] | None = None,
    ) -> None:
        """Keep the legs, record the control and show it on the agent's screen (with `shown`)."""
        if after is None:
            self._forget(call, session)
        else:
            self._keep(call, after)
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
        return self.agent_on(call) if legs is not None and legs.state is Legs.IN_FLOW else None

    def flow_returned(self, call: str, trail: CallTrail) -> AgentSession | None:
        """The flow's `back` end: the agent who sent the caller, talking again (recorded, and shown
        with what the caller keyed), to whose conference the caller goes; None when that agent has
        left the call (or nobody sent it)."""
        session = self._in_flow_with(call)
        if session is None:
            return None
        after = self._legs[call].returned()
        inputs = {"variables": dict(trail.variables), "inputs": trail.as_json()["inputs"]}
        self.moved(session, call, FLOW_RETURNED, Target(TargetKind.FLOW, trail.flow), after, inputs)
        return session

    async def flow_ended(self, call: str) -> None:
        """The caller's flow ended elsewhere than `back` (a queue, a number, a hang-up): the agent
        kept for it is released, as after a transfer."""
        session = self._in_flow_with(call)
        if session is not None:
            await self.release(session, call)

    async def leave_flow(self, call: str) -> bool:
        """The agent hangs up while its caller is in a flow: the agent alone leaves (recorded), the
        caller's flow goes on; whether the caller was in a flow."""
        session = self._in_flow_with(call)
        if session is None:
            return False
        self.moved(session, call, FLOW_LEFT, None, None)
        await self.release(session, call)
        return True

    # ---- the pbx's events -------------------------------------------------------------------------

    def is_third(self, uniqueid: str) -> bool:
        """A third party's leg, brought in or joined to the customer by a completed transfer."""
        return self.thirds.is_third(uniqueid)

    async def joined(self, event: ConferenceJoined) -> bool:
        """A third party or a transferred outbound customer joined a conference; whether it was one."""
        call = self.thirds.joined(event.uniqueid)
        if call is not None:
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
        """A third party's leg hung up, or was never reached (`ThirdParties.gone`)."""
        await self.thirds.gone(uniqueid)

    async def call_ended(self, call: str) -> None:
        """The customer's call ended: the legs forgotten, its third party let go."""
        self._forget(call, self.agent_on(call))
        self._moving.pop(call, None)
        await self.thirds.call_ended(call)
