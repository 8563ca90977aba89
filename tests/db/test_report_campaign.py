"""The `campaign` and `sms` reports (RPT-4, RPT-5) against a hand-built day, on SQLite and PostgreSQL.

Every expected figure is computed by hand in the comments next to it (docs/metrics.md has the
definitions): calls ending on either side of the period's bounds and of local midnight, a
cancelled call, dispositions, a zero denominator.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, Disposition, Lead, SmsMessage
from campaigns.persistence.models.enums import CallOutcome, LeadState, SmsEncoding, SmsState
from cli.main import app
from reports.campaign_report import campaign_report
from reports.query import Bucket, ReportQuery
from reports.sms_report import sms_report
from ringcast.errors import UserError
from tests.db.test_dial_store import add_list, create, row

pytestmark = pytest.mark.db

SHANGHAI = "Asia/Shanghai"
Z = UTC


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=Z)


# (lead index, outcome, disposition, ended at UTC); local Shanghai time is UTC+8
CALLS = [
    (0, CallOutcome.ANSWERED, "sale", at(23, 2)),  # 23rd 10:00
    (1, CallOutcome.ANSWERED, "call_back_later", at(23, 3)),
    (2, CallOutcome.ABANDONED, None, at(23, 4)),
    (3, CallOutcome.MACHINE, None, at(23, 5)),
    (4, CallOutcome.NO_ANSWER, None, at(23, 6)),
    (0, CallOutcome.BUSY, None, at(23, 15, 59)),  # 23rd 23:59
    (1, CallOutcome.ANSWERED, "sale", at(23, 16, 1)),  # 24th 00:01, dialled before midnight
    (2, CallOutcome.CANCELLED, None, at(23, 7)),  # never reached anybody: left out
    (3, CallOutcome.NO_ANSWER, None, at(22, 15, 59)),  # 22nd 23:59: before the period
    (4, CallOutcome.ANSWERED, None, at(24, 16, 0)),  # 25th 00:00: the period's end, excluded
]


def hand_built_day(database: Database) -> None:
    leads = add_list(database, "leads", *(row(n) for n in range(1, 6)))
    campaign = create(database, dispositions=["sale:final", "call_back_later:retry"])
    with database.session() as session:
        codes = {d.code: d.id for d in session.scalars(select(Disposition))}
        for index, outcome, code, ended in CALLS:
            lead = session.get_one(Lead, leads[index])
            session.add(
                Attempt(
                    lead_id=lead.id,
                    campaign_id=campaign.id,
                    e164=lead.e164,
                    dialed_at=ended - timedelta(minutes=3),
                    ended_at=ended,
                    outcome=outcome,
                    disposition_id=codes.get(code) if code else None,
                )
            )
        for done in leads[:2]:
            found = session.get_one(Lead, done)
            found.state, found.next_attempt_at = LeadState.DONE, None


def test_the_campaign_over_two_local_days(database: Database) -> None:
    hand_built_day(database)
    query = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI)
    (line,) = campaign_report(database, query).rows
    assert line == [
        "秋季回访",
        7,  # the calls 1-7 (the cancelled one, one before and one at the end left out)
        5,  # answered: 3 answered + 1 abandoned + 1 machine
        5 / 7,
        4,  # human: answered + abandoned
        1,  # machine
        3,  # contacts: answered
        1,  # abandoned
        1 / 4,  # abandoned / human
        0.03,  # the cn preset's cap
        2,  # conversions: two sales
        2 / 3,  # sales / contacts
        1.4,  # 7 attempts / 5 leads
        0.4,  # 2 of 5 leads done
        "sale 2, call_back_later 1",
    ]


def test_per_local_day_a_call_counts_on_the_day_it_ended(database: Database) -> None:
    hand_built_day(database)
    query = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI, by=Bucket.DAY)
    first, second = campaign_report(database, query).rows
    # 23rd: calls 1-6: 4 answered (2 answered, 1 abandoned, 1 machine), 3 human, 1 sale of 2 contacts
    assert first[:13] == ["2026-11-23", "秋季回访", 6, 4, 4 / 6, 3, 1, 2, 1, 1 / 3, 0.03, 1, 1 / 2]
    # 24th: call 7 only, a sale 1 minute after midnight
    assert second[:13] == ["2026-11-24", "秋季回访", 1, 1, 1.0, 1, 0, 1, 0, 0.0, 0.03, 1, 1.0]
    assert first[13] is None  # attempts per lead: over the whole period only


def test_an_empty_period_gives_no_rows_and_an_unknown_campaign_an_error(database: Database) -> None:
    hand_built_day(database)
    assert campaign_report(database, ReportQuery.parse("2026-10-01", "2026-10-02", SHANGHAI)).rows == []
    named = ReportQuery.parse("2026-11-23", "2026-11-24", SHANGHAI, campaign="nope")
    with pytest.raises(UserError, match="no campaign named 'nope'"):
        campaign_report(database, named)


def sms_day(database: Database) -> None:
    created = at(23, 2)
    rows = [  # provider, state, reason, parts
        ("gw", SmsState.SENT, None, 1),
        ("gw", SmsState.DELIVERED, None, 2),
        ("gw", SmsState.DELIVERED, None, 1),
        ("gw", SmsState.FAILED, "undelivered", 1),
        ("gw", SmsState.FAILED, "invalid_number", 1),
        ("gw", SmsState.CANCELLED, "opted_out", 1),
        ("gw", SmsState.QUEUED, "quiet_hours", 1),
        ("aliyun", SmsState.DELIVERED, None, 3),
    ]
    with database.session() as session:
        for n, (provider, state, reason, parts) in enumerate(rows):
            session.add(
                SmsMessage(
                    idempotency_key=f"k{n}",
                    to_e164=f"+861390000000{n}",
                    body="x",
                    segments=parts,
                    encoding=SmsEncoding.GSM7,
                    provider=provider,
                    state=state,
                    reason=reason,
                    created_at=created,
                )
            )


def test_the_sms_report_counts_what_became_of_the_messages(database: Database) -> None:
    sms_day(database)
    rows = sms_report(database, ReportQuery.parse("2026-11-23", "2026-11-23", SHANGHAI)).rows
    assert rows == [
        ["aliyun", 1, 1, 1, 0, 1.0, 0, 0, 0, 3, ""],
        # gw: 7 messages; accepted: sent + 2 delivered + 1 undelivered = 4; delivery 2/4; not sent:
        # invalid_number; held back: opted_out; open: the queued one; parts of the accepted: 1+2+1+1
        ["gw", 7, 4, 2, 1, 0.5, 1, 1, 1, 5, "invalid_number 1, opted_out 1"],
    ]


def test_the_report_command_prints_writes_and_charts(database: Database, tmp_path: Path) -> None:
    hand_built_day(database)
    runner = CliRunner()
    env = {"RINGCAST_DATABASE__URL": database.url.render_as_string(hide_password=False)}
    base = ["report", "campaign", "--from", "2026-11-23", "--to", "2026-11-24", "--tz", SHANGHAI]
    shown = runner.invoke(app, base, env=env)
    assert shown.exit_code == 0, shown.output
    assert "25.0%" in shown.output and "sale 2" in shown.output
    out = tmp_path / "campaign.json"
    written = runner.invoke(
        app, [*base, "--by", "day", "--out", str(out), "--chart", str(tmp_path / "t.png")], env=env
    )
    assert written.exit_code == 0, written.output
    document = json.loads(out.read_text())
    assert [line["bucket"] for line in document["rows"]] == ["2026-11-23", "2026-11-24"]
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    xlsx = runner.invoke(app, [*base, "--out", str(tmp_path / "c.xlsx")], env=env)
    assert xlsx.exit_code == 0 and (tmp_path / "c.xlsx").stat().st_size > 0
    sections = ["report", "compliance", "--from", "2026-11-23", "--to", "2026-11-24", "--tz", SHANGHAI]
    compliance = runner.invoke(app, [*sections, "--out", str(tmp_path / "c.xlsx")], env=env)
    assert compliance.exit_code == 0, compliance.output
    assert (tmp_path / "c-refused-dials.xlsx").exists() and (tmp_path / "c-audit-trail.xlsx").exists()
    no_trend = runner.invoke(app, [*base, "--chart", str(tmp_path / "x.png")], env=env)
    assert isinstance(no_trend.exception, UserError) and "needs a trend" in str(no_trend.exception)
    bad_day = runner.invoke(app, ["report", "sms", "--from", "2026-11-31", "--to", "2026-11-30"], env=env)
    assert isinstance(bad_day.exception, UserError)
    assert "--from '2026-11-31' is not a date" in str(bad_day.exception)
