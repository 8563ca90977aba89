"""Each agent state change tells the pacer exactly what its own model needs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.persistence.models.enums import AgentState as A
from dialer.agents.state import StateChange
from dialer.live.agent_pacing import pacer_events
from dialer.pacing import events as pe

AT = datetime(2026, 11, 29, 12, tzinfo=UTC)
T = AT.timestamp()


def change(source: A, target: A) -> StateChange:
    return StateChange(7, source, target, None, AT)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        (A.LOGGED_OUT, A.READY, [pe.AgentLoggedIn(T, 7, min_wrap_s=3.0, max_occupancy=0.9)]),
        (A.READY, A.LOGGED_OUT, [pe.AgentLoggedOut(T, 7)]),
        (A.ON_CALL, A.LOGGED_OUT, [pe.AgentLoggedOut(T, 7)]),
        (A.NOT_READY, A.READY, [pe.AgentResumed(T, 7)]),
        (A.WRAP_UP, A.READY, [pe.WrapEnded(T, 7)]),
        (A.RESERVED, A.READY, [pe.TalkEnded(T, 7), pe.WrapEnded(T, 7)]),
        (A.ON_CALL, A.WRAP_UP, [pe.TalkEnded(T, 7)]),
        (A.READY, A.NOT_READY, [pe.AgentPaused(T, 7)]),
        (A.WRAP_UP, A.NOT_READY, [pe.AgentPaused(T, 7)]),
        (A.READY, A.RESERVED, []),
        (A.RESERVED, A.ON_CALL, []),
    ],
)
def test_changes_of_a_predictive_agent(source: A, target: A, expected: list[pe.PacingEvent]) -> None:
    assert pacer_events(change(source, target), held=False, max_occupancy=0.9, min_wrap_s=3.0) == expected


def test_an_agent_held_for_its_own_call_is_paused_until_ready() -> None:
    for source, target in [(A.RESERVED, A.ON_CALL), (A.ON_CALL, A.WRAP_UP), (A.WRAP_UP, A.NOT_READY)]:
        assert pacer_events(change(source, target), held=True) == []
    assert pacer_events(change(A.WRAP_UP, A.READY), held=True) == [pe.AgentResumed(T, 7)]
    assert pacer_events(change(A.RESERVED, A.READY), held=True) == [pe.AgentResumed(T, 7)]
    assert pacer_events(change(A.ON_CALL, A.LOGGED_OUT), held=True) == [pe.AgentLoggedOut(T, 7)]
