"""The trunks report's inbound section (RPT-3): calls per inbound number, computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.persistence.db import Database
from campaigns.persistence.models import InboundCall
from campaigns.persistence.models.enums import InboundOutcome
from reports.inbound_numbers import inbound_numbers_report
from reports.query import Bucket, ReportQuery

pytestmark = pytest.mark.db

SHANGHAI = "Asia/Shanghai"
HOTLINE, SALES = "+864001234567", "95555"
OUT = InboundOutcome


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Shanghai wall-clock time on 2026-11-`day`, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(SHANGHAI)).astimezone(UTC)


def calls(database: Database) -> None:
    """(DID, arrived, outcome, answered after s, ended after s) by hand."""
    made = [
        (HOTLINE, at(23, 9), OUT.ANSWERED, 30, 150),  # 120 s of talk
        (HOTLINE, at(23, 10), OUT.ANSWERED, 10, 70.5),  # 60.5 s
        (HOTLINE, at(23, 11), OUT.ABANDONED, None, 40),
        (HOTLINE, at(23, 12), OUT.IVR_ONLY, None, 20),
        (HOTLINE, at(23, 23, 58), OUT.ANSWERED, 20, 620),  # arrived on the 23rd, ended on the 24th: 600 s
        (HOTLINE, at(24, 9), OUT.OVERFLOWED_VOICEMAIL, None, 90),
        (HOTLINE, at(24, 10), None, None, None),  # in progress
        (SALES, at(23, 14), OUT.REFUSED, None, 5),
        (SALES, at(23, 15), OUT.FAILED, None, 8),
        (SALES, at(23, 16), OUT.OVERFLOWED_NUMBER, None, 60),
        (HOTLINE, at(22, 23, 59), OUT.ANSWERED, 5, 100),  # the day before: not counted
    ]
    with database.session() as session:
        for n, (did, arrived, outcome, answered_s, ended_s) in enumerate(made):
            session.add(
                InboundCall(
                    uniqueid=f"1700000000.{n}",
                    did=did,
                    caller="+8613800138000",
                    arrived_at=arrived,
                    answered_at=None if answered_s is None else arrived + timedelta(seconds=answered_s),
                    ended_at=None if ended_s is None else arrived + timedelta(seconds=ended_s),
                    outcome=outcome,
                )
            )


def test_calls_per_number_by_how_they_ended(database: Database) -> None:
    calls(database)
    report = inbound_numbers_report(database, ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI))
    assert report is not None
    assert report.header[:11] == [
        "DID",
        "calls",
        "answered",
        "IVR only",
        "abandoned",
        "voicemail",
        "forwarded",
        "refused",
        "failed",
        "in progress",
        "answer rate",
    ]
    # DID, calls, answered, IVR only, abandoned, voicemail, forwarded, refused, failed, in progress,
    # answer rate (answered / ended), talk s, average talk s
    assert report.rows == [
        [HOTLINE, 7, 3, 1, 1, 1, 0, 0, 0, 1, 3 / 6, 780.5, 780.5 / 3],
        [SALES, 3, 0, 0, 0, 0, 1, 1, 1, 0, 0.0, 0.0, None],
    ]


def test_by_day_a_call_counts_on_the_day_it_arrived_and_campaigns_have_no_inbound_calls(
    database: Database,
) -> None:
    calls(database)
    by_day = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI, by=Bucket.DAY)
    report = inbound_numbers_report(database, by_day)
    assert report is not None
    assert [(row[0], row[1], row[2], row[3], row[-2]) for row in report.rows] == [
        ("2026-11-23", HOTLINE, 5, 3, 780.5),  # the call ended on the 24th counts on the 23rd, all of it
        ("2026-11-23", SALES, 3, 0, 0.0),
        ("2026-11-24", HOTLINE, 2, 0, 0.0),
    ]
    named = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI, campaign="秋季回访")
    assert inbound_numbers_report(database, named) is None
