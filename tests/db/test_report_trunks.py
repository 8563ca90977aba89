"""The `trunks` report (RPT-3) against a hand-built day, on SQLite and PostgreSQL.

Every expected figure is computed by hand in the comments next to it (docs/metrics.md, "Trunks"):
two trunks (one of them the default, recorded both as none and by name), two caller IDs and a
call presenting none, a call spanning local midnight, a cancelled call, calls outside the
period, a trunk without answers (no average call).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, Lead
from campaigns.persistence.models.enums import CallOutcome
from cli.main import app
from reports.query import Bucket, ReportQuery
from reports.trunks_report import trunks_report
from ringcast.errors import UserError
from tests.db.test_dial_store import add_list, create, row

pytestmark = pytest.mark.db

SHANGHAI = "Asia/Shanghai"  # UTC+8, no DST
A, B = "+862088881234", "+862088885678"


def at(day: int, hour: int, minute: int = 0, second: float = 0) -> datetime:
    whole = int(second)
    return datetime(2026, 11, day, hour, minute, whole, round((second - whole) * 1e6), tzinfo=UTC)


# (trunk, caller ID, outcome, Q.850 cause, answered at, ended at), UTC; the period is the 23rd and
# 24th in Shanghai: [22nd 16:00, 24th 16:00) UTC
CALLS = [
    (None, A, CallOutcome.ANSWERED, 16, at(23, 2), at(23, 2, 2)),  # 120 s, 23rd 10:02 local
    (None, A, CallOutcome.ANSWERED, 16, at(23, 15, 55), at(23, 16, 5)),  # 600 s, 23:55 -> 00:05: the 24th's
    (None, A, CallOutcome.MACHINE, 16, at(23, 3), at(23, 3, 0, 30.5)),  # 30.5 s
    (None, A, CallOutcome.BUSY, 17, None, at(23, 4)),
    (None, A, CallOutcome.FAILED, 34, None, at(23, 5)),
    (None, A, CallOutcome.CANCELLED, 16, None, at(23, 6)),  # we hung up first: left out
    ("carrier", B, CallOutcome.ABANDONED, 16, at(23, 7), at(23, 7, 0, 4)),  # 4 s; the default trunk by name
    ("carrier", B, CallOutcome.NO_ANSWER, 19, None, at(23, 8)),
    ("carrier", B, CallOutcome.NO_ANSWER, None, None, at(23, 8, 30)),  # the ring timeout: no cause
    ("backup", A, CallOutcome.FAILED, 38, None, at(23, 9)),
    ("backup", A, CallOutcome.FAILED, 1, None, at(23, 9, 10)),
    ("backup", A, CallOutcome.BUSY, 17, None, at(23, 10)),  # 23rd 18:00 local
    ("backup", None, CallOutcome.NO_ANSWER, 18, None, at(23, 16, 30)),  # 24th 00:30 local, no caller ID
    ("backup", A, CallOutcome.ANSWERED, 16, at(22, 15, 50), at(22, 15, 59)),  # 22nd 23:59 local: before
    (None, A, CallOutcome.ANSWERED, 16, at(24, 15, 59), at(24, 16)),  # 25th 00:00 local: the end, excluded
]


def hand_built_day(database: Database) -> None:
    (lead_id,) = add_list(database, "leads", row(1))
    campaign = create(database)
    with database.session() as session:
        lead = session.get_one(Lead, lead_id)
        for trunk, caller_id, outcome, cause, answered, ended in CALLS:
            session.add(
                Attempt(
                    lead_id=lead.id,
                    campaign_id=campaign.id,
                    e164=lead.e164,
                    trunk=trunk,
                    caller_id=caller_id,
                    dialed_at=(answered or ended) - timedelta(seconds=20),
                    answered_at=answered,
                    ended_at=ended,
                    outcome=outcome,
                    hangup_cause=cause,
                )
            )


def test_calls_per_trunk_and_caller_id(database: Database) -> None:
    hand_built_day(database)
    report = trunks_report(database, ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI))
    assert report.header == [
        "trunk",
        "caller ID",
        "attempts",
        "answered",
        "answer rate",
        "failed",
        "failure rate",
        "busy",
        "no answer",
        "talk time",
        "average call",
        "hang-up causes",
    ]
    assert [line[:-1] for line in report.rows] == [
        # backup, no caller ID: the no answer after midnight
        ["backup", "(none)", 1, 0, 0.0, 0, 0.0, 0, 1, 0.0, None],
        # backup, A: 2 failed (38, 1) + 1 busy; no answers, so no average call (not 0 s)
        ["backup", A, 3, 0, 0.0, 2, 2 / 3, 1, 0, 0.0, None],
        # backup's total: the 4 calls above
        ["backup", "(all)", 4, 0, 0.0, 2, 2 / 4, 1, 1, 0.0, None],
        # carrier (none recorded), A: 5 calls (the cancelled one left out); answered: 2 answered +
        # 1 machine; talk 120 + 600 + 30.5 = 750.5 s over 3 answers
        ["carrier", A, 5, 3, 3 / 5, 1, 1 / 5, 1, 0, 750.5, 750.5 / 3],
        # carrier (by name), B: the abandoned call (4 s) and 2 no answers
        ["carrier", B, 3, 1, 1 / 3, 0, 0.0, 0, 2, 4.0, 4.0],
        # carrier's total: 8 calls, 4 answered, talk 750.5 + 4 = 754.5 s
        ["carrier", "(all)", 8, 4, 4 / 8, 1, 1 / 8, 1, 2, 754.5, 754.5 / 4],
    ]
    assert [line[-1] for line in report.rows] == [
        "18 no response 1",
        "1 unallocated 1, 17 busy 1, 38 network down 1",  # ties: by code
        "1 unallocated 1, 17 busy 1, 18 no response 1, other 1",  # 4 causes once each: 3, then other
        "16 normal 3, 17 busy 1, 34 no circuit 1",
        "(no cause) 1, 16 normal 1, 19 no answer 1",  # the ring timeout has no cause
        "16 normal 4, (no cause) 1, 17 busy 1, other 2",  # 16 ×4; then once each: 19 and 34 are other
    ]


def test_per_local_day_a_call_counts_on_the_day_it_ended(database: Database) -> None:
    hand_built_day(database)
    query = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI, by=Bucket.DAY)
    rows = trunks_report(database, query).rows
    assert [line[:5] for line in rows] == [
        ["2026-11-23", "backup", A, 3, 0],  # one caller ID that day: no (all) row
        ["2026-11-23", "carrier", A, 4, 2],  # the call across midnight is the 24th's
        ["2026-11-23", "carrier", B, 3, 1],
        ["2026-11-23", "carrier", "(all)", 7, 3],
        ["2026-11-24", "backup", "(none)", 1, 0],
        ["2026-11-24", "carrier", A, 1, 1],
    ]
    # the 23rd on carrier, A: 120 + 30.5 s over 2 answers
    assert rows[1][10:12] == [150.5, 150.5 / 2]
    # the 24th on carrier, A: the whole 600 s of the call that began on the 23rd
    assert rows[5][10:12] == [600.0, 600.0]


def test_the_campaign_filter_and_an_empty_period(database: Database) -> None:
    hand_built_day(database)
    named = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI, campaign="秋季回访")
    assert len(trunks_report(database, named).rows) == 6
    other = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI, campaign="nope")
    with pytest.raises(UserError, match="no campaign named 'nope'"):
        trunks_report(database, other)
    empty = ReportQuery.parse("2026-10-01", "2026-10-02", SHANGHAI)
    assert trunks_report(database, empty).rows == []


def test_the_report_command_prints_and_writes_the_trunks(database: Database, tmp_path: Path) -> None:
    hand_built_day(database)
    runner = CliRunner()
    env = {"RINGCAST_DATABASE__URL": database.url.render_as_string(hide_password=False)}
    base = ["report", "trunks", "--from", "2026-11-23", "--to", "2026-11-24", "--tz", SHANGHAI]
    shown = runner.invoke(app, base, env=env)
    assert shown.exit_code == 0, shown.output
    # carrier, A: 3/5 answered, 750.5 s of talk (0:12:30 rounded to the second)
    assert "60.0%" in shown.output and "0:12:30" in shown.output and "16 normal 3" in shown.output
    out = tmp_path / "trunks.json"
    written = runner.invoke(
        app, [*base, "--by", "day", "--out", str(out), "--chart", str(tmp_path / "t.png")], env=env
    )
    assert written.exit_code == 0, written.output
    document = json.loads((tmp_path / "trunks-outbound.json").read_text())
    inbound = json.loads((tmp_path / "trunks-inbound-numbers.json").read_text())
    assert (inbound["title"], inbound["rows"]) == ("trunks: inbound numbers", [])  # no inbound calls
    assert [(line["bucket"], line["trunk"], line["caller ID"]) for line in document["rows"]][-2:] == [
        ("2026-11-24", "backup", "(none)"),
        ("2026-11-24", "carrier", A),
    ]
    assert document["rows"][0]["average call"] is None  # backup has no answers
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
