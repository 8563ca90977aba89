"""The `agents` report's pure parts: state spans clipped to the period and split into buckets, formulas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns.persistence.models.enums import AgentState
from reports.agents_report import (
    Figures,
    Span,
    average_handle_time,
    bucket_starts,
    calls_per_hour,
    dispositions_text,
    occupancy,
    ranks,
    rows,
    split,
    timeline,
)
from reports.query import Bucket, ReportQuery

READY, NOT_READY, ON_CALL = AgentState.READY, AgentState.NOT_READY, AgentState.ON_CALL
WRAP_UP, LOGGED_OUT, RESERVED = AgentState.WRAP_UP, AgentState.LOGGED_OUT, AgentState.RESERVED
SINCE = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Shanghai midnight
UNTIL = SINCE + timedelta(days=1)


def t(minutes: float) -> datetime:
    return SINCE + timedelta(minutes=minutes)


def test_a_state_open_at_since_counts_from_since_and_one_open_at_until_up_to_until() -> None:
    changes = [(t(3), WRAP_UP), (t(5), READY), (t(120), LOGGED_OUT), (t(1420), ON_CALL)]
    assert timeline(ON_CALL, changes, SINCE, UNTIL) == [
        Span(ON_CALL, SINCE, t(3)),
        Span(WRAP_UP, t(3), t(5)),
        Span(READY, t(5), t(120)),
        Span(ON_CALL, t(1420), UNTIL),  # logged-out time is not a span
    ]


def test_unknown_logged_out_and_uncounted_states_make_no_span() -> None:
    assert timeline(None, [], SINCE, UNTIL) == []  # never logged in before the period, nothing after
    assert timeline(LOGGED_OUT, [], SINCE, UNTIL) == []
    assert timeline(READY, [], SINCE, UNTIL) == [Span(READY, SINCE, UNTIL)]  # ready all day
    # another campaign's spell (None) ends this campaign's ready span and is not counted itself
    assert timeline(READY, [(t(10), None), (t(20), NOT_READY)], SINCE, UNTIL) == [
        Span(READY, SINCE, t(10)),
        Span(NOT_READY, t(20), UNTIL),
    ]


def test_changes_at_the_same_instant_or_at_since_leave_no_empty_span() -> None:
    changes = [(SINCE, READY), (t(1), RESERVED), (t(1), ON_CALL)]
    assert timeline(NOT_READY, changes, SINCE, t(2)) == [Span(READY, SINCE, t(1)), Span(ON_CALL, t(1), t(2))]


def shanghai(by: Bucket | None, first: str = "2026-11-23", last: str = "2026-11-23") -> ReportQuery:
    return ReportQuery.parse(first, last, "Asia/Shanghai", by=by)


def test_bucket_starts_are_local_hours_days_or_one_period() -> None:
    assert bucket_starts(shanghai(None)) == [(SINCE, "")]
    hours = bucket_starts(shanghai(Bucket.HOUR))
    assert len(hours) == 24
    assert hours[0] == (SINCE, "2026-11-23 00:00")
    assert hours[23] == (SINCE + timedelta(hours=23), "2026-11-23 23:00")
    days = bucket_starts(shanghai(Bucket.DAY, "2026-11-23", "2026-11-24"))
    assert days == [(SINCE, "2026-11-23"), (UNTIL, "2026-11-24")]


def test_local_hours_off_the_utc_hour_and_a_dst_day() -> None:
    kathmandu = ReportQuery.parse("2026-11-23", "2026-11-23", "Asia/Kathmandu", by=Bucket.HOUR)  # UTC+05:45
    hours = bucket_starts(kathmandu)
    assert hours[1] == (datetime(2026, 11, 22, 19, 15, tzinfo=UTC), "2026-11-23 01:00")
    # New York falls back on 2026-11-01: 25 hours, and the wall clock shows 01:00 for two of them,
    # which make one bucket of 7200 s (the label is the bucket, as for the grouped calls)
    new_york = ReportQuery.parse("2026-11-01", "2026-11-01", "America/New_York", by=Bucket.HOUR)
    starts = bucket_starts(new_york)
    assert len(starts) == 24
    assert starts[1][1] == "2026-11-01 01:00"
    assert (starts[2][0] - starts[1][0]).total_seconds() == 7200
    assert new_york.until - new_york.since == timedelta(hours=25)


def test_split_cuts_a_span_exactly_at_bucket_starts() -> None:
    starts = [SINCE, t(60), t(120), t(180)]
    assert list(split(Span(READY, t(50), t(130.5)), starts)) == [(0, 600.0), (1, 3600.0), (2, 630.0)]
    assert list(split(Span(READY, t(60), t(70)), starts)) == [(1, 600.0)]  # starts at a boundary
    assert list(split(Span(READY, t(170), t(240)), starts)) == [(2, 600.0), (3, 3600.0)]  # the last one
    assert list(split(Span(READY, SINCE, t(0.5)), [SINCE])) == [(0, 30.0)]


def test_formulas_and_zero_denominators() -> None:
    # AHT = (talk + hold + wrap-up) / calls handled
    assert average_handle_time(1500, 0, 240, 2) == 870
    assert average_handle_time(0, 0, 120, 0) is None  # wrap-up time but no call: no AHT, not 0 nor ∞
    # occupancy = busy / (busy + idle)
    assert occupancy(2220, 5280) == 2220 / 7500
    assert occupancy(0, 1800) == 0
    assert occupancy(0, 0) is None  # only paused
    # calls per hour logged in
    assert calls_per_hour(2, 8400) == 7200 / 8400
    assert calls_per_hour(0, 1800) == 0
    assert calls_per_hour(1, 0) is None


def test_ranks_by_calls_then_lower_aht_ties_share_a_rank() -> None:
    keys = [(3, 100.0), (3, 90.0), (3, 100.0), (0, None), (5, 200.0), (0, None)]
    assert ranks(keys) == [3, 2, 3, 5, 1, 5]
    assert ranks([]) == []


def test_dispositions_most_frequent_first_then_by_code() -> None:
    assert dispositions_text({"callback": 1, "sale": 3, None: 1, "busy_later": 1}) == (
        "sale 3, (none) 1, busy_later 1, callback 1"
    )
    assert dispositions_text({}) == ""
    assert dispositions_text({"sale": 0}) == ""


def test_rows_rank_within_each_bucket_and_leave_out_idle_agents() -> None:
    wang, li, zhao, absent = Figures(calls=1, talk_ms=300_000), Figures(), Figures(), Figures()
    wang.seconds[WRAP_UP] = 120.0
    wang.seconds[READY] = 2700.0
    wang.dispositions["sale"] = 1
    li.seconds[READY] = 1800.0
    zhao.seconds[NOT_READY] = 60.0
    figures = {("00", "wang"): wang, ("00", "li"): li, ("01", "zhao"): zhao, ("01", "absent"): absent}
    assert rows(figures, ["00", "01"], by=True) == [
        # AHT (300 + 0 + 120) / 1; occupancy 120 / (120 + 2700); 1 call in 2820 s logged in
        [
            "00",
            "wang",
            1,
            300.0,
            0.0,
            120.0,
            2700.0,
            0.0,
            2820.0,
            120 / 2820,
            420.0,
            3600 / 2820,
            "sale 1",
            1,
        ],
        ["00", "li", 0, 0.0, 0.0, 0.0, 1800.0, 0.0, 1800.0, 0.0, None, 0.0, "", 2],
        # paused only: occupancy has no denominator
        ["01", "zhao", 0, 0.0, 0.0, 0.0, 0.0, 60.0, 60.0, None, None, 0.0, "", 1],
    ]
