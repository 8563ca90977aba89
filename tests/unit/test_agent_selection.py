"""Choosing the agent for an answered call: longest idle, ties by id, the occupancy guard (AGT-7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.persistence.models.enums import AgentState
from dialer.agents.selection import Candidate, choose_agent, eligible, longest_idle, occupancy, rested_at
from dialer.agents.state import AgentStatus, StateChange

A = AgentState
NOW = datetime(2024, 5, 6, 3, 0, tzinfo=UTC)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def ready(agent_id: int, minutes_idle: float, **candidate: object) -> Candidate:
    return Candidate(AgentStatus(agent_id, A.READY, ago(minutes_idle)), **candidate)  # type: ignore[arg-type]


def change(from_state: AgentState, to_state: AgentState, minutes_ago: float) -> StateChange:
    return StateChange(1, from_state, to_state, None, ago(minutes_ago))


# 20 minutes on a call, 2 of wrap-up, ready for the last 8: 22 of the last 30 minutes busy
WORKED = (
    change(A.LOGGED_OUT, A.READY, 45),
    change(A.READY, A.RESERVED, 30),
    change(A.RESERVED, A.ON_CALL, 30),
    change(A.ON_CALL, A.WRAP_UP, 10),
    change(A.WRAP_UP, A.READY, 8),
)


def test_the_longest_idle_ready_agent_is_chosen() -> None:
    chosen = choose_agent([ready(1, 2), ready(2, 9), ready(3, 5)], NOW)
    assert chosen == AgentStatus(2, A.READY, ago(9))


def test_ties_go_to_the_lowest_agent_id() -> None:
    assert choose_agent([ready(7, 5), ready(4, 5), ready(9, 5)], NOW) == AgentStatus(4, A.READY, ago(5))


@pytest.mark.parametrize("state", [A.LOGGED_OUT, A.NOT_READY, A.RESERVED, A.ON_CALL, A.WRAP_UP])
def test_only_ready_agents_are_offered_calls(state: AgentState) -> None:
    busy = Candidate(AgentStatus(1, state, ago(60)))
    assert not eligible(busy, NOW)
    assert choose_agent([busy], NOW) is None
    assert choose_agent([busy, ready(2, 1)], NOW) == AgentStatus(2, A.READY, ago(1))


def test_no_candidates_no_agent() -> None:
    assert choose_agent([], NOW) is None


def test_occupancy_is_the_busy_share_of_the_window() -> None:
    assert occupancy(WORKED, NOW) == pytest.approx(22 / 30)
    assert occupancy(WORKED, NOW, timedelta(minutes=60)) == pytest.approx(22 / 60)
    assert occupancy(WORKED[3:], NOW, timedelta(minutes=5)) == 0.0  # ready for all of the last 5 minutes
    assert occupancy(WORKED[:3], NOW) == 1.0  # still on the call
    assert occupancy((), NOW) == 0.0


def test_time_before_the_first_change_counts_in_its_from_state() -> None:
    assert occupancy((change(A.ON_CALL, A.WRAP_UP, 10), change(A.WRAP_UP, A.READY, 5)), NOW) == pytest.approx(
        25 / 30
    )


def test_pauses_count_as_rest_and_changes_after_now_are_ignored() -> None:
    paused = (change(A.READY, A.NOT_READY, 40), change(A.NOT_READY, A.READY, 5))
    assert occupancy(paused, NOW) == 0.0
    later = (
        change(A.READY, A.ON_CALL, 6),
        StateChange(1, A.ON_CALL, A.WRAP_UP, None, NOW + timedelta(minutes=1)),
    )
    assert occupancy(later, NOW) == pytest.approx(6 / 30)


def test_an_agent_over_its_maximum_occupancy_rests() -> None:
    tired = ready(1, 8, recent=WORKED, max_occupancy=0.7)
    fresh = ready(2, 3)
    assert not eligible(tired, NOW)
    assert choose_agent([tired, fresh], NOW) == fresh.status
    assert choose_agent([tired], NOW) is None
    allowed_more = ready(1, 8, recent=WORKED, max_occupancy=0.8)
    assert choose_agent([allowed_more, fresh], NOW) == allowed_more.status
    no_limit = ready(1, 8, recent=WORKED)
    assert choose_agent([no_limit, fresh], NOW) == no_limit.status


def test_a_resting_agent_is_eligible_again_once_its_busy_time_slides_out_of_the_window() -> None:
    tired = ready(1, 8, recent=WORKED, max_occupancy=0.7)  # 22 busy minutes of 30, 21 allowed
    at = rested_at(tired, NOW)
    assert at == NOW + timedelta(minutes=1, milliseconds=1)
    assert not eligible(tired, at - timedelta(milliseconds=2)) and eligible(tired, at)
    spells = (
        change(A.READY, A.ON_CALL, 30),
        change(A.ON_CALL, A.READY, 25),
        change(A.READY, A.ON_CALL, 20),
        change(A.ON_CALL, A.READY, 10),
    )  # 15 busy minutes, 9 allowed: the first spell's 5, then 1 of the second, must slide out
    twice = ready(1, 10, recent=spells, max_occupancy=0.3)
    assert rested_at(twice, NOW) == NOW + timedelta(minutes=11, milliseconds=1)


def test_only_a_ready_agent_resting_has_a_time_it_is_rested() -> None:
    assert rested_at(ready(1, 8, recent=WORKED, max_occupancy=0.8), NOW) is None  # eligible now
    assert rested_at(ready(1, 8, recent=WORKED), NOW) is None  # no limit
    assert rested_at(ready(1, 8, recent=WORKED, max_occupancy=0.0), NOW) is None  # never eligible
    paused = Candidate(AgentStatus(1, A.NOT_READY, ago(8)), WORKED, 0.7)
    assert rested_at(paused, NOW) is None


def test_another_rank_plugs_in() -> None:
    candidates = [ready(1, 9), ready(2, 1)]
    assert choose_agent(candidates, NOW, rank=lambda c: -c.status.agent_id) == candidates[1].status
    assert longest_idle(candidates[0]) == (ago(9), 1)
