"""Ring-mode agents in the live ACD, off the lab (ACD-6): what is rung, who gets the caller, what a
phone that does not answer costs its agent, and how a ringing offer ends whatever happens.

`RingingDialer` adds to `test_inbound_acd`'s fake dialer the phone legs the ringing originates and
hangs up, and the agent steps it asks for; the pure offer's rules are `test_acd_ringing`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

import pytest

from campaigns.persistence.models.enums import AgentState
from dialer.acd.commands import RING_NO_ANSWER
from dialer.acd.queues import QueueConfig, QueueMember, Strategy
from dialer.agents.state import AgentStep
from dialer.asterisk.ami import AmiError, ChannelSnapshot, OriginateRequest
from dialer.asterisk.confgen import AGENT_CONTEXT, CONF_VAR
from dialer.asterisk.events import ChannelHungUp, ConferenceJoined
from dialer.live import inbound_acd
from dialer.live.channel_ids import ChannelIds
from dialer.live.desk import AgentSession
from dialer.live.inbound_call import InboundCall, Stage
from dialer.live.inbound_ringing import RING_GRACE_S
from dialer.live.instants import utc
from tests.unit.test_inbound_acd import FakeDialer, _queued

A = AgentState
PHONE = "PJSIP/agent-{}@carrier"


class RingingDialer(FakeDialer):
    def __init__(self, queues: Mapping[str, QueueConfig]) -> None:
        super().__init__(queues)
        self.channel_ids = ChannelIds("test")
        self.rung: list[OriginateRequest] = []
        self.hung_up: list[str] = []
        self.refuse_originate = False

    def ring_mode(self, agent_id: int, state: A = A.READY) -> AgentSession:
        session = self.login(agent_id, state)
        session.ring_phone = PHONE.format(agent_id)
        return session

    async def originate_leg(self, request: OriginateRequest) -> None:
        if self.refuse_originate:
            raise AmiError("link down")
        self.rung.append(request)

    async def hangup_channel(self, channel_id: str) -> None:
        self.hung_up.append(channel_id)

    def forget_leg(self, channel_id: str) -> None:
        pass

    async def release_agent(self, agent_id: int | None, channel_id: str, at: float) -> None:
        session = self.desk.get(agent_id) if agent_id is not None else None
        if session is not None and session.status.call == channel_id:
            session.status = session.status.hangup(utc(at), channel_id, session.wrap).agent
            self.inbound.agent_changed(session)

    async def step(self, session: AgentSession, step: AgentStep) -> None:
        session.status = step.agent
        self.inbound.agent_changed(session)

    async def set_not_ready(self, session: AgentSession, reason: str, at: datetime) -> None:
        if session.status.state is A.RESERVED and session.status.call is not None:
            session.status = session.status.hangup(at, session.status.call, session.wrap).agent
        session.status = session.status.pause(at, reason).agent
        self.inbound.agent_changed(session)

    def leg_of(self, agent_id: int) -> str:
        """The leg of the last time the agent's phone was rung."""
        legs = [r.channel_id for r in self.rung if r.channel == PHONE.format(agent_id) and r.channel_id]
        return legs[-1]

    async def answers(self, agent_id: int) -> None:
        """The agent's phone answers and joins its conference."""
        leg, conference = self.leg_of(agent_id), self.desk.sessions[agent_id].conference
        await self.inbound.ringing.leg_joined(ConferenceJoined(0.0, leg, leg, f"PJSIP/{leg}", conference))

    async def settle(self) -> None:
        while pending := [task for task in self.tasks if not task.done()]:
            await asyncio.gather(*pending)


def _queue(*agents: int, ring_timeout_s: float = 30, **settings: object) -> dict[str, QueueConfig]:
    members = tuple(QueueMember(agent) for agent in agents)
    config = QueueConfig("sales", members, max_wait_s=60, ring_timeout_s=ring_timeout_s, **settings)  # type: ignore[arg-type]
    return {"sales": config}


