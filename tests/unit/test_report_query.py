"""A report's period and buckets (RPT-7): local days, DST, half-hour zones, ISO weeks; cells as shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reports.buckets import start_of
from reports.query import Bucket, ReportQuery
from reports.tables import Kind, ratio, shown
from ringcast.errors import UserError


def test_the_period_runs_from_the_first_local_midnight_to_the_one_after_the_last_day() -> None:
    query = ReportQuery.parse("2026-11-23", "2026-11-24", "Asia/Shanghai")
    assert (query.since, query.until) == (
        datetime(2026, 11, 22, 16, tzinfo=UTC),
        datetime(2026, 11, 24, 16, tzinfo=UTC),
    )


def test_a_dst_day_is_as_long_as_the_wall_clock_says() -> None:
    query = ReportQuery.parse("2026-03-08", "2026-03-08", "America/New_York")  # clocks go forward
    assert (query.until - query.since).total_seconds() == 23 * 3600


@pytest.mark.parametrize(
    ("by", "instant", "label"),
    [
        (Bucket.HOUR, datetime(2026, 11, 23, 15, 59, tzinfo=UTC), "2026-11-23 23:00"),
        (Bucket.DAY, datetime(2026, 11, 23, 16, 1, tzinfo=UTC), "2026-11-24"),
        (Bucket.WEEK, datetime(2026, 11, 29, 15, 59, tzinfo=UTC), "2026-W48"),  # Sunday night
        (Bucket.WEEK, datetime(2026, 11, 29, 16, 0, tzinfo=UTC), "2026-W49"),  # Monday 00:00
    ],
)
def test_buckets_are_local(by: Bucket, instant: datetime, label: str) -> None:
    query = ReportQuery.parse("2026-11-01", "2026-11-30", "Asia/Shanghai", by=by)
    assert query.bucket_of(instant) == label


def test_a_half_hour_zone_buckets_whole_quarter_hours() -> None:
    query = ReportQuery.parse("2026-11-23", "2026-11-23", "Asia/Kolkata", by=Bucket.HOUR)
    quarter = int(datetime(2026, 11, 23, 3, 30, tzinfo=UTC).timestamp()) // 900  # 09:00 in Kolkata
    assert query.bucket_of(start_of(quarter)) == "2026-11-23 09:00"
    assert query.bucket_of(start_of(quarter - 1)) == "2026-11-23 08:00"


@pytest.mark.parametrize(
    ("first", "last", "zone", "problem"),
    [
        ("2026-11-31", "2026-12-01", "UTC", "--from '2026-11-31' is not a date"),
        ("2026-12-02", "2026-12-01", "UTC", "--from 2026-12-02 is after --to 2026-12-01"),
        ("2026-12-01", "2026-12-01", "Mars/Olympus", "--tz 'Mars/Olympus' is not a time zone"),
    ],
)
def test_bad_periods_are_one_line_errors(first: str, last: str, zone: str, problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        ReportQuery.parse(first, last, zone)


def test_cells_read_as_people_read_them() -> None:
    assert ratio(1, 0) is None and ratio(1, 4) == 0.25
    assert [shown(None, Kind.RATE), shown(0.25, Kind.RATE), shown(3725, Kind.SECONDS)] == [
        "—",
        "25.0%",
        "1:02:05",
    ]
    assert [shown(12345, Kind.COUNT), shown(1.4, Kind.COUNT), shown("sale 2", Kind.TEXT)] == [
        "12,345",
        "1.40",
        "sale 2",
    ]
