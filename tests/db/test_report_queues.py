"""The `queues` report (RPT-2) against hand-built days, on SQLite and PostgreSQL.

Every expected figure is computed by hand in the comments next to it (docs/metrics.md, "Queues"):
answers inside and outside the service level and one exactly at its threshold, a short abandon and
an abandon exactly at the short-abandon threshold (not short), an overflow from sales to support,
an overflow to a number, a call lost at an engine restart, a call still waiting, a call entering
before local midnight and answered after it, calls outside the period, a queue whose only call is
a short abandon (zero denominators), and New York's 25-hour DST day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigns import inbound_store as store
from campaigns import queue_store
from campaigns.inbound_store import InboundOutcome
from campaigns.persistence.db import Database
from cli.main import app
from dialer.acd.queues import ServiceLevel, ToQueue
from reports.query import Bucket, ReportQuery
from reports.queues_report import queues_report
from ringcast.errors import UserError
from tests.db.test_queue_store import CHANGE, add_agents

pytestmark = pytest.mark.db

SHANGHAI = "Asia/Shanghai"  # UTC+8, no DST; the period 23rd-24th is [22nd 16:00, 24th 16:00) UTC
NEW_YORK = "America/New_York"  # 2026-11-01 is 25 hours long: 01:00-02:00 comes twice
HEADER = [
    "queue",
    "offered",
    "answered",
    "abandoned",
    "short abandons",
    "overflowed",
    "failed",
    "waiting",
    "abandon rate",
    "service level",
    "target",
    "ASA",
    "longest wait",
    "average talk",
]


def utc(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@dataclass
class Calls:
    """Writes calls through the engine's API, as the engine would."""

    database: Database
    agent: int
    ids: Iterator[int]

    def enter(self, queue: str, entered: datetime) -> int:
        call = store.open_call(
            self.database,
            uniqueid=f"1700000000.{next(self.ids)}",
            linkedid=None,
            did="+864001234567",
            caller="+8613800138000",
            region=None,
            arrived_at=entered - timedelta(seconds=15),  # the IVR first
        )
        store.enter_queue(self.database, call, queue, entered, priority=0)
        return call

    def answered(self, queue: str, entered: datetime, wait_s: int, talk_s: int) -> int:
        call = self.enter(queue, entered)
        store.answer(self.database, call, self.agent, entered + timedelta(seconds=wait_s))
        store.end_call(
            self.database, call, entered + timedelta(seconds=wait_s + talk_s), InboundOutcome.ANSWERED
        )
        return call

    def abandoned(self, queue: str, entered: datetime, wait_s: int) -> None:
        call = self.enter(queue, entered)
        store.end_call(self.database, call, entered + timedelta(seconds=wait_s), InboundOutcome.ABANDONED)


@pytest.fixture
def calls(database: Database) -> Calls:
    queue_store.create_queue(
        database, "support", {"short_abandon_s": 10, "service_level": ServiceLevel(0.9, 30)}, CHANGE
    )
    queue_store.create_queue(database, "sales", {"overflow": ToQueue("support")}, CHANGE)  # 5 s, 80/20
    queue_store.create_queue(database, "vip", {}, CHANGE)
    return Calls(database, add_agents(database, "li")["li"], count())