async def test_a_ring_mode_agents_phone_is_rung_and_once_it_answers_the_caller_is_moved_to_it() -> None:
    dialer = RingingDialer(_queue(7))
    session = dialer.ring_mode(7)
    call = await _queued(dialer)
    await dialer.settle()
    [rung] = dialer.rung
    assert (rung.channel, rung.context, dict(rung.variables)) == (
        PHONE.format(7),
        AGENT_CONTEXT,
        {CONF_VAR: session.conference},
    )
    assert rung.timeout_ms == (30 + RING_GRACE_S) * 1000, "the pbx stops it by itself after the ring timeout"
    assert dialer.channel_ids.agent_of(rung.channel_id or "") == 7
    assert (call.stage, session.status.state, session.status.call) == (Stage.RINGING, A.RESERVED, "1.1")
    assert dialer.moved == [] and "1.1" not in dialer.inbound.board.calls
    await dialer.answers(7)
    assert (call.stage, call.agent_id, dialer.moved) == (Stage.OFFERED, 7, [("1.1", 7)])
    assert call.ends_as().value == "abandoned"


async def test_ring_all_the_first_phone_to_answer_takes_the_caller_the_others_stop_and_are_free() -> None:
    dialer = RingingDialer(_queue(7, 8, strategy=Strategy.RING_ALL))
    seven, eight = dialer.ring_mode(7), dialer.ring_mode(8)
    call = await _queued(dialer)
    await dialer.settle()
    assert {r.channel for r in dialer.rung} == {PHONE.format(7), PHONE.format(8)}
    await dialer.answers(8)
    await dialer.settle()
    assert dialer.moved == [("1.1", 8)] and call.agent_id == 8
    assert dialer.hung_up == [dialer.leg_of(7)]
    assert (seven.status.state, eight.status.state) == (A.READY, A.RESERVED), "7 is free, not punished"
    await dialer.answers(7)  # too late
    await dialer.settle()
    assert dialer.moved == [("1.1", 8)] and dialer.hung_up == [dialer.leg_of(7)] * 2


async def test_a_phone_that_rings_out_sets_its_agent_not_ready_and_the_next_agent_gets_the_call() -> None:
    dialer = RingingDialer(_queue(7, 8, ring_timeout_s=0.05))
    deaf = dialer.ring_mode(7)  # ready the longest: rung first
    await asyncio.sleep(0.01)
    other = dialer.login(8, A.READY)  # on a persistent connection
    call = await _queued(dialer)
    assert call.stage is Stage.RINGING and other.status.state is A.READY
    await asyncio.sleep(0.1)
    await dialer.settle()
    assert (deaf.status.state, deaf.status.reason) == (A.NOT_READY, RING_NO_ANSWER)
    assert dialer.hung_up == [dialer.leg_of(7)]
    assert (call.stage, call.agent_id, dialer.moved) == (Stage.OFFERED, 8, [("1.1", 8)])
    assert call.waiting is not None and call.waiting.arrived <= deaf.status.since, "its first arrival kept"


async def test_a_phone_that_stops_without_answering_rings_out_at_once() -> None:
    dialer = RingingDialer(_queue(7))
    session = dialer.ring_mode(7)
    call = await _queued(dialer)
    await dialer.settle()
    await dialer.inbound.ringing.leg_ended(dialer.leg_of(7))  # busy, rejected: its Originate failed
    await dialer.settle()
    assert (session.status.state, session.status.reason) == (A.NOT_READY, RING_NO_ANSWER)
    assert call.stage is Stage.WAITING and "1.1" in dialer.inbound.board.calls, "waits for a paused agent"


async def test_a_phone_that_answered_then_hung_up_before_the_caller_joined_did_not_answer() -> None:
    dialer = RingingDialer(_queue(7, 8))
    seven = dialer.ring_mode(7)
    await asyncio.sleep(0.01)
    eight = dialer.login(8, A.READY)  # on a persistent connection
    call = await _queued(dialer)
    await dialer.settle()
    await dialer.answers(7)
    await dialer.inbound.ringing.leg_ended(dialer.leg_of(7))
    await dialer.settle()
    assert (seven.status.state, seven.status.reason) == (A.NOT_READY, RING_NO_ANSWER)
    assert (call.stage, call.agent_id, dialer.moved) == (Stage.OFFERED, 8, [("1.1", 7), ("1.1", 8)])
    late = ConferenceJoined(0.0, "1.1", "1.1", "PJSIP/carrier", seven.conference)
    await dialer.inbound.joined(late)  # the caller reaching 7's empty conference meanwhile
    assert (call.stage, eight.status.state) == (Stage.OFFERED, A.RESERVED), "not with 8 until in 8's"
    await dialer.inbound.joined(ConferenceJoined(0.0, "1.1", "1.1", "PJSIP/carrier", eight.conference))
    assert (call.stage, eight.status.state) == (Stage.TALKING, A.ON_CALL)


