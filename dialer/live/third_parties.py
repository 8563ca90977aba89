"""The third party of an agent's call (AGT-4): brought in, joined, handed the customer, let go.

`CallControls` decides (with the pure `dialer.agents.call_controls`) and keeps the legs; this owns the
third party's channel, `<customer's channel id>-third`, always originated into the consulting
agent's conference (`ringcast-bridge`, the customers' user profile: it leaves when the agent does):

- a number (`add`/`consult number:N`): `PJSIP/N@trunk`, the campaign's caller ID;
- another agent B (`consult agent:B`): B, ready on a persistent connection, is reserved for the
  customer as a blind transfer reserves it (it stays reserved through the consultation, offered
  nothing else), and a Local channel `Local/agent-<B>@ringcast-bridge` links B's conference to A's:
  its `;2` half joins B's conference, its `;1` half (the third party's channel) A's. Each agent's phone
  stays in its own conference; A and B talk through the link, and with the customer back in A's
  conference (`conference`) all three do.

`complete` with a number: AMI `Bridge` of the customer with it, out of the conference (the two are
paired: when either hangs up the other is hung up). With an agent: the link is hung up and the
customer moved into B's conference as by a blind transfer (B `on_call` when it joins). `cancel`
hangs the third party up; a consulted agent is ready again. The third party hanging up by itself (a
consulted agent's `hangup` hangs up the link and frees it; its phone lost takes the link with it)
is `third_gone`; the customer's end hangs the third party up and frees a consulted agent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from campaigns.persistence.models.enums import AgentState
from dialer.agents.call_controls import CallLegs, Legs
from dialer.asterisk.ami import AmiError, OriginateRequest
from dialer.asterisk.confgen import BRIDGE_CONTEXT, TRUNK_ENDPOINT
from dialer.live.desk import AgentSession
from ringcast.errors import UserError

if TYPE_CHECKING:
    from dialer.live.call_controls import CallControls

THIRD_PARTY_RING_S = 30
THIRD_SUFFIX = "-third"
THIRD_GONE = "third_gone"  # recorded when the third party hangs up by itself


class ThirdParties:
    def __init__(self, controls: CallControls) -> None:
        self.controls = controls
        self.dialer = controls.dialer
        self._thirds: dict[str, tuple[str, int]] = {}  # third party's channel id -> (customer, agent)
        self._paired: dict[str, str] = {}  # after a completed transfer: each channel -> the other

    # ---- brought in -------------------------------------------------------------------------------

    async def dial(self, session: AgentSession, call: str, number: str) -> None:
        trunk, caller_id = TRUNK_ENDPOINT, None  # an inbound-only agent's: the pbx's own caller ID
        if not session.inbound_only:
            config = await self.dialer.campaigns.config(session.campaign_id)
            trunk, caller_id = config.trunk or TRUNK_ENDPOINT, config.caller_id
        try:
            await self._bring_in(session, call, f"PJSIP/{number}@{trunk}", caller_id)
        except AmiError as exc:
            raise UserError(f"the pbx would not call {number}: {exc}") from None

    async def link_agent(self, session: AgentSession, call: str, other: AgentSession) -> None:
        """Consult agent `other` (reserved for the customer meanwhile) through a link of the two
        conferences."""
        await self.controls.reserve(call, other)
        try:
            await self._bring_in(session, call, f"Local/{other.conference}@{BRIDGE_CONTEXT}", None)
        except AmiError as exc:
            await self.dialer.release_agent(other.agent_id, call, datetime.now(UTC).timestamp())
            raise UserError(f"the pbx would not bring in agent {other.name}: {exc}") from None

    async def _bring_in(self, session: AgentSession, call: str, channel: str, caller_id: str | None) -> None:
        dialer = self.dialer
        third = third_party_of(call)
        self._thirds[third] = (call, session.agent_id)
        request = OriginateRequest(
            channel=channel,
            context=BRIDGE_CONTEXT,
            exten=session.conference,
            caller_id=caller_id,
            timeout_ms=THIRD_PARTY_RING_S * 1000,
            channel_id=third,
        )
        try:
            await dialer.originate_leg(request)
        except AmiError:
            self._thirds.pop(third, None)
            dialer.forget_leg(third)
            raise

    # ---- what the agent does with it --------------------------------------------------------------

    async def complete(self, session: AgentSession, call: str, legs: CallLegs) -> None:
        """The customer to the third party; the agent leaves (wrap-up)."""
        dialer, controls = self.dialer, self.controls
        third = third_party_of(call)
        other = self._consulted(call, legs)
        if other is not None:  # the link goes, the customer into the consulted agent's conference
            self._thirds.pop(third, None)
            await dialer.hangup_channel(third)
            await controls.release(session, call)
            await controls.hand_to(call, other, reserved=True)
            return
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
        await controls.release(session, call)

    async def drop(self, call: str, legs: CallLegs) -> None:
        """Cancel: the third party hung up (a consulted agent ready again), a held customer back."""
        third = third_party_of(call)
        self._thirds.pop(third, None)
        await self.dialer.hangup_channel(third)
        await self._free_consulted(call, legs)
        session = self.controls.agent_on(call)
        if legs.state is not Legs.CONFERENCE and session is not None:
            await self.controls.back_to_agent(call, session)

    def _consulted(self, call: str, legs: CallLegs) -> AgentSession | None:
        """The agent brought in as the third party, still reserved for the customer."""
        if legs.third_agent is None:
            return None
        for session in self.dialer.desk:
            if session.name == legs.third_agent and session.status.call == call:
                return session if session.status.state is AgentState.RESERVED else None
        return None

    async def _free_consulted(self, call: str, legs: CallLegs | None) -> None:
        """The consulted agent leaves the consultation: ready again (its reservation ends)."""
        other = self._consulted(call, legs) if legs is not None else None
        if other is not None:
            await self.dialer.release_agent(other.agent_id, call, datetime.now(UTC).timestamp())

    async def consulted_hangs_up(self, session: AgentSession) -> bool:
        """A consulted agent hangs up: it leaves the consultation (ready again), as a number hanging up
        would (`third_gone` when its link goes); the customer stays. Whether it was consulted."""
        call = session.status.call
        legs = self.controls.legs(call) if call is not None else None
        if call is None or legs is None or self._consulted(call, legs) is not session:
            return False
        await self._free_consulted(call, legs)
        await self.dialer.hangup_channel(third_party_of(call))
        return True

    # ---- the pbx's events -------------------------------------------------------------------------

    def is_third(self, uniqueid: str) -> bool:
        """A third party's leg, brought in or joined to the customer by a completed transfer."""
        return uniqueid in self._thirds or (uniqueid in self._paired and uniqueid.endswith(THIRD_SUFFIX))

    def joined(self, uniqueid: str) -> str | None:
        """The customer's call whose third party has just joined the agent's conference, if it is one."""
        call, _ = self._thirds.get(uniqueid, (None, None))
        return call

    async def gone(self, uniqueid: str) -> None:
        """A third party hung up (or was never reached), or one half of a completed transfer did:
        the consultation goes back to held, the conference to two (recorded); the other half of a
        pair is hung up."""
        other = self._paired.pop(uniqueid, None)
        if other is not None:
            self._paired.pop(other, None)
            await self.dialer.hangup_channel(other)
            return
        call, agent_id = self._thirds.pop(uniqueid, (None, None))
        if call is None:
            return
        legs = self.controls.legs(call)
        await self._free_consulted(call, legs)
        session = self.dialer.desk.get(agent_id) if agent_id is not None else None
        if legs is None or session is None or session.status.call != call:
            return
        self.controls.moved(session, call, THIRD_GONE, legs.third, legs.third_gone())

    async def call_ended(self, call: str) -> None:
        """The customer's call ended (its legs already forgotten): a third party still up is hung up;
        any agent still reserved for the customer (consulted, or being reserved as the customer
        went) is ready again; the other half of a pair is hung up."""
        at = datetime.now(UTC).timestamp()
        for session in list(self.dialer.desk):
            if session.status.call == call and session.status.state is AgentState.RESERVED:
                await self.dialer.release_agent(session.agent_id, call, at)
        third = third_party_of(call)
        if third in self._thirds:
            self._thirds.pop(third, None)
            await self.dialer.hangup_channel(third)
        await self.gone(call)


def third_party_of(call: str) -> str:
    """The channel id of the third party brought into the call of customer `call` (not `ours()`:
    a restarted engine leaves it to end with its call)."""
    return f"{call}{THIRD_SUFFIX}"
