"""The live ACD's own work, off the lab: what it asks of the dialer for each router decision.

A fake dialer stands in for `LiveDialer`: it answers the store calls the ACD awaits, records the
ones it queues, the agents it reserves, the callers it moves and where it sends them. The router's
rules themselves are `test_acd_router`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from campaigns import queue_store, voicemail_store
from dialer.acd.queues import QueueConfig, QueueMember, ToQueue
from dialer.agents.state import AgentStatus, StateChange, Wrap
from dialer.asterisk.confgen import BRIDGE_CONTEXT, NEXT_VAR, VOICEMAIL_CONTEXT, VOICEMAIL_VAR, goto
from dialer.asterisk.fastagi import AgiCall, AgiHangup
from dialer.live import inbound_acd
from dialer.live.desk import AgentDesk, AgentSession
from dialer.live.inbound_acd import InboundAcd
from dialer.live.inbound_call import InboundCall, Stage
from tests.unit.test_agent_selection import A

SALES = QueueConfig("sales", (QueueMember(7),), max_wait_s=0.2)


class FakeDialer:
    def __init__(self, queues: Mapping[str, QueueConfig]) -> None:
        self.queues = dict(queues)
        self.agi_url = None
        self.database = None
        self.desk = AgentDesk()
        self.runners: dict[int, Any] = {}
        self.db = self
        self.agents = self
        self.inbound = InboundAcd(self)  # type: ignore[arg-type]
        self.recorded: list[str] = []
        self.moved: list[tuple[str, int]] = []
        self.failed_moves: list[tuple[str, int, str]] = []
        self.sent: list[tuple[str, str, str, Mapping[str, str] | None]] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if work is voicemail_store.box_for:  # (database, owner, name): no greeting of its own
            return voicemail_store.Box(args[1] or "queue", args[2]), None
        answers = {
            queue_store.load_queues: self.queues,
            queue_store.handle_times: {},
        }
        return answers[work]

    def record_later(self, work: Callable[..., Any], *args: Any) -> None:
        self.recorded.append(work.__name__)

    def in_background(self, action: Any) -> None:
        self.tasks.append(asyncio.ensure_future(action))

    async def take_inbound(self, session: AgentSession, channel_id: str, at: datetime) -> None:
        session.status = session.status.reserve(at, channel_id).agent
        self.inbound.agent_changed(session)

    async def move_to_agent(self, channel_id: str, session: AgentSession) -> None:
        self.moved.append((channel_id, session.agent_id))

    async def move_failed(self, channel_id: str, session: AgentSession, why: Exception) -> None:
        self.failed_moves.append((channel_id, session.agent_id, type(why).__name__))

    async def redirect_or_hang_up(
        self, channel_id: str, context: str, exten: str = "s", variables: Mapping[str, str] | None = None
    ) -> None:
        self.sent.append((channel_id, context, exten, variables))

    def follow_leg(self, channel_id: str, channel: str) -> None:
        pass

    def login(self, agent_id: int, state: A) -> AgentSession:
        session = AgentSession(agent_id, f"agent{agent_id}", 1, AgentStatus(agent_id, state, _now()), Wrap())
        self.desk.sessions[agent_id] = session
        self.inbound.agent_changed(session)
        return session


def _now() -> datetime:
    return datetime.now(UTC)


async def _queued(
    dialer: FakeDialer,
    uniqueid: str = "1.1",
    agent: int | None = None,
    flags: tuple[str, ...] = (),
    last_served: tuple[int, datetime] | None = None,
) -> InboundCall:
    acd = dialer.inbound
    await acd.refresh()
    call = InboundCall(1, uniqueid, "+8613800138000", "广东省", _now(), flags=flags, last_served=last_served)
    acd.arrived(call, f"PJSIP/carrier-{uniqueid}")
    await acd.enqueue(call, "sales", 0, agent)
    return call


@pytest.mark.parametrize(
    ("served_days_ago", "memory_days", "taken_by"),
    [(2, 30, 9), (31, 30, 7), (2, 0, 7)],
    ids=["remembered", "too long ago", "memory off"],
)
async def test_caller_memory_looked_up_on_arrival_names_the_agent_who_served_the_caller_last(
    served_days_ago: int, memory_days: int, taken_by: int
) -> None:
    members = (QueueMember(7), QueueMember(9))
    dialer = FakeDialer({"sales": QueueConfig("sales", members, max_wait_s=30, memory_days=memory_days)})
    dialer.login(7, A.READY)  # ready longer: the queue's own choice
    dialer.login(9, A.READY)
    call = await _queued(dialer, last_served=(9, _now() - timedelta(days=served_days_ago)))
    assert (call.stage, call.agent_id) == (Stage.OFFERED, taken_by)


async def test_a_ready_member_is_reserved_and_the_caller_moved_into_its_conference() -> None:
    dialer = FakeDialer({"sales": SALES})
    session = dialer.login(7, A.READY)
    call = await _queued(dialer)
    assert (call.stage, call.agent_id) == (Stage.OFFERED, 7)
    assert dialer.moved == [("1.1", 7)]
    assert (session.status.state, session.status.call) == (A.RESERVED, "1.1")
    assert dialer.recorded == ["enter_queue"]


async def test_with_nobody_logged_in_the_call_overflows_to_voicemail_at_once() -> None:
    dialer = FakeDialer({"sales": SALES})
    call = await _queued(dialer)
    await asyncio.gather(*dialer.tasks)
    assert call.stage is Stage.VOICEMAIL
    message = "ringcast-voicemail/sales/1.1"
    assert dialer.sent == [("1.1", VOICEMAIL_CONTEXT, "s", {VOICEMAIL_VAR: message})]
    assert dialer.recorded == ["enter_queue", "overflow"]
    assert call.ends_as().value == "overflowed_voicemail"


async def test_a_waiting_call_overflows_when_its_wait_is_over_and_goes_to_the_next_queue() -> None:
    dialer = FakeDialer(
        {
            "sales": QueueConfig("sales", (QueueMember(7),), max_wait_s=0.1, overflow=ToQueue("desk")),
            "desk": QueueConfig("desk", (QueueMember(8),), max_wait_s=30),
        }
    )
    dialer.login(7, A.NOT_READY)  # logged in, paused: the call waits for it
    dialer.login(8, A.NOT_READY)
    call = await _queued(dialer)
    assert call.stage is Stage.WAITING and call.waiting is not None and call.waiting.queue == "sales"
    await asyncio.sleep(0.2)
    await asyncio.gather(*dialer.tasks)
    assert call.waiting.queue == "desk" and dialer.inbound.board.calls["1.1"].queue == "desk"
    assert dialer.recorded == ["enter_queue", "overflow", "enter_queue"]


async def test_a_ready_agent_takes_the_waiting_call_and_its_lost_phone_puts_it_back() -> None:
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7),), max_wait_s=30)})
    session = dialer.login(7, A.NOT_READY)
    call = await _queued(dialer)
    session.status = session.status.ready(_now()).agent
    dialer.inbound.agent_changed(session)
    assert await dialer.inbound.serve(7)
    assert call.stage is Stage.OFFERED and dialer.moved == [("1.1", 7)]
    await dialer.inbound.rescue("1.1")
    assert call.stage is Stage.WAITING and "1.1" in dialer.inbound.board.calls


async def test_a_failed_move_puts_the_caller_back_in_line_after_a_pause_not_abandoned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inbound_acd, "RETRY_OFFER_S", 0.05)
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7),), max_wait_s=30)})
    session = dialer.login(7, A.READY)
    call = await _queued(dialer)
    assert call.stage is Stage.OFFERED
    session.status = session.status.hangup(_now(), "1.1", Wrap()).agent  # the engine freed the agent
    dialer.inbound.agent_changed(session)
    dialer.inbound.offer_failed("1.1")  # e.g. the AMI link is down
    assert (call.stage, call.agent_id, "1.1" in dialer.inbound.board.calls) == (Stage.WAITING, None, False)
    assert call.ends_as().value == "abandoned"  # were the caller to hang up now: it was never served
    await asyncio.sleep(0.1)
    await asyncio.gather(*dialer.tasks)
    assert call.stage is Stage.OFFERED and dialer.moved == [("1.1", 7), ("1.1", 7)]  # offered again


@pytest.mark.parametrize("removed", [True, False])
async def test_a_change_of_queues_rebuilds_the_board(removed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7),), max_wait_s=30)})
    dialer.login(7, A.NOT_READY)
    call = await _queued(dialer)
    dialer.queues = {} if removed else {"sales": QueueConfig("sales", (QueueMember(7), QueueMember(9)))}
    dialer.login(9, A.READY)
    monkeypatch.setattr(inbound_acd, "RELOAD_S", 0.0)  # read again now
    await dialer.inbound.refresh()
    await asyncio.gather(*dialer.tasks)
    if removed:  # its queue is gone: to that queue's voicemail box
        assert call.stage is Stage.VOICEMAIL and dialer.sent[0][1] == VOICEMAIL_CONTEXT
    else:  # the new member, ready, takes it
        assert call.stage is Stage.OFFERED and dialer.moved == [("1.1", 9)]


async def test_a_direct_call_goes_to_its_agent_alone_and_the_screen_pop_shows_its_flags() -> None:
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7), QueueMember(9)), max_wait_s=30)})
    dialer.login(7, A.READY)  # ready the longest: the queue's choice, but not the agent dialled
    dialer.login(9, A.NOT_READY)
    call = await _queued(dialer, agent=9, flags=("malicious",))
    assert call.stage is Stage.WAITING and dialer.moved == []
    assert await dialer.inbound.home_queue(9) == "sales" and await dialer.inbound.home_queue(5) is None
    nine = dialer.desk.sessions[9]
    nine.status = nine.status.ready(_now()).agent
    dialer.inbound.agent_changed(nine)
    assert await dialer.inbound.serve(9) and dialer.moved == [("1.1", 9)]
    assert dialer.inbound.screen_pop("1.1") == {
        "caller": "+8613800138000",
        "region": "广东省",
        "queue": "sales",
        "priority": 0,
        "direct": True,
        "flags": ["malicious"],
    }
    assert dialer.inbound.screen_pop("2.2") is None


async def test_a_direct_call_to_an_agent_logged_out_overflows_at_once() -> None:
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7),), max_wait_s=30)})
    dialer.login(7, A.READY)
    call = await _queued(dialer, agent=8)
    await asyncio.gather(*dialer.tasks)
    assert call.stage is Stage.VOICEMAIL and dialer.moved == []


async def test_a_direct_call_overflowing_into_another_queue_is_any_of_its_agents_call_there() -> None:
    sales = QueueConfig("sales", (QueueMember(7),), max_wait_s=30, overflow=ToQueue("desk"))
    dialer = FakeDialer({"sales": sales, "desk": QueueConfig("desk", (QueueMember(8),), max_wait_s=30)})
    dialer.login(8, A.READY)
    call = await _queued(dialer, agent=7)  # agent 7 is logged out: the call overflows to desk at once
    await asyncio.gather(*dialer.tasks)
    assert call.waiting is not None and (call.waiting.queue, call.waiting.direct_agent) == ("desk", None)
    assert call.stage is Stage.OFFERED and dialer.moved == [("1.1", 8)]


async def test_a_call_sent_to_a_queue_removed_meanwhile_goes_to_its_voicemail() -> None:
    dialer = FakeDialer({"sales": SALES})
    await dialer.inbound.refresh()
    call = InboundCall(1, "1.1", "+8613800138000", "广东省", _now())
    dialer.inbound.arrived(call, "PJSIP/carrier-1.1")
    await dialer.inbound.enqueue(call, "gone", 0)
    await asyncio.gather(*dialer.tasks)
    assert call.stage is Stage.VOICEMAIL and dialer.sent[0][1] == VOICEMAIL_CONTEXT


async def test_a_direct_call_falls_back_to_its_queue_after_its_numbers_wait() -> None:
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7), QueueMember(9)), max_wait_s=30)})
    dialer.login(7, A.READY)
    dialer.login(9, A.ON_CALL)  # the agent dialled is busy
    acd = dialer.inbound
    await acd.refresh()
    call = InboundCall(1, "1.1", "+8613800138000", "广东省", _now())
    acd.arrived(call, "PJSIP/carrier-1.1")
    await acd.enqueue(call, "sales", 0, agent=9, fallback_after_s=0.5)  # wide: a loaded machine
    assert call.stage is Stage.WAITING and dialer.moved == []
    arrived = call.waiting.arrived if call.waiting else None
    await asyncio.sleep(0.8)
    await asyncio.gather(*dialer.tasks)
    assert call.stage is Stage.OFFERED and dialer.moved == [("1.1", 7)]  # the queue's agent
    assert call.waiting is not None and call.waiting.direct_agent is None
    assert call.waiting.arrived == arrived  # its first arrival: the same visit


async def test_a_direct_call_to_an_agent_logged_out_falls_back_at_once_when_its_number_does() -> None:
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7), QueueMember(8)), max_wait_s=30)})
    dialer.login(7, A.NOT_READY)  # a member is logged in: the call waits for the queue
    acd = dialer.inbound
    await acd.refresh()
    call = InboundCall(1, "1.1", "+8613800138000", None, _now())
    acd.arrived(call, "PJSIP/carrier-1.1")
    await acd.enqueue(call, "sales", 0, agent=8, fallback_after_s=300)
    assert call.stage is Stage.WAITING and call.waiting is not None and call.waiting.direct_agent is None
    assert dialer.recorded == ["enter_queue"]  # not overflowed
    seven = dialer.desk.sessions[7]
    seven.status = seven.status.ready(_now()).agent
    acd.agent_changed(seven)
    assert await acd.serve(7) and dialer.moved == [("1.1", 7)]


class FlowSession:
    """The caller's FastAGI session while its flow queues it: the commands it is sent."""

    def __init__(self, hung_up: bool = False) -> None:
        self.hung_up = hung_up
        self.variables: list[tuple[str, str]] = []

    async def set_variable(self, name: str, value: str) -> None:
        if self.hung_up:
            raise AgiHangup(f"SET VARIABLE {name}")
        self.variables.append((name, value))

    async def hangup(self) -> None:
        self.variables.append(("hangup", ""))


