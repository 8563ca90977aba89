"""While a call waits: its position and estimated wait, what inbound holds of blended agents, and the
board keeping its indexes current."""

from __future__ import annotations

import pytest

from dialer.acd.announcements import announce, estimated_wait_s
from dialer.acd.blending import waiting_for
from dialer.acd.commands import Announce, Offer
from dialer.acd.queues import QueueConfig
from dialer.acd.router import agent_ready, route_call
from ringcast.errors import UserError
from tests.unit.test_acd_router import NO_TURNS, NOW, A, agent, board_of, call, members, sales


def test_ewt_is_position_times_handle_time_over_staffed_agents() -> None:
    assert estimated_wait_s(1, aht_s=120, staffed=4) == 30
    assert estimated_wait_s(3, aht_s=120, staffed=2) == 180
    assert estimated_wait_s(1, aht_s=120, staffed=0) is None


def test_announcements_give_each_callers_place_and_wait() -> None:
    calls = [call("first", waited_s=90), call("second", waited_s=30), call("vip", waited_s=5, priority=3)]
    staff = [agent(1, A.ON_CALL), agent(2, A.WRAP_UP), agent(3, A.NOT_READY)]  # paused: not staffed
    board = board_of(sales(1, 2, 3, 4), staff, calls)
    assert [announce(board, c, aht_s=100) for c in ("vip", "first", "second")] == [
        Announce("vip", 1, 50.0),
        Announce("first", 2, 100.0),
        Announce("second", 3, 150.0),
    ]
    board.remove_call("vip")
    assert announce(board, "second", aht_s=100) == Announce("second", 2, 100.0)
    for agent_id in (1, 2):
        board.update_agent(agent(agent_id, A.LOGGED_OUT))
    assert announce(board, "second", aht_s=100) == Announce("second", 2, None)


def test_a_direct_calls_place_is_among_the_calls_for_its_agent() -> None:
    board = board_of(sales(1), [agent(5, A.ON_CALL)], [call("d1", waited_s=20, direct_agent=5), call("q")])
    board.add_call(call("d2", waited_s=10, direct_agent=5))
    assert announce(board, "d2", aht_s=60) == Announce("d2", 2, 120.0)  # behind d1, one agent
    board.update_agent(agent(5, A.NOT_READY))
    assert announce(board, "d1", aht_s=60) == Announce("d1", 1, None)


def test_the_calls_waiting_for_agents_are_those_of_their_queues_and_those_dialled_to_them() -> None:
    queues = [sales(1, 2), QueueConfig("support", members(1)), QueueConfig("billing", members(3))]
    calls = [
        call("s1"),
        call("s2"),
        call("t1", "support"),
        call("b1", "billing"),  # not agent 1's queue
        call("d1", "billing", direct_agent=1),  # dialled to agent 1
        call("d3", "sales", direct_agent=3),  # dialled to another agent
    ]
    board = board_of(queues, [agent(1), agent(3)], calls)
    assert waiting_for(board, [1]) == 4
    assert waiting_for(board, [1, 3]) == 6
    assert waiting_for(board, []) == 0


def test_an_agent_leaving_ready_leaves_the_routing_index() -> None:
    board = board_of(sales(1, 2), [agent(1, idle_s=90), agent(2)])
    board.update_agent(agent(1, A.RESERVED))
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == (Offer("c", 2),)
    board.update_agent(agent(2, A.LOGGED_OUT))
    assert board.agent(2) is None
    assert route_call(board, call("c"), NOW, NO_TURNS).commands == ()  # agent 1 logged in, busy


def test_a_call_taken_off_the_board_is_no_longer_offered() -> None:
    board = board_of(sales(1), [agent(1)], [call("a", waited_s=60), call("b")])
    assert board.remove_call("a") == call("a", waited_s=60)
    assert agent_ready(board, 1, NOW, NO_TURNS).commands == (Offer("b", 1),)


def test_a_call_for_an_unknown_queue_or_twice_the_same_is_refused() -> None:
    board = board_of(sales(1), calls=[call("a")])
    with pytest.raises(UserError, match="call b: no queue 'nowhere'"):
        board.add_call(call("b", "nowhere"))
    with pytest.raises(UserError, match="call a is already waiting"):
        board.add_call(call("a"))