def hand_built_days(calls: Calls) -> None:
    database = calls.database
    # sales, the 23rd (local)
    calls.answered("sales", utc(23, 2), 10, 300)  # within 20 s
    calls.answered("sales", utc(23, 2, 10), 25, 120)  # outside
    calls.abandoned("sales", utc(23, 2, 20), 3)  # short: 3 < 5
    calls.abandoned("sales", utc(23, 2, 30), 40)
    overflowing = calls.enter("sales", utc(23, 2, 40))
    store.overflow(database, overflowing, utc(23, 2, 45), "queue:support")  # waited 300 s in sales
    store.enter_queue(database, overflowing, "support", utc(23, 2, 45), priority=0)
    store.answer(database, overflowing, calls.agent, utc(23, 2, 45, 12))  # 12 s in support
    store.end_call(database, overflowing, utc(23, 2, 50, 12), InboundOutcome.ANSWERED)  # talk 300 s
    lost = calls.enter("sales", utc(23, 3))  # lost at an engine restart: failed, wait unknown
    calls.answered("sales", utc(23, 15, 59, 50), 25, 600)  # 23:59:50 local, answered on the 24th
    # sales, the 24th (local)
    calls.abandoned("sales", utc(23, 16, 30), 5)  # 5 s: not short (short is less than 5 s)
    waiting = calls.enter("sales", utc(24, 10))  # still waiting: offered, nothing else
    store.close_stale(database, utc(24, 11), [lost])
    assert [left.call_id for left in store.left_open(database)] == [waiting]
    # outside the period
    calls.answered("sales", utc(22, 15, 59), 5, 60)  # 22nd 23:59 local
    calls.answered("sales", utc(24, 16), 5, 60)  # 25th 00:00 local: the end, excluded
    # support, the 23rd
    calls.answered("support", utc(23, 4), 30, 60)  # exactly 30 s: within 90/30
    calls.abandoned("support", utc(23, 4, 10), 8)  # short: 8 < 10 (support's threshold)
    to_number = calls.enter("support", utc(23, 4, 20))
    store.overflow(database, to_number, utc(23, 4, 23, 20), "number:+8613900139000")  # after 200 s
    store.end_call(database, to_number, utc(23, 4, 24), InboundOutcome.OVERFLOWED_NUMBER)
    # vip, the 23rd: one short abandon, nothing else
    calls.abandoned("vip", utc(23, 5), 2)


def test_per_queue_over_the_period(calls: Calls) -> None:
    hand_built_days(calls)
    report = queues_report(calls.database, ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI))
    assert report.header == HEADER
    assert report.rows == [
        # sales: 9 offered (2 answered + 1 across midnight, 3 abandons of which 1 short, the
        # overflow, the lost call, the call waiting); 7 counted without the short abandon and the
        # call waiting: abandon rate 2/7, service level 1/7 (only the 10 s answer is within 20 s);
        # ASA (10 + 25 + 25) / 3 = 20 s; longest wait the overflow's 300 s (the lost and the
        # waiting calls have no measured wait); talk (300 + 120 + 600) / 3
        ["sales", 9, 3, 2, 1, 1, 1, 1, 2 / 7, 1 / 7, "80% in 20 s", 20.0, 300.0, 340.0],
        # support: the overflow from sales (12 s), the 30 s answer, a short abandon (8 < 10), the
        # overflow to a number after 200 s; 3 counted: abandon rate 0/3, service level 2/3
        # (12 and 30 s, both within 30 s); ASA (12 + 30) / 2; talk (300 + 60) / 2
        ["support", 4, 2, 0, 1, 1, 0, 0, 0.0, 2 / 3, "90% in 30 s", 21.0, 200.0, 180.0],
        # vip: only a short abandon; nothing counted under the rates, no answers: all empty, not 0
        ["vip", 1, 0, 0, 1, 0, 0, 0, None, None, "80% in 20 s", None, 2.0, None],
    ]


def test_per_local_day_a_call_counts_on_the_day_it_entered_the_queue(calls: Calls) -> None:
    hand_built_days(calls)
    query = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI, by=Bucket.DAY)
    rows = queues_report(calls.database, query).rows
    assert [row[:2] for row in rows] == [
        ["2026-11-23", "sales"],
        ["2026-11-23", "support"],
        ["2026-11-23", "vip"],
        ["2026-11-24", "sales"],
    ]
    # the 23rd in sales: 7 offered, the call across midnight among them with its 25 s wait and
    # 600 s talk; 6 counted: abandon rate 1/6, service level 1/6
    assert rows[0][2:] == [7, 3, 1, 1, 1, 1, 0, 1 / 6, 1 / 6, "80% in 20 s", 20.0, 300.0, 340.0]
    # the 24th in sales: the abandon at 5 s and the call waiting, which the rates leave out: abandon
    # rate 1/1, service level 0/1; no answers
    assert rows[3][2:] == [2, 0, 1, 0, 0, 0, 1, 1.0, 0.0, "80% in 20 s", None, 5.0, None]


