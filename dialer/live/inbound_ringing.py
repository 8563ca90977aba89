"""Ring-mode agents' phones, called for the inbound calls the ACD offers them (ACD-6).

The ACD hands over each call it offers to ring-mode agents (`ring`: one agent for an `Offer`,
several for a ring-all). Every agent is reserved for it (its screen shows the offer) and its phone
is called into its own conference, as a persistent agent's login leg is (AMI Originate of its dial
string into `ringcast-agent`, a channel id of the same kind), while the caller keeps hearing its
queue's music. The pure `RingOffer` follows the phones:

- the first phone to join its conference takes the call: the others are hung up and their agents
  are free again, and the caller is Redirected into the winner's conference as for a persistent
  agent (`InboundAcd.joined` then puts the agent on the call);
- a phone that stops without the call (busy, rejected, unreachable, hung up before the caller
  joined) or still rings at the queue's `ring_timeout_s` did not answer. Once no phone rings and
  none answered, the ACD sets those agents not ready and routes the call on without them
  (`InboundAcd.rang_out`, the router's `ring_no_answer`); agents that did not answer where another
  did are set not ready at once. A phone the pbx would not call (Originate refused, the link down)
  frees its agent; with no phone left the call waits again (`InboundAcd.offer_failed`);
- the caller hangs up: every phone rung for the call is hung up and the agents still reserved for
  it are free again (`caller_gone`); the phone of the agent who took the call is hung up too when
  the call ends.

The Originate's own timeout is `RING_GRACE_S` past the queue's, so that the pbx stops a phone
ringing by itself even when the engine cannot reach it. Every leg is followed until its end is
seen: when the AMI link comes back, a phone found answered in its conference meanwhile takes the
call as its event would have, and one no ring wants any more is hung up again
(`after_reconnect`); the legs gone meanwhile end through the dialer's own reconciliation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from dialer.acd.commands import RING_NO_ANSWER
from dialer.acd.ringing import RingOffer
from dialer.asterisk.ami import AmiError, ChannelSnapshot, OriginateRequest
from dialer.asterisk.confgen import AGENT_CONTEXT, CONF_VAR
from dialer.asterisk.events import ConferenceJoined
from dialer.live.desk import AgentSession
from dialer.live.inbound_call import InboundCall, Stage
from dialer.live.instants import utc

if TYPE_CHECKING:
    from dialer.live.inbound_acd import InboundAcd

log = logging.getLogger(__name__)

RING_GRACE_S = 2.0  # the pbx stops ringing a phone this long after the engine's ring timeout
IN_CONFERENCE = "ConfBridge"  # what a phone that answered into its agent's conference is running


@dataclass
class _Ring:
    """The phones rung for one call, from the ring until the call ends or nobody can take it."""

    call: InboundCall
    offer: RingOffer
    legs: dict[int, str] = field(default_factory=dict)  # agent → its phone's leg (channel id)
    timer: asyncio.TimerHandle | None = None


class InboundRinging:
    def __init__(self, acd: InboundAcd) -> None:
        self.acd = acd
        self.dialer = acd.dialer
        self._rings: dict[str, _Ring] = {}  # by the caller's uniqueid
        self._legs: dict[str, tuple[str, int]] = {}  # phone leg → (caller's uniqueid, agent) until it ends

    def follows(self, leg_id: str) -> bool:
        return leg_id in self._legs

    async def ring(self, call: InboundCall, agents: tuple[int, ...], now: datetime) -> None:
        """Reserve `agents` for the call, which the ACD took off its board, and call their phones."""
        assert call.waiting is not None
        dialer = self.dialer
        timeout_s = self.acd.board.queues[call.waiting.queue].ring_timeout_s
        ring = self._rings[call.uniqueid] = _Ring(call, RingOffer.rung(agents))
        call.stage, call.agent_id = Stage.RINGING, None
        sessions = [dialer.desk.sessions[agent] for agent in agents]
        for session in sessions:
            await dialer.agents.take_inbound(session, call.uniqueid, now)
        loop = asyncio.get_running_loop()
        ring.timer = loop.call_later(timeout_s, lambda: dialer.in_background(self._timed_out(ring)))
        for session in sessions:
            leg_id = dialer.channel_ids.agent_leg(session.agent_id)
            ring.legs[session.agent_id] = leg_id
            self._legs[leg_id] = (call.uniqueid, session.agent_id)
            dialer.in_background(self._call_phone(ring, session, leg_id, timeout_s))
        names = ", ".join(session.name for session in sessions)
        log.info("inbound call %s from %s: ringing %s", call.call_id, call.caller, names)

    async def _call_phone(self, ring: _Ring, session: AgentSession, leg_id: str, timeout_s: float) -> None:
        assert session.ring_phone is not None
        request = OriginateRequest(
            channel=session.ring_phone,
            context=AGENT_CONTEXT,
            caller_id=session.caller_id,
            timeout_ms=int((timeout_s + RING_GRACE_S) * 1000),
            variables={CONF_VAR: session.conference},
            channel_id=leg_id,
        )
        try:
            await self.dialer.originate_leg(request)
        except AmiError as exc:
            call_id = ring.call.call_id
            log.warning("could not ring agent %s for inbound call %s: %s", session.name, call_id, exc)
            self._legs.pop(leg_id, None)
            self.dialer.forget_leg(leg_id)
            if self._rings.get(ring.call.uniqueid) is ring and session.agent_id in ring.offer.ringing:
                ring.offer = ring.offer.withdrawn(session.agent_id)
                await self.dialer.release_agent(session.agent_id, ring.call.uniqueid, time.time())
                await self._if_over(ring)

    # ---- what the phones do -------------------------------------------------------------------------

    async def leg_joined(self, event: ConferenceJoined) -> None:
        """An agent's phone answered into its conference: the first one takes the call."""
        ring = self._ring_of(event.uniqueid)
        _, agent = self._legs[event.uniqueid]
        if ring is None or agent not in ring.offer.ringing:
            if ring is None or ring.offer.answered_by != agent:
                self._hang_up(event.uniqueid)  # too late: another took the call, or the ring is over
            return
        ring.offer, others = ring.offer.answer(agent)
        dialer, call = self.dialer, ring.call
        self._stop_timer(ring)
        for other in sorted(others):
            self._hang_up(ring.legs[other])
            await dialer.release_agent(other, call.uniqueid, event.received_at)
        for other in ring.offer.unanswered:
            session = dialer.desk.sessions[other]
            await dialer.agents.set_not_ready(session, RING_NO_ANSWER, utc(event.received_at))
        call.stage, call.agent_id = Stage.OFFERED, agent
        session = dialer.desk.sessions[agent]
        log.info("inbound call %s from %s: agent %s answered", call.call_id, call.caller, session.name)
        await dialer.move_to_agent(call.uniqueid, session)

    async def leg_ended(self, leg_id: str) -> None:
        """An agent's phone leg ended: hung up, or its Originate failed (busy, no answer, unreachable)."""
        ring = self._ring_of(leg_id)
        _, agent = self._legs.pop(leg_id)
        self.dialer.forget_leg(leg_id)
        if ring is None or ring.call.stage is Stage.TALKING:
            return  # the ring was over; or the agent hung up on the caller, whose own end follows
        before = ring.offer
        ring.offer = before.stopped(agent)
        if ring.offer != before:
            log.info("inbound call %s: agent %s's phone stopped without the call", ring.call.call_id, agent)
            await self._if_over(ring)

    async def _timed_out(self, ring: _Ring) -> None:
        ring.timer = None
        if self._rings.get(ring.call.uniqueid) is ring and ring.offer.ringing:
            ring.offer = ring.offer.timed_out()
            await self._if_over(ring)

    async def _if_over(self, ring: _Ring) -> None:
        """When no phone rings and none answered: the agents that did not answer make the call ring
        out (set not ready, the call routed on); with none (no phone could be rung) it waits again."""
        if not ring.offer.over:
            return
        self._drop(ring)
        if ring.offer.unanswered:
            await self.acd.rang_out(ring.call, ring.offer.unanswered)
        else:
            self.acd.offer_failed(ring.call.uniqueid)

    # ---- the call's end, the link's return ----------------------------------------------------------

    async def caller_gone(self, call: InboundCall, at: float) -> None:
        """The call ended: every phone rung for it is hung up; the agents still rung are free again
        (the agent who took it is the ACD's to release)."""
        ring = self._rings.get(call.uniqueid)
        if ring is None:
            return
        self._drop(ring)
        if call.stage is Stage.RINGING:
            for agent in (*sorted(ring.offer.ringing), *ring.offer.unanswered):
                await self.dialer.release_agent(agent, call.uniqueid, at)

    def drop(self, uniqueid: str) -> None:
        """The call left the agents rung for it (its move to the one who answered failed): their
        phones are hung up."""
        ring = self._rings.get(uniqueid)
        if ring is not None:
            self._drop(ring)

    async def after_reconnect(self, alive: Mapping[str, ChannelSnapshot]) -> None:
        """The AMI link is back (the legs it lost are ended already): a phone that answered meanwhile
        takes its call now, one no ring wants is hung up."""
        now = time.time()
        answered: list[ConferenceJoined] = []
        for leg_id, channel in alive.items():
            if leg_id not in self._legs:
                continue
            ring = self._ring_of(leg_id)
            _, agent = self._legs[leg_id]
            if ring is None or (agent not in ring.offer.ringing and agent != ring.offer.answered_by):
                self._hang_up(leg_id)
            elif agent in ring.offer.ringing and channel.application == IN_CONFERENCE:
                conference = self.dialer.desk.sessions[agent].conference
                answered.append(ConferenceJoined(now, leg_id, channel.linkedid, channel.channel, conference))
        for joined in answered:
            await self.leg_joined(joined)

    # ---- helpers ------------------------------------------------------------------------------------

    def _ring_of(self, leg_id: str) -> _Ring | None:
        """The ring `leg_id` is a phone of, while that ring lasts."""
        uniqueid, agent = self._legs[leg_id]
        ring = self._rings.get(uniqueid)
        return ring if ring is not None and ring.legs.get(agent) == leg_id else None

    def _drop(self, ring: _Ring) -> None:
        self._rings.pop(ring.call.uniqueid, None)
        self._stop_timer(ring)
        for leg_id in ring.legs.values():
            if leg_id in self._legs:
                self._hang_up(leg_id)

    def _stop_timer(self, ring: _Ring) -> None:
        if ring.timer is not None:
            ring.timer.cancel()
            ring.timer = None

    def _hang_up(self, leg_id: str) -> None:
        self.dialer.in_background(self.dialer.hangup_channel(leg_id))
