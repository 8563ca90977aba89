"""The ACD's routing decisions on hand-built boards: each strategy, skill levels, VIP callers, caller
memory, direct dial, ring-mode no answer and overflow."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

import pytest

from campaigns.persistence.models.enums import AgentState
from dialer.acd.board import Board
from dialer.acd.calls import RememberedAgent, WaitingCall
from dialer.acd.commands import RING_NO_ANSWER, FallBack, Offer, Overflow, Ring, SetNotReady
from dialer.acd.queues import QueueConfig, QueueMember, Strategy, ToNumber, ToQueue, ToVoicemail
from dialer.acd.router import Decision, agent_ready, ring_no_answer, route_call, wake_at
from dialer.acd.strategies import Turns
from dialer.agents.selection import Candidate
from dialer.agents.state import AgentStatus
from tests.unit.test_agent_selection import NOW, WORKED

A = AgentState
NO_TURNS = Turns()


def agent(agent_id: int, state: AgentState = A.READY, idle_s: float = 60, **candidate: object) -> Candidate:
    """An agent in `state` since `idle_s` seconds before NOW."""
    status = AgentStatus(agent_id, state, NOW - timedelta(seconds=idle_s))
    return Candidate(status, **candidate)  # type: ignore[arg-type]


def call(call_id: str, queue: str = "sales", waited_s: float = 0, **fields: object) -> WaitingCall:
    """A call that arrived `waited_s` seconds before NOW."""
    arrived = NOW - timedelta(seconds=waited_s)
    return WaitingCall(call_id, queue, arrived, "+8613800138000", **fields)  # type: ignore[arg-type]


def members(*agent_ids: int, **skills: int) -> tuple[QueueMember, ...]:
    """Members in the order given; `skills` as a{agent_id}=level."""
    return tuple(QueueMember(a, skill=skills.get(f"a{a}", 5)) for a in agent_ids)


def board_of(
    queues: QueueConfig | Iterable[QueueConfig],
    agents: Iterable[Candidate] = (),
    calls: Iterable[WaitingCall] = (),
) -> Board:
    board = Board([queues] if isinstance(queues, QueueConfig) else queues)
    for candidate in agents:
        board.update_agent(candidate)
    for waiting in calls:
        board.add_call(waiting)
    return board


def sales(*agent_ids: int, strategy: Strategy = Strategy.LONGEST_IDLE, **settings: object) -> QueueConfig:
    return QueueConfig("sales", members(*agent_ids), strategy, **settings)  # type: ignore[arg-type]


# -- strategies ------------------------------------------------------------------------------------


def test_longest_idle_offers_the_agent_ready_longest_ties_to_the_lowest_id() -> None:
    board = board_of(sales(1, 2, 3, 4), [agent(1, idle_s=10), agent(2, idle_s=50), agent(3, idle_s=30)])
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 2),)
    board.update_agent(agent(4, idle_s=50))
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 2),)


def test_a_higher_skill_level_comes_before_a_longer_idle_time() -> None:
    queue = QueueConfig("sales", members(1, 2, a1=8, a2=5))
    board = board_of(queue, [agent(1, idle_s=5), agent(2, idle_s=500)])
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 1),)
    board.update_agent(agent(1, A.ON_CALL))
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 2),)


def test_round_robin_goes_round_the_listed_order_from_the_last_agent_offered() -> None:
    queue = sales(3, 1, 4, 2, strategy=Strategy.ROUND_ROBIN)
    board = board_of(queue, [agent(a, idle_s=a) for a in (1, 2, 3, 4)])
    turns, order = NO_TURNS, []
    for _ in range(5):
        decision = route_call(board, call("c"), NOW, turns)
        turns = decision.turns
        order.append(decision.commands[0].agent)  # type: ignore[union-attr]
    assert order == [3, 1, 4, 2, 3]
    assert turns.last_offered == {"sales": 3}
    board.update_agent(agent(1, A.ON_CALL))  # not ready: its turn passes
    assert route_call(board, call("c"), NOW, turns).commands == (Offer("c", 4),)


def test_fewest_calls_offers_the_agent_with_the_fewest_answered_ties_to_longest_idle() -> None:
    queue = sales(1, 2, 3, strategy=Strategy.FEWEST_CALLS)
    board = board_of(queue, [agent(1, idle_s=90), agent(2), agent(3)])
    turns = Turns(answered={1: 5, 2: 2, 3: 2})
    assert route_call(board, call("c"), NOW, turns).commands == (Offer("c", 2),)
    turns = turns.answered_by(2)
    assert turns.answered == {1: 5, 2: 3, 3: 2}
    assert route_call(board, call("c"), NOW, turns).commands == (Offer("c", 3),)
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 1),)  # none answered yet


def test_linear_offers_the_first_ready_member_in_the_listed_order() -> None:
    queue = sales(3, 1, 2, strategy=Strategy.LINEAR)
    board = board_of(queue, [agent(1, idle_s=500), agent(2), agent(3, idle_s=1)])
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 3),)
    board.update_agent(agent(3, A.WRAP_UP))
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 1),)


def test_supervisor_first_offers_a_supervisor_before_any_skill_level() -> None:
    queue = QueueConfig(
        "sales",
        (QueueMember(1, skill=10), QueueMember(9, skill=1, supervisor=True)),
        Strategy.SUPERVISOR_FIRST,
    )
    board = board_of(queue, [agent(1, idle_s=500), agent(9, idle_s=1)])
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 9),)
    board.update_agent(agent(9, A.NOT_READY))
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 1),)


def test_ring_all_rings_every_eligible_ready_member() -> None:
    tired = agent(4, recent=WORKED, max_occupancy=0.7)  # 22 of the last 30 minutes busy
    board = board_of(
        sales(1, 2, 3, 4, strategy=Strategy.RING_ALL),
        [agent(1, idle_s=10), agent(2, A.ON_CALL), agent(3, idle_s=40), tired],
    )
    decision = route_call(board, call("c"), NOW, NO_TURNS)
    assert decision == Decision((Ring("c", (3, 1)),), NO_TURNS)


def test_an_agent_over_its_maximum_occupancy_is_passed_over() -> None:
    board = board_of(sales(1, 2), [agent(1, idle_s=500, recent=WORKED, max_occupancy=0.7), agent(2)])
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 2),)
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == ()  # resting: takes no call either


def test_only_round_robin_remembers_whom_it_offered() -> None:
    board = board_of(sales(1), [agent(1)])
    assert route_call(board, call("c"), NOW, NO_TURNS).turns is NO_TURNS


# -- an agent becomes ready ------------------------------------------------------------------------


def test_a_vip_call_jumps_the_queue() -> None:
    board = board_of(sales(1), [agent(1)], [call("old", waited_s=120), call("vip", waited_s=5, priority=5)])
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == (Offer("vip", 1),)
    board.remove_call("vip")
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == (Offer("old", 1),)


@pytest.mark.parametrize(
    ("support", "expected"),
    [
        (QueueConfig("support", members(1), priority=1), "support-call"),  # the queue's priority
        (QueueConfig("support", members(1, a1=8)), "support-call"),  # the agent's higher skill there
        (QueueConfig("support", members(1)), "sales-call"),  # all equal: the longer wait
    ],
)
def test_an_agent_in_several_queues_takes_by_queue_priority_then_skill_then_wait(
    support: QueueConfig, expected: str
) -> None:
    board = board_of(
        [sales(1), support],
        [agent(1)],
        [call("sales-call", waited_s=100), call("support-call", "support", waited_s=10)],
    )
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == (Offer(expected, 1),)


def test_call_priority_comes_before_queue_priority() -> None:
    support = QueueConfig("support", members(1), priority=3)
    calls = [call("vip", priority=1), call("support-call", "support", waited_s=60)]
    board = board_of([sales(1), support], [agent(1)], calls)
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == (Offer("vip", 1),)


def test_an_agent_takes_no_call_of_a_queue_it_does_not_serve_or_when_not_ready() -> None:
    board = board_of([sales(1), QueueConfig("billing", members(2))], [agent(1)], [call("b", "billing")])
    assert agent_ready(board, 1, NOW, NO_TURNS) == Decision((), NO_TURNS)
    board.add_call(call("s"))
    board.update_agent(agent(1, A.NOT_READY))
    assert agent_ready(board, 1, NOW, NO_TURNS) == Decision((), NO_TURNS)
    assert agent_ready(board, 7, NOW, NO_TURNS) == Decision((), NO_TURNS)  # not logged in


def test_round_robin_goes_on_from_an_agent_that_took_a_waiting_call() -> None:
    board = board_of(sales(1, 2, strategy=Strategy.ROUND_ROBIN), [agent(1)], [call("c")])
    assert agent_ready(board, 1, NOW, NO_TURNS).turns == Turns(last_offered={"sales": 1})


# -- caller memory (ACD-4) -------------------------------------------------------------------------

MEMORY = sales(1, 2, memory_days=30, memory_wait_s=10)


def remembering(agent_id: int, days_ago: float, **fields: object) -> WaitingCall:
    served = RememberedAgent(agent_id, NOW - timedelta(days=days_ago))
    return call("repeat", remembered=served, **fields)


def test_a_repeat_caller_goes_to_the_agent_who_served_them_when_ready() -> None:
    board = board_of(MEMORY, [agent(1, idle_s=500), agent(2, idle_s=1)])
    assert route_call(board, remembering(2, days_ago=3), NOW, NO_TURNS).commands == (Offer("repeat", 2),)


def test_a_repeat_caller_waits_for_a_busy_agent_then_goes_to_anyone() -> None:
    repeat = remembering(2, days_ago=3)
    board = board_of(MEMORY, [agent(1), agent(2, A.ON_CALL)], [repeat])
    assert route_call(board, repeat, NOW, NO_TURNS).commands == ()  # held for agent 2
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == ()  # kept from agent 1
    hold_ends = NOW + timedelta(seconds=10)
    assert wake_at(board, "repeat", NOW) == hold_ends
    assert route_call(board, repeat, hold_ends, NO_TURNS).commands == (Offer("repeat", 1),)
    assert agent_ready(board, 1, hold_ends, NO_TURNS).commands == (Offer("repeat", 1),)


def test_the_remembered_agent_freeing_within_the_hold_takes_its_caller_before_older_calls() -> None:
    older = call("older", waited_s=200)
    board = board_of(MEMORY, [agent(2)], [older, remembering(2, days_ago=3)])
    assert agent_ready(board, 2, NOW, NO_TURNS).commands == (Offer("repeat", 2),)


def test_caller_memory_outside_its_window_or_queue_is_ignored() -> None:
    board = board_of(MEMORY, [agent(1, idle_s=500), agent(2, idle_s=1), agent(3, idle_s=1)])
    assert route_call(board, remembering(2, days_ago=31), NOW, NO_TURNS).commands == (Offer("repeat", 1),)
    assert route_call(board, remembering(3, days_ago=1), NOW, NO_TURNS).commands == (Offer("repeat", 1),)
    no_memory = sales(1, 2, memory_days=0)
    off = board_of(no_memory, [agent(1, idle_s=500), agent(2)])
    assert route_call(off, remembering(2, days_ago=1), NOW, NO_TURNS).commands == (Offer("repeat", 1),)


def test_a_repeat_caller_does_not_wait_for_a_logged_out_agent() -> None:
    repeat = remembering(2, days_ago=3)
    board = board_of(MEMORY, [agent(1)], [repeat])
    assert route_call(board, repeat, NOW, NO_TURNS).commands == (Offer("repeat", 1),)
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == (Offer("repeat", 1),)
    assert wake_at(board, "repeat", NOW) == NOW + timedelta(seconds=MEMORY.max_wait_s)


# -- direct dial (ACD-9) ---------------------------------------------------------------------------


def test_a_call_dialled_to_an_agent_goes_to_that_agent_alone() -> None:
    direct = call("direct", direct_agent=5)
    board = board_of(sales(1), [agent(1, idle_s=500), agent(5, A.ON_CALL)], [direct])
    assert route_call(board, direct, NOW, NO_TURNS).commands == ()  # waits for agent 5
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == ()
    board.update_agent(agent(5))
    assert agent_ready(board, 5, NOW, NO_TURNS).commands == (Offer("direct", 5),)
    assert route_call(board, direct, NOW, NO_TURNS).commands == (Offer("direct", 5),)


def test_a_call_dialled_to_a_logged_out_agent_overflows_at_once() -> None:
    board = board_of(sales(1), [agent(1)])
    assert route_call(board, call("direct", direct_agent=5), NOW, NO_TURNS).commands == (
        Overflow("direct", ToVoicemail("sales")),
    )


def falling_back(after_s: float, waited_s: float = 0, agent_id: int = 5) -> WaitingCall:
    """A call dialled to `agent_id` whose number falls back `after_s` after its arrival."""
    arrived = NOW - timedelta(seconds=waited_s)
    return call(
        "direct", waited_s=waited_s, direct_agent=agent_id, fallback_at=arrived + timedelta(seconds=after_s)
    )


def test_a_direct_call_waits_for_its_agent_until_its_fallback_then_goes_to_the_queue() -> None:
    direct = falling_back(after_s=30, waited_s=10)
    board = board_of(sales(1, 5), [agent(1, A.ON_CALL), agent(5, A.ON_CALL)], [direct])
    assert route_call(board, direct, NOW, NO_TURNS).commands == ()  # its agent is busy: it waits
    assert wake_at(board, "direct", NOW) == NOW + timedelta(seconds=20)  # the fallback, before the overflow
    board.update_agent(agent(1))
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == ()  # not agent 1's before the fallback
    later = NOW + timedelta(seconds=20)
    assert route_call(board, direct, later, NO_TURNS).commands == (FallBack("direct"), Offer("direct", 1))


def test_a_fallen_back_call_with_nobody_ready_waits_in_its_queue_with_its_first_arrival() -> None:
    direct = falling_back(after_s=30, waited_s=40)
    board = board_of(sales(1, 5, max_wait_s=60), [agent(1, A.ON_CALL), agent(5, A.ON_CALL)], [direct])
    assert route_call(board, direct, NOW, NO_TURNS).commands == (FallBack("direct"),)
    moved = call("direct", waited_s=40)  # the engine puts it back as its queue's
    board.remove_call("direct")
    board.add_call(moved)
    assert wake_at(board, "direct", NOW) == NOW + timedelta(seconds=20)  # overflow from the first arrival


@pytest.mark.parametrize("why", ["logged out", "not a member"])
def test_a_direct_call_falls_back_at_once_when_its_agent_cannot_take_it(why: str) -> None:
    queue_members = (1,) if why == "not a member" else (1, 5)
    agents = [agent(1), agent(5)] if why == "not a member" else [agent(1)]
    direct = falling_back(after_s=300)
    board = board_of(sales(*queue_members), agents, [direct])
    assert route_call(board, direct, NOW, NO_TURNS).commands == (FallBack("direct"), Offer("direct", 1))


def test_a_direct_call_without_fallback_still_overflows_when_its_agent_is_logged_out() -> None:
    board = board_of(sales(1, 5), [agent(1)])
    direct = call("direct", direct_agent=5)
    assert route_call(board, direct, NOW, NO_TURNS).commands == (Overflow("direct", ToVoicemail("sales")),)


def test_a_direct_call_its_agent_let_ring_out_falls_back_when_its_number_does() -> None:
    board = board_of(sales(1, 5), [agent(1), agent(5, A.RESERVED)])
    decision = ring_no_answer(board, falling_back(after_s=300), [5], NOW, NO_TURNS)
    assert decision.commands == (SetNotReady(5, RING_NO_ANSWER), FallBack("direct"), Offer("direct", 1))


# -- a call taken back after a restart --------------------------------------------------------------


def test_a_taken_back_call_waits_for_its_agents_to_log_in_again_until_its_patience_ends() -> None:
    patient = call("back", waited_s=30, patient_until=NOW + timedelta(seconds=60))
    board = board_of(sales(1, max_wait_s=300), [], [patient])  # nobody logged in after the restart
    assert route_call(board, patient, NOW, NO_TURNS).commands == ()
    assert wake_at(board, "back", NOW) == NOW + timedelta(seconds=60)
    later = NOW + timedelta(seconds=60)
    assert route_call(board, patient, later, NO_TURNS).commands == (Overflow("back", ToVoicemail("sales")),)
    board.update_agent(agent(1))
    assert route_call(board, patient, NOW, NO_TURNS).commands == (Offer("back", 1),)


def test_a_taken_back_call_still_overflows_when_its_wait_is_over() -> None:
    patient = call("back", waited_s=300, patient_until=NOW + timedelta(seconds=60))
    board = board_of(sales(1, max_wait_s=300), [], [patient])
    assert route_call(board, patient, NOW, NO_TURNS).commands == (Overflow("back", ToVoicemail("sales")),)


# -- ring-mode agents who do not answer (ACD-6) ----------------------------------------------------


def test_an_agent_who_lets_the_call_ring_out_is_set_not_ready_and_the_next_is_offered() -> None:
    board = board_of(sales(1, 2, 3), [agent(1, A.RESERVED), agent(2, idle_s=30), agent(3, idle_s=90)])
    decision = ring_no_answer(board, call("c"), [1], NOW, NO_TURNS)
    assert decision.commands == (SetNotReady(1, RING_NO_ANSWER), Offer("c", 3))


def test_the_skipped_agent_is_not_offered_the_call_again_even_if_still_ready() -> None:
    board = board_of(sales(1, 2), [agent(1, idle_s=90), agent(2, idle_s=30)])
    decision = ring_no_answer(board, call("c"), [1], NOW, NO_TURNS)
    assert decision.commands == (SetNotReady(1, RING_NO_ANSWER), Offer("c", 2))


def test_with_nobody_else_the_call_keeps_waiting_after_a_no_answer() -> None:
    board = board_of(sales(1, 2, strategy=Strategy.RING_ALL), [agent(1, A.RESERVED), agent(2, A.RESERVED)])
    decision = ring_no_answer(board, call("c"), [1, 2], NOW, NO_TURNS)
    assert decision.commands == (SetNotReady(1, RING_NO_ANSWER), SetNotReady(2, RING_NO_ANSWER))


def test_a_remembered_agent_who_did_not_answer_is_not_waited_for() -> None:
    board = board_of(MEMORY, [agent(1), agent(2)])
    decision = ring_no_answer(board, remembering(2, days_ago=1), [2], NOW, NO_TURNS)
    assert decision.commands == (SetNotReady(2, RING_NO_ANSWER), Offer("repeat", 1))


def test_a_direct_call_its_agent_did_not_answer_overflows_at_once() -> None:
    board = board_of(sales(1), [agent(1), agent(5, A.RESERVED)])
    decision = ring_no_answer(board, call("direct", direct_agent=5), [5], NOW, NO_TURNS)
    assert decision.commands == (SetNotReady(5, RING_NO_ANSWER), Overflow("direct", ToVoicemail("sales")))


# -- overflow (ACD-6) ------------------------------------------------------------------------------


def test_a_call_overflows_when_its_wait_reaches_the_limit() -> None:
    queue = sales(1, max_wait_s=60, overflow=ToNumber("+8613900139000"))
    board = board_of(queue, [agent(1, A.ON_CALL)])
    assert route_call(board, call("c", waited_s=59.9), NOW, NO_TURNS).commands == ()
    assert route_call(board, call("c", waited_s=60), NOW, NO_TURNS).commands == (
        Overflow("c", ToNumber("+8613900139000")),
    )


def test_an_agent_ready_at_the_limit_still_gets_the_call() -> None:
    board = board_of(sales(1, max_wait_s=60), [agent(1)])
    assert route_call(board, call("c", waited_s=600), NOW, NO_TURNS).commands == (Offer("c", 1),)


def test_a_call_overflows_at_once_when_nobody_of_the_queue_is_logged_in() -> None:
    board = board_of(sales(1, 2), [agent(3)])  # agent 3 is logged in, but not in this queue
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Overflow("c", ToVoicemail("sales")),)
    board.update_agent(agent(2, A.NOT_READY))  # logged in, paused: the call waits
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == ()


def test_overflow_follows_the_chain_to_its_end() -> None:
    first = sales(1, overflow=ToQueue("backup"))
    backup = QueueConfig("backup", members(2), overflow=ToVoicemail("after-hours"))
    board = board_of([first, backup])
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Overflow("c", ToQueue("backup")),)
    moved = call("c", "backup")  # the engine queues it again there
    assert route_call(board, moved, NOW, NO_TURNS).commands == (Overflow("c", ToVoicemail("after-hours")),)
    board.update_agent(agent(2))
    assert route_call(board, moved, NOW, NO_TURNS).commands == (Offer("c", 2),)


def test_wake_at_is_the_overflow_time_for_a_plain_call() -> None:
    board = board_of(sales(1, max_wait_s=90), [agent(1, A.ON_CALL)], [call("c", waited_s=30)])
    assert wake_at(board, "c", NOW) == NOW + timedelta(seconds=60)


def test_a_taken_back_direct_call_keeps_its_agent_while_the_agents_log_in_again() -> None:
    direct = replace(falling_back(after_s=60, waited_s=10), patient_until=NOW + timedelta(seconds=120))
    board = board_of(sales(1, 5), [agent(1)], [direct])  # its agent 5 not logged in yet
    assert route_call(board, direct, NOW, NO_TURNS).commands == ()  # not agent 1's: it waits for 5
    later = NOW + timedelta(seconds=50)  # its number's fallback time: agent 1 may take it
    assert route_call(board, direct, later, NO_TURNS).commands == (FallBack("direct"), Offer("direct", 1))