async def _queued_in_flow(dialer: FakeDialer, session: FlowSession) -> InboundCall:
    """Queued as `InboundFlows` queues a caller: its session the call's meanwhile."""
    acd = dialer.inbound
    await acd.refresh()
    call = InboundCall(1, "1.1", "+8613800138000", "广东省", _now())
    acd.arrived(call, "PJSIP/carrier-1.1")
    call.session = cast(AgiCall, session)
    try:
        await acd.enqueue(call, "sales", 0)
    finally:
        call.session = None
    return call


async def test_a_caller_moved_on_at_once_goes_through_its_flows_session_not_a_redirect() -> None:
    """REDIRECT_NOTE (`dialer.asterisk.fastagi`): a Redirect could land as the session ends."""
    dialer = FakeDialer({"sales": SALES})
    session = dialer.login(7, A.READY)
    flow = FlowSession()
    call = await _queued_in_flow(dialer, flow)
    assert flow.variables == [(NEXT_VAR, goto(BRIDGE_CONTEXT, session.conference))]
    assert dialer.moved == [] and (call.stage, session.status.state) == (Stage.OFFERED, A.RESERVED)
    nobody = FakeDialer({"sales": SALES})  # nobody logged in: to the queue's voicemail at once
    flow = FlowSession()
    call = await _queued_in_flow(nobody, flow)
    await asyncio.gather(*nobody.tasks)
    assert flow.variables == [
        (VOICEMAIL_VAR, "ringcast-voicemail/sales/1.1"),
        (NEXT_VAR, goto(VOICEMAIL_CONTEXT)),
    ]
    assert nobody.sent == [] and call.stage is Stage.VOICEMAIL


