"""Agent utilization from the state log, computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns.persistence.models.enums import AgentState
from reports.campaign_summary import CampaignSummary, utilization

T0 = datetime(2026, 11, 29, 10, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_utilization_counts_reserved_talk_and_wrap_over_logged_in_time() -> None:
    A = AgentState
    changes = [
        (1, A.READY, at(0)),  # agent 1 logs in
        (1, A.RESERVED, at(10)),
        (1, A.ON_CALL, at(11)),
        (1, A.WRAP_UP, at(41)),
        (1, A.READY, at(51)),  # 41 s working so far
        (2, A.READY, at(20)),  # agent 2: 20 s ready, 20 s paused, then logged out
        (2, A.NOT_READY, at(40)),
        (2, A.LOGGED_OUT, at(60)),
    ]
    # agent 1: logged in 0..100 (100 s), working 10..51 (41 s); agent 2: logged in 40 s, working 0
    assert utilization(changes, at(100)) == 41 / 140


def test_no_agent_time_has_no_utilization_and_rates_have_no_zero_division() -> None:
    assert utilization([], at(100)) is None
    empty = CampaignSummary(0, 0, 0, 0, 0, 0, None, None, None)
    assert (empty.answer_rate, empty.abandon_rate) == (0.0, 0.0)
    some = CampaignSummary(10, 6, 4, 2, 3, 1, 5, 9, 0.5)
    assert (some.answer_rate, some.abandon_rate) == (0.6, 0.25)
