"""The agent desk's choice of agent: a running campaign's pacer says who rests (AGT-7), else the state log."""

from __future__ import annotations

from collections import deque

from dialer.agents.state import AgentStatus, Wrap
from dialer.live.desk import AgentDesk, AgentSession
from tests.unit.test_agent_selection import NOW, WORKED, A, ago


def desk() -> AgentDesk:
    tired = AgentSession(
        1, "tired", 7, AgentStatus(1, A.READY, ago(8)), Wrap(None), 0.7, recent=deque(WORKED)
    )
    fresh = AgentSession(2, "fresh", 7, AgentStatus(2, A.READY, ago(3)), Wrap(None), 0.7)
    desk = AgentDesk()
    desk.sessions = {1: tired, 2: fresh}
    return desk


def test_without_a_pacer_the_state_log_says_who_rests() -> None:
    chosen = desk().choose(7, NOW)
    assert chosen is not None and chosen.name == "fresh"  # tired: 22 of the last 30 minutes busy


def test_with_a_pacer_its_resting_agents_alone_are_held_back() -> None:
    chosen = desk().choose(7, NOW, resting=frozenset())
    assert chosen is not None and chosen.name == "tired"  # longest idle; the pacer's meter lets it work
    chosen = desk().choose(7, NOW, resting=frozenset({2}))
    assert chosen is not None and chosen.name == "tired"
    assert desk().choose(7, NOW, resting=frozenset({1, 2})) is None
    assert desk().choose(8, NOW, resting=frozenset()) is None  # another campaign's agents