async def test_a_caller_gone_from_its_session_as_it_is_offered_is_a_failed_move() -> None:
    dialer = FakeDialer({"sales": SALES})
    dialer.login(7, A.READY)
    call = await _queued_in_flow(dialer, FlowSession(hung_up=True))
    assert dialer.failed_moves == [(call.uniqueid, 7, "AgiHangup")] and dialer.moved == []
    # what follows (the agent freed, the call back in line): tests/db/test_move_refused.py


def _log_out(dialer: FakeDialer, agent_id: int) -> None:
    session = dialer.desk.sessions[agent_id]
    session.status = session.status.logout(_now()).agent
    dialer.inbound.agent_changed(session)


async def test_a_direct_call_falls_back_at_once_when_its_agent_logs_out_while_it_waits() -> None:
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7), QueueMember(9)), max_wait_s=30)})
    dialer.login(7, A.READY)  # ready, but the call asks for agent 9 alone for 300 s
    dialer.login(9, A.NOT_READY)
    acd = dialer.inbound
    await acd.refresh()
    call = InboundCall(1, "1.1", "+8613800138000", None, _now())
    acd.arrived(call, "PJSIP/carrier-1.1")
    await acd.enqueue(call, "sales", 0, agent=9, fallback_after_s=300)
    assert call.stage is Stage.WAITING and dialer.moved == []
    _log_out(dialer, 9)
    await asyncio.gather(*dialer.tasks)
    assert call.stage is Stage.OFFERED and dialer.moved == [("1.1", 7)]  # not in 300 s: now