def test_a_dst_day_has_25_hours_of_calls(calls: Calls) -> None:
    for entered in (
        utc(1, 4, 30),  # 00:30 EDT, 1 November
        utc(1, 5, 30),  # 01:30 EDT
        utc(1, 6, 30),  # 01:30 EST: the same hour again
        utc(2, 4, 30),  # 23:30 EST, still 1 November
        utc(2, 5, 30),  # 00:30 EST, 2 November
        utc(31, 3, 59, month=10),  # 23:59 EDT, 31 October
    ):
        calls.answered("vip", entered, 4, 60)
    day = queues_report(calls.database, ReportQuery.parse("2026-11-01", "2026-11-01", NEW_YORK))
    assert day.rows == [["vip", 4, 4, 0, 0, 0, 0, 0, 0.0, 1.0, "80% in 20 s", 4.0, 4.0, 60.0]]
    hours = ReportQuery.parse("2026-11-01", "2026-11-01", NEW_YORK, by=Bucket.HOUR)
    assert [row[:3] for row in queues_report(calls.database, hours).rows] == [
        ["2026-11-01 00:00", "vip", 1],
        ["2026-11-01 01:00", "vip", 2],  # both 01:00 hours, as the wall clock names them
        ["2026-11-01 23:00", "vip", 1],
    ]


def test_the_queue_filter_and_what_does_not_apply(calls: Calls) -> None:
    hand_built_days(calls)
    query = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI)
    assert [row[0] for row in queues_report(calls.database, query, "support").rows] == ["support"]
    with pytest.raises(UserError, match="no queue named 'nope'"):
        queues_report(calls.database, query, "nope")
    campaign = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI, campaign="x")
    with pytest.raises(UserError, match="the queues report counts inbound calls by queue: give --queue"):
        queues_report(calls.database, campaign)
    assert queues_report(calls.database, ReportQuery.parse("2026-10-01", "2026-10-02", SHANGHAI)).rows == []


def test_the_report_command_prints_and_writes_the_queues(calls: Calls, tmp_path: Path) -> None:
    hand_built_days(calls)
    runner = CliRunner()
    env = {"RINGCAST_DATABASE__URL": calls.database.url.render_as_string(hide_password=False)}
    base = ["report", "queues", "--from", "2026-11-23", "--to", "2026-11-24", "--tz", SHANGHAI]
    shown = runner.invoke(app, [*base, "--queue", "sales"], env=env)
    assert shown.exit_code == 0, shown.output
    # sales: abandon rate 2/7 = 28.6 %, service level 1/7 = 14.3 %, ASA 0:00:20, longest wait 0:05:00
    assert all(text in shown.output for text in ("28.6%", "14.3%", "0:00:20", "0:05:00", "80% in 20 s"))
    out = tmp_path / "queues.json"
    written = runner.invoke(app, [*base, "--by", "day", "--out", str(out)], env=env)
    assert written.exit_code == 0, written.output
    document = json.loads(out.read_text())
    assert [(row["bucket"], row["queue"], row["offered"]) for row in document["rows"]] == [
        ("2026-11-23", "sales", 7),
        ("2026-11-23", "support", 4),
        ("2026-11-23", "vip", 1),
        ("2026-11-24", "sales", 2),
    ]
    assert document["rows"][2]["service level"] is None  # vip: nothing counted under it
    wrong = runner.invoke(
        app, ["report", "trunks", "--from", "2026-11-23", "--to", "2026-11-24", "--queue", "x"], env=env
    )
    assert str(wrong.exception) == "--queue is for the queues report, not trunks"