async def test_a_caller_hanging_up_while_phones_ring_stops_them_and_frees_the_agents() -> None:
    dialer = RingingDialer(_queue(7, 8, strategy=Strategy.RING_ALL))
    seven, eight = dialer.ring_mode(7), dialer.ring_mode(8)
    call = await _queued(dialer)
    await dialer.settle()
    await dialer.inbound.ringing.leg_ended(dialer.leg_of(7))  # 7's phone rejected it first
    assert call.ends_as().value == "abandoned"
    await dialer.inbound.hung_up(_hang_up("1.1"))
    await dialer.settle()
    assert dialer.hung_up == [dialer.leg_of(8)]
    assert (seven.status.state, eight.status.state) == (A.READY, A.READY)
    assert dialer.recorded[-1] == "end_call" and not dialer.inbound.calls


async def _answered_by_seven() -> tuple[RingingDialer, InboundCall]:
    """Agent 7, in ring mode, alone in the queue; a caller; 7's phone answers."""
    dialer = RingingDialer(_queue(7))
    dialer.ring_mode(7)
    call = await _queued(dialer)
    await dialer.settle()
    await dialer.answers(7)
    return dialer, call


async def test_the_phone_of_the_agent_who_took_the_call_is_hung_up_when_the_call_ends() -> None:
    dialer, call = await _answered_by_seven()
    await dialer.inbound.joined(ConferenceJoined(0.0, "1.1", "1.1", "PJSIP/carrier", "agent-7"))
    assert call.stage is Stage.TALKING
    await dialer.inbound.hung_up(_hang_up("1.1"))
    await dialer.settle()
    assert dialer.hung_up == [dialer.leg_of(7)]


async def test_a_phone_the_pbx_will_not_call_frees_its_agent_and_the_call_waits_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inbound_acd, "RETRY_OFFER_S", 0.05)
    dialer = RingingDialer(_queue(7))
    session = dialer.ring_mode(7)
    dialer.refuse_originate = True
    call = await _queued(dialer)
    await dialer.settle()
    assert (session.status.state, call.stage) == (A.READY, Stage.WAITING), "no fault of the agent's"
    assert "1.1" not in dialer.inbound.board.calls, "back in line after a pause, not at once"
    dialer.refuse_originate = False
    await asyncio.sleep(0.1)
    await dialer.settle()
    assert call.stage is Stage.RINGING and len(dialer.rung) == 1


async def test_after_a_reconnect_a_phone_that_answered_meanwhile_takes_the_call_and_others_hang_up() -> None:
    dialer = RingingDialer(_queue(7, 8, strategy=Strategy.RING_ALL))
    dialer.ring_mode(7), dialer.ring_mode(8)
    call = await _queued(dialer)
    await dialer.settle()
    seven, eight = dialer.leg_of(7), dialer.leg_of(8)
    alive = {
        seven: _snapshot(seven, "ConfBridge", "Up"),  # answered into its conference while the link was down
        eight: _snapshot(eight, "AppDial2", "Ringing"),
    }
    await dialer.inbound.ringing.after_reconnect(alive)
    await dialer.settle()
    assert (call.agent_id, dialer.moved, dialer.hung_up) == (7, [("1.1", 7)], [eight])
    await dialer.inbound.ringing.after_reconnect({eight: alive[eight]})  # its hang-up not seen yet
    await dialer.settle()
    assert dialer.hung_up == [eight, eight], "a phone no ring wants is hung up again"


async def test_a_failed_move_to_the_agent_who_answered_hangs_its_phone_up() -> None:
    dialer, call = await _answered_by_seven()
    dialer.inbound.offer_failed("1.1")  # Asterisk refused the Redirect; the dialer freed the agent
    await dialer.settle()
    assert (call.stage, dialer.hung_up) == (Stage.WAITING, [dialer.leg_of(7)])


def _hang_up(uniqueid: str) -> ChannelHungUp:
    return ChannelHungUp(1.0, uniqueid, uniqueid, "PJSIP/carrier", 16, "Normal Clearing")


def _snapshot(uniqueid: str, application: str, state: str) -> ChannelSnapshot:
    channel = f"PJSIP/{uniqueid}"
    return ChannelSnapshot(channel, uniqueid, uniqueid, AGENT_CONTEXT, "s", state, application, 3)