async def test_the_calls_an_agent_leaves_go_on_in_the_queues_order_a_vip_first() -> None:
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7), QueueMember(9)), max_wait_s=30)})
    dialer.login(7, A.READY)
    dialer.login(9, A.NOT_READY)
    acd = dialer.inbound
    await acd.refresh()
    calls = []
    for uniqueid, priority in (("1.1", 0), ("2.2", 5)):  # the plain call came first
        call = InboundCall(1, uniqueid, "+8613800138000", None, _now())
        acd.arrived(call, f"PJSIP/carrier-{uniqueid}")
        await acd.enqueue(call, "sales", priority, agent=9, fallback_after_s=300)
        calls.append(call)
    _log_out(dialer, 9)
    await asyncio.gather(*dialer.tasks)
    assert dialer.moved == [("2.2", 7)], "the one ready agent takes the VIP"
    assert [call.stage for call in calls] == [Stage.WAITING, Stage.OFFERED]
    assert calls[0].waiting is not None and calls[0].waiting.direct_agent is None, "fallen back, waiting"


@pytest.mark.parametrize("direct", [True, False], ids=["its-agent", "the-last-member"])
async def test_a_waiting_call_overflows_at_once_when_nobody_it_may_have_is_logged_in_any_more(
    direct: bool,
) -> None:
    dialer = FakeDialer({"sales": QueueConfig("sales", (QueueMember(7), QueueMember(9)), max_wait_s=30)})
    dialer.login(9, A.NOT_READY)
    if direct:
        dialer.login(7, A.NOT_READY)  # logged in, but the call asks for 9 alone (no fallback)
    call = await _queued(dialer, agent=9 if direct else None)
    assert call.stage is Stage.WAITING
    _log_out(dialer, 9)
    await asyncio.gather(*dialer.tasks)
    assert call.stage is Stage.VOICEMAIL and dialer.recorded == ["enter_queue", "overflow"]


