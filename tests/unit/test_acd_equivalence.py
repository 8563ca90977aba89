"""The router's indexed decisions equal the naive baseline's (a scan of every call and agent) on
random boards, ties and boundaries included, after agents changed state and calls left."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.persistence.models.enums import AgentState
from dialer.acd import baseline, router
from dialer.acd.board import Board
from dialer.acd.calls import RememberedAgent, WaitingCall
from dialer.acd.queues import QueueConfig, QueueMember, Strategy
from dialer.acd.strategies import Turns
from dialer.agents.selection import Candidate
from dialer.agents.state import AgentStatus
from tests.unit.test_agent_selection import NOW, WORKED

AGENTS = range(1, 9)
QUEUES = ("q0", "q1", "q2")
SECONDS = st.sampled_from([0, 10, 20, 200])  # few values: ties are common


@st.composite
def queues(draw: st.DrawFn, name: str) -> QueueConfig:
    agent_ids = draw(st.lists(st.sampled_from(AGENTS), unique=True, max_size=6))
    return QueueConfig(
        name,
        tuple(
            QueueMember(a, skill=draw(st.sampled_from([4, 5, 6])), supervisor=draw(st.booleans()))
            for a in agent_ids
        ),
        draw(st.sampled_from(Strategy)),
        priority=draw(st.sampled_from([0, 1])),
        max_wait_s=draw(st.sampled_from([60, 300])),
        memory_days=draw(st.sampled_from([0, 30])),
        memory_wait_s=draw(st.sampled_from([0, 10])),
    )


@st.composite
def agents(draw: st.DrawFn, agent_id: int) -> Candidate:
    status = AgentStatus(agent_id, draw(st.sampled_from(AgentState)), NOW - timedelta(seconds=draw(SECONDS)))
    tired = draw(st.booleans())
    return Candidate(status, WORKED if tired else (), draw(st.sampled_from([1.0, 0.7])))


@st.composite
def calls(draw: st.DrawFn, call_id: str) -> WaitingCall:
    remembered = draw(
        st.none()
        | st.builds(
            RememberedAgent,
            st.sampled_from(AGENTS),
            st.sampled_from([NOW - timedelta(days=1), NOW - timedelta(days=40)]),
        )
    )
    direct = draw(st.none() | st.sampled_from(AGENTS)) if draw(st.integers(0, 4)) == 0 else None
    return WaitingCall(
        call_id,
        draw(st.sampled_from(QUEUES)),
        NOW - timedelta(seconds=draw(SECONDS)),
        "+8613800138000",
        priority=draw(st.sampled_from([0, 1])),
        remembered=None if direct is not None else remembered,
        direct_agent=direct,
    )


@st.composite
def floors(draw: st.DrawFn) -> tuple[Board, list[WaitingCall], Turns, datetime]:
    """A board after random agent changes and departures, fresh calls to route, turns and a `now`."""
    board = Board([draw(queues(name)) for name in QUEUES])
    for agent_id in AGENTS:  # each agent's state set, some set again
        for _ in range(draw(st.integers(0, 2))):
            board.update_agent(draw(agents(agent_id)))
    waiting = [draw(calls(f"w{n}")) for n in range(draw(st.integers(0, 10)))]
    for call in waiting:
        board.add_call(call)
    for call in waiting:
        if draw(st.booleans()):
            board.remove_call(call.call_id)
    turns = Turns(
        last_offered={q: draw(st.sampled_from(AGENTS)) for q in QUEUES if draw(st.booleans())},
        answered={a: draw(st.integers(0, 2)) for a in AGENTS},
    )
    fresh = [draw(calls(f"f{n}")) for n in range(3)]
    return board, fresh, turns, NOW + timedelta(seconds=draw(st.sampled_from([0, 5, 15, 400])))


@settings(max_examples=200, deadline=None)
@given(floors(), st.sets(st.sampled_from(AGENTS), max_size=3))
def test_the_router_decides_as_the_naive_scan(
    floor: tuple[Board, list[WaitingCall], Turns, datetime], skip: set[int]
) -> None:
    board, fresh, turns, now = floor
    for agent_id in [*AGENTS, 99]:
        assert router.agent_ready(board, agent_id, now, turns) == baseline.agent_ready(
            board, agent_id, now, turns
        )
    for call in [*board.calls.values(), *fresh]:
        assert router.route_call(board, call, now, turns) == baseline.route_call(board, call, now, turns)
        assert router.route_call(board, call, now, turns, skip) == baseline.route_call(
            board, call, now, turns, skip
        )