class ServingDialer(FakeDialer):
    def __init__(self, queues: Mapping[str, QueueConfig]) -> None:
        super().__init__(queues)
        self.served: list[int] = []

    async def serve_waiting(self, session: AgentSession) -> None:
        self.served.append(session.agent_id)
        await self.inbound.serve(session.agent_id)


async def test_a_ready_agent_resting_gets_the_waiting_call_as_soon_as_it_is_rested() -> None:
    dialer = ServingDialer({"sales": QueueConfig("sales", (QueueMember(7),), max_wait_s=300)})
    now = _now()
    window = timedelta(minutes=30)
    # busy for half the window and 500 ms more; allowed half: rested in about 500 ms, if still ready
    worked = (
        StateChange(7, A.READY, A.ON_CALL, None, now - window),
        StateChange(7, A.ON_CALL, A.READY, None, now - window / 2 + timedelta(milliseconds=500)),
    )
    session = AgentSession(7, "agent7", 1, AgentStatus(7, A.READY, worked[-1].at), Wrap(), max_occupancy=0.5)
    session.recent.extend(worked)
    dialer.desk.sessions[7] = session
    dialer.inbound.agent_changed(session)
    call = await _queued(dialer)
    assert call.stage is Stage.WAITING and dialer.moved == []  # resting: not eligible
    await asyncio.sleep(0.8)
    await asyncio.gather(*dialer.tasks)
    assert dialer.served == [7] and dialer.moved == [("1.1", 7)]
