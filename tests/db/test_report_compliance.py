"""The `compliance` report (CMPL-5) on SQLite and PostgreSQL, against hand-built data sets whose
every figure is computed by hand in the comments: refusals written by the real dial-time check,
calls at the edges of the calling hours in several zones (one placed outside by hand), abandonment
over local days (a call spanning midnight, a day without live answers, the AMD estimate of the uk
preset, the 30-day window of the us preset), SMS opt-outs, and the audit trail.

The period is 2026-11-23 (or 23 to 25) in Shanghai: from 2026-11-22 16:00 UTC to the 23rd's (or
25th's) 16:00 UTC. New York is UTC-5 in November (UTC-4 until 1 November), London UTC+0.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from campaigns import campaign_store
from campaigns.compliance import blocklist_store
from campaigns.compliance.blocklist import BlockEntry
from campaigns.compliance.blocklist_store import Change
from campaigns.config import CampaignConfig, CampaignSpec
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, AuditEntry, ContactList, Lead, SmsOptOut
from campaigns.persistence.models.enums import BlockKind, BlockMatch, CallOutcome
from reports.compliance_report import compliance_report
from reports.query import ReportQuery
from reports.tables import Report
from ringcast.errors import UserError
from tests.db.test_dial_store import BY, NOW, add_attempt, add_list, dial, number, row
from tests.db.test_dial_store import create as create_with_leads

pytestmark = pytest.mark.db

SHANGHAI, NEW_YORK, LONDON = "Asia/Shanghai", "America/New_York", "Europe/London"
ONE_DAY = ReportQuery.parse("2026-11-23", "2026-11-23", SHANGHAI)
THREE_DAYS = ReportQuery.parse("2026-11-23", "2026-11-25", SHANGHAI)


def at(zone: str, day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    """A local wall-clock time of 2026 in `zone`."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=ZoneInfo(zone))


def campaign(database: Database, name: str, **given: Any) -> CampaignConfig:
    """A campaign without lists, created a month before the period (its audit row is not in it)."""
    spec = CampaignSpec.parse({"caller_id": "+862088881234"} | given)
    return campaign_store.create(database, name, spec, Change("li.wei", at("UTC", 1, 0)), trunks=("carrier",))


def leads(database: Database, *zones: list[str]) -> list[int]:
    """A list of one lead per zone list given (numbers +8613900000000, ...); their ids."""
    with database.session() as session:
        contacts = ContactList(name="report leads", imported_at=NOW)
        session.add(contacts)
        session.flush()
        rows = [
            Lead(
                list_id=contacts.id,
                e164=f"+86139{n:08d}",
                raw_input=str(n),
                time_zones=names,
                next_attempt_at=NOW,
            )
            for n, names in enumerate(zones)
        ]
        session.add_all(rows)
        session.flush()
        return [lead.id for lead in rows]


def calls(
    database: Database,
    campaign: CampaignConfig,
    lead_id: int,
    dialed: datetime,
    outcome: CallOutcome = CallOutcome.NO_ANSWER,
    *,
    times: int = 1,
    abandoned: bool | None = None,
) -> None:
    """`times` ended attempts dialled at `dialed` (flagged abandoned with outcome `abandoned` unless told)."""
    flag = outcome is CallOutcome.ABANDONED if abandoned is None else abandoned
    with database.session() as session:
        lead = session.get_one(Lead, lead_id)
        session.add_all(
            Attempt(
                lead_id=lead_id,
                campaign_id=campaign.id,
                e164=lead.e164,
                time_zones=lead.time_zones,  # as the dialer records them
                dialed_at=dialed,
                ended_at=dialed + timedelta(seconds=40),
                outcome=outcome,
                abandoned=flag,
            )
            for _ in range(times)
        )


def audit(database: Database, when: datetime, action: str, entity: str, key: str, **details: Any) -> None:
    with database.session() as session:
        session.add(
            AuditEntry(at=when, actor="dialer", action=action, entity=entity, entity_id=key, details=details)
        )


def section(reports: list[Report], title: str) -> list[list[Any]]:
    (found,) = [report for report in reports if report.title == f"compliance: {title}"]
    return found.rows


def test_the_sections_come_in_order_and_an_unknown_campaign_is_an_error(database: Database) -> None:
    reports = compliance_report(database, ONE_DAY)
    assert [report.title.removeprefix("compliance: ") for report in reports] == [
        "refused dials",
        "calling hours",
        "calls by local hour",
        "abandonment by day",
        "abandonment window",
        "SMS opt-outs",
        "SMS opt-out list",
        "audit trail",
    ]
    assert all(report.rows == [] for report in reports if report.title != "compliance: SMS opt-out list")
    assert section(reports, "SMS opt-out list") == [[0, 0, 0]]  # no zero division anywhere
    query = ReportQuery.parse("2026-11-23", "2026-11-23", SHANGHAI, campaign="无此活动")
    with pytest.raises(UserError, match="无此活动"):
        compliance_report(database, query)


def test_refused_dials_by_campaign_and_reason_as_the_dialer_wrote_them(database: Database) -> None:
    # The real dial-time check at NOW (Monday 2026-11-23 09:30 in Shanghai, 01:30 in London), cn
    # preset: number 1 is on the DNC list, 2 blacklisted by prefix, 3 in London (01:30, closed),
    # 4 already called 3 times today in another campaign (the day cap), 5 is dialled.
    dnc, _, _, capped, _ = add_list(
        database,
        "leads",
        row(1),
        row(2, e164="+8613990001234"),
        row(3, time_zones=[LONDON]),
        row(4),
        row(5),
    )
    (elsewhere,) = add_list(database, "other", row(4))
    other = create_with_leads(database, "春节促销", lists=["other"])
    for _ in range(3):
        add_attempt(database, elsewhere, other, CallOutcome.NO_ANSWER)
    blocklist_store.add(database, BlockEntry(BlockKind.DNC, number(1), reason="投诉"), BY)
    blocklist_store.add(database, BlockEntry(BlockKind.BLACKLIST, "+861399", BlockMatch.PREFIX), BY)
    dialled = dial(database, create_with_leads(database))
    assert [type(result).__name__ for result in dialled] == ["RefusedLead"] * 4 + ["OpenedAttempt"]
    # By hand, the same shape: the DNC number refused once more at 20:00; an abandon-cap refusal
    # of the other campaign; one at the period's end (excluded) and one just before its start.
    refused: dict[str, Any] = {
        "campaign": "秋季回访",
        "e164": number(1),
        "reason": "dnc",
        "also": [],
        "until": None,
    }
    audit(database, at(SHANGHAI, 23, 20), "dial.refused", "lead", str(dnc), **refused)
    other_cap = refused | {"campaign": "春节促销", "e164": number(4), "reason": "abandon_cap"}
    audit(database, at(SHANGHAI, 23, 11), "dial.refused", "lead", str(capped), **other_cap)
    audit(database, at(SHANGHAI, 24, 0), "dial.refused", "lead", str(dnc), **refused)
    audit(database, at(SHANGHAI, 22, 23, 59, 59), "dial.refused", "lead", str(dnc), **refused)

    rows = section(compliance_report(database, ONE_DAY), "refused dials")
    assert rows == [  # campaign, reason, group, refusals, distinct numbers
        ["春节促销", "abandon_cap", "caps", 1, 1],
        ["秋季回访", "blacklisted", "blacklist", 1, 1],
        ["秋季回访", "dnc", "DNC", 2, 1],  # number 1 at 09:30 and 20:00: 2 refusals, 1 number
        ["秋季回访", "number_day_cap", "caps", 1, 1],
        ["秋季回访", "outside_calling_hours", "calling hours", 1, 1],
    ]
    query = ReportQuery.parse("2026-11-23", "2026-11-23", SHANGHAI, campaign="春节促销")
    assert section(compliance_report(database, query), "refused dials") == [rows[0]]


def test_calls_by_the_callees_local_hour_against_the_calling_hours(database: Database) -> None:
    cn = campaign(database, "秋季回访")  # cn: 09:00-21:00, Shanghai
    us = campaign(database, "fall-us", preset="us", caller_id="+12125550100")  # 08:00-21:00, New York
    odd = campaign(database, "晨间", calling_hours="09:10-21:00")  # opens within a quarter hour
    sh, ny, ny_chicago, no_zone, unknown = leads(
        database, [SHANGHAI], [NEW_YORK], [NEW_YORK, "America/Chicago"], [], ["Etc/Unknown"]
    )
    calls(database, cn, sh, at(SHANGHAI, 23, 9, 0))  # inside, the first minute open
    calls(database, cn, sh, at(SHANGHAI, 23, 20, 59), CallOutcome.ANSWERED)  # inside, the last minute open
    calls(database, cn, sh, at(SHANGHAI, 23, 21, 30))  # outside: placed by hand, the dialer never would
    calls(database, cn, no_zone, at(SHANGHAI, 23, 10, 15))  # no zone: the campaign's, Shanghai
    calls(database, cn, sh, at(SHANGHAI, 22, 23, 50))  # the day before the period: not counted
    calls(database, us, ny, at(NEW_YORK, 23, 8, 59))  # inside for the us preset
    calls(database, us, ny, at(NEW_YORK, 23, 9, 0))
    calls(database, us, ny, at(NEW_YORK, 23, 9, 15), CallOutcome.CANCELLED)  # an originate sent: counted
    calls(database, us, ny, at(NEW_YORK, 22, 20, 59))  # 01:59 UTC on the 23rd: in the period
    calls(database, us, ny_chicago, at(NEW_YORK, 23, 8, 30))  # 07:30 in Chicago: outside
    calls(database, us, unknown, at(NEW_YORK, 23, 7, 30))  # unknown zone: New York's, outside
    calls(database, us, ny, at(NEW_YORK, 23, 11, 0))  # 16:00 UTC, the period's end: not counted
    calls(database, odd, sh, at(SHANGHAI, 23, 9, 5), times=2)  # outside (opens 09:10)
    calls(database, odd, sh, at(SHANGHAI, 23, 9, 12))  # inside

    reports = compliance_report(database, ONE_DAY)
    assert section(reports, "calling hours") == [  # campaign, hours, calls, outside (must be 0)
        ["fall-us", "08:00-21:00 every day", 6, 2],  # 08:59, 09:00, 09:15, 20:59, 08:30, 07:30; the last 2
        ["晨间", "09:10-21:00 every day", 3, 2],
        ["秋季回访", "09:00-21:00 every day", 4, 1],  # 09:00, 20:59, 21:30, 10:15; 21:30
    ]
    assert section(reports, "calls by local hour") == [
        ["fall-us", NEW_YORK, "07:00", "outside", 1, 1],
        ["fall-us", NEW_YORK, "08:00", "inside", 2, 1],  # 08:59 and 08:30 (closed in Chicago)
        ["fall-us", NEW_YORK, "09:00", "inside", 2, 0],
        ["fall-us", NEW_YORK, "20:00", "inside", 1, 0],
        ["晨间", SHANGHAI, "09:00", "partly", 3, 2],  # counted by minute: 2 at 09:05 outside
        ["秋季回访", SHANGHAI, "09:00", "inside", 1, 0],
        ["秋季回访", SHANGHAI, "10:00", "inside", 1, 0],
        ["秋季回访", SHANGHAI, "20:00", "inside", 1, 0],
        ["秋季回访", SHANGHAI, "21:00", "outside", 1, 1],
    ]
    only = ReportQuery.parse("2026-11-23", "2026-11-23", SHANGHAI, campaign="秋季回访")
    assert section(compliance_report(database, only), "calling hours") == [
        ["秋季回访", "09:00-21:00 every day", 4, 1]
    ]
    # A lead's zones changed after its calls (a re-import): each call stays where it was dialled.
    with database.session() as session:
        session.get_one(Lead, sh).time_zones = [NEW_YORK]
    again = compliance_report(database, ONE_DAY)
    for title in ("calling hours", "calls by local hour"):
        assert section(again, title) == section(reports, title)


def test_abandonment_by_local_day_and_over_the_presets_window(database: Database) -> None:
    cn = campaign(database, "秋季回访")  # 3 % a day, Shanghai
    us = campaign(database, "fall-us", preset="us", caller_id="+12125550100")  # 3 % over 30 days, New York
    uk = campaign(database, "uk-autumn", preset="uk", amd_false_positive_share=0.1)  # a day, London
    (lead,) = leads(database, [SHANGHAI])
    # cn, 23rd: served 28 + 1 dialled 23:59:55 and answered after midnight (counts on the 23rd) = 29;
    # abandoned: 1 answered but flagged abandoned + 1 `abandoned` = 2; machines and no answers are
    # not live calls. Live 29 + 2 = 31, rate 2 / 31 = 6.45 % > 3 %.
    calls(database, cn, lead, at(SHANGHAI, 23, 10), CallOutcome.ANSWERED, times=28)
    calls(database, cn, lead, at(SHANGHAI, 23, 23, 59, 55), CallOutcome.ANSWERED)
    calls(database, cn, lead, at(SHANGHAI, 23, 11), CallOutcome.ANSWERED, abandoned=True)
    calls(database, cn, lead, at(SHANGHAI, 23, 12), CallOutcome.ABANDONED)
    calls(database, cn, lead, at(SHANGHAI, 23, 13), CallOutcome.MACHINE, times=2)
    calls(database, cn, lead, at(SHANGHAI, 23, 14), CallOutcome.NO_ANSWER, times=3)
    # 24th: only unanswered calls, so no live answer and no rate (not 0 %).
    calls(database, cn, lead, at(SHANGHAI, 24, 10), CallOutcome.NO_ANSWER, times=2)
    # 25th: 40 served, 1 abandoned: 1 / 41 = 2.44 %, under the cap. Outside the period: the 22nd's
    # last second and the 26th's first (the period's end).
    calls(database, cn, lead, at(SHANGHAI, 25, 10), CallOutcome.ANSWERED, times=40)
    calls(database, cn, lead, at(SHANGHAI, 25, 11), CallOutcome.ABANDONED)
    calls(database, cn, lead, at(SHANGHAI, 22, 23, 59, 59), CallOutcome.ABANDONED)
    calls(database, cn, lead, at(SHANGHAI, 26, 0), CallOutcome.ABANDONED)
    # us, days of New York: the 22nd (10:00 there is 15:00 UTC, before the period, but the day
    # overlaps it and counts whole): 1 served; the 23rd: 2 served, 2 abandoned = 2 / 4.
    calls(database, us, lead, at(NEW_YORK, 22, 10), CallOutcome.ANSWERED)
    calls(database, us, lead, at(NEW_YORK, 23, 10), CallOutcome.ANSWERED, times=2)
    calls(database, us, lead, at(NEW_YORK, 23, 10), CallOutcome.ABANDONED, times=2)
    # its 30 days to the period's end (2026-11-25 15:59:59.999999 UTC) start 2026-10-26 15:59:59.999999
    # UTC: the 10th's 57 served count, the 5 abandoned at 15:00 UTC on 26 October do not.
    calls(database, us, lead, at(NEW_YORK, 10, 10), CallOutcome.ANSWERED, times=57)
    calls(database, us, lead, at("UTC", 26, 15, month=10), CallOutcome.ABANDONED, times=5)
    # uk, London's 24th: 9 served, 10 AMD machines of which 10 % taken for humans: live 9 + 1 = 10,
    # abandoned 1: 10 %.
    calls(database, uk, lead, at(LONDON, 24, 12), CallOutcome.ANSWERED, times=9)
    calls(database, uk, lead, at(LONDON, 24, 12), CallOutcome.MACHINE, times=10)

    reports = compliance_report(database, THREE_DAYS)
    assert section(reports, "abandonment by day") == [  # live, abandoned, rate, cap, above cap
        ["fall-us", "2026-11-22", NEW_YORK, 1, 0, 0.0, 0.03, "no"],
        ["fall-us", "2026-11-23", NEW_YORK, 4, 2, 0.5, 0.03, "yes"],
        ["uk-autumn", "2026-11-24", LONDON, 10, 1, 0.1, 0.03, "yes"],
        ["秋季回访", "2026-11-23", SHANGHAI, 31, 2, 2 / 31, 0.03, "yes"],
        ["秋季回访", "2026-11-24", SHANGHAI, 0, 0, None, 0.03, None],
        ["秋季回访", "2026-11-25", SHANGHAI, 41, 1, 1 / 41, 0.03, "no"],
    ]
    us_from, us_to = "2026-10-26 11:59:59-04:00", "2026-11-25 10:59:59-05:00"
    uk_from, uk_to = "2026-11-25 00:00:00+00:00", "2026-11-25 15:59:59+00:00"
    cn_from, cn_to = "2026-11-25 00:00:00+08:00", "2026-11-25 23:59:59+08:00"
    assert section(reports, "abandonment window") == [
        # us: served 57 + 1 + 2 = 60, abandoned 2: live 62, 2 / 62 = 3.23 % > 3 %
        ["fall-us", "us", "30_days", us_from, us_to, 62, 2, 2 / 62, 0.03, "yes"],
        # uk: its day at the period's end is London's 25th: no call, no rate
        ["uk-autumn", "uk", "day", uk_from, uk_to, 0, 0, None, 0.03, None],
        # cn: Shanghai's 25th, as by day
        ["秋季回访", "cn", "day", cn_from, cn_to, 41, 1, 1 / 41, 0.03, "no"],
    ]


def test_sms_opt_outs_of_the_period_and_the_list_at_its_end(database: Database) -> None:
    def opt_out(n: int, when: datetime, source: str, keyword: str | None = None) -> SmsOptOut:
        return SmsOptOut(e164=number(n), keyword=keyword, source=source, at=when)

    with database.session() as session:
        session.add_all(
            [
                opt_out(1, at(SHANGHAI, 23, 0, 0), "sms_reply", "退订"),  # the period's first instant
                opt_out(2, at(SHANGHAI, 23, 10), "sms_reply", "退订"),
                opt_out(3, at(SHANGHAI, 23, 11), "sms_reply", "TD"),
                opt_out(4, at(SHANGHAI, 23, 23, 59, 59), "agent"),
                opt_out(5, at(SHANGHAI, 20, 9), "import"),  # before: on the list, not added in the period
                opt_out(6, at(SHANGHAI, 24, 0), "sms_reply", "STOP"),  # the period's end: neither
            ]
        )
    audit(database, at(SHANGHAI, 23, 15), "sms_opt_out.remove", "sms_opt_out", number(7))

    reports = compliance_report(database, ONE_DAY)
    assert section(reports, "SMS opt-outs") == [
        ["agent", "—", 1],
        ["sms_reply", "TD", 1],
        ["sms_reply", "退订", 2],
    ]
    assert section(reports, "SMS opt-out list") == [[4, 1, 5]]  # added 1+1+2, removed 1, listed 4 + 1


def test_the_audit_trail_lists_changes_oldest_first_without_the_dialers_refusals(database: Database) -> None:
    morning, noon = Change("li.wei", at(SHANGHAI, 23, 9)), Change("wang.fang", at(SHANGHAI, 23, 12))
    campaign_store.create(database, "秋季回访", CampaignSpec.parse({}), noon, trunks=("carrier",))
    campaign_store.create(database, "春节促销", CampaignSpec.parse({}), morning, trunks=("carrier",))
    blocklist_store.add(database, BlockEntry(BlockKind.DNC, number(1), reason="投诉"), morning)
    audit(database, at(SHANGHAI, 23, 10), "dial.refused", "lead", "1", reason="dnc")
    audit(database, at(SHANGHAI, 23, 8), "list.import", "contact_list", "广州客户", total_rows=3, accepted=2)
    audit(database, at(SHANGHAI, 24, 0), "list.import", "contact_list", "next day")  # the period's end

    rows = section(compliance_report(database, ONE_DAY), "audit trail")
    assert [row[:4] for row in rows] == [  # when (Shanghai), who, action, what; oldest first
        ["2026-11-23 08:00:00+08:00", "dialer", "list.import", "contact_list 广州客户"],
        ["2026-11-23 09:00:00+08:00", "li.wei", "campaign.create", "campaign 春节促销"],
        ["2026-11-23 09:00:00+08:00", "li.wei", "dnc.add", f"blocklist_entry {number(1)}"],
        ["2026-11-23 12:00:00+08:00", "wang.fang", "campaign.create", "campaign 秋季回访"],
    ]
    assert json.loads(rows[0][4]) == {"accepted": 2, "total_rows": 3}
    assert json.loads(rows[2][4])["reason"] == "投诉"
    only = ReportQuery.parse("2026-11-23", "2026-11-23", SHANGHAI, campaign="秋季回访")
    kept = section(compliance_report(database, only), "audit trail")
    assert [row[3] for row in kept] == [
        "contact_list 广州客户",
        f"blocklist_entry {number(1)}",
        "campaign 秋季回访",
    ]
    assert datetime.fromisoformat(kept[-1][0]) == datetime(2026, 11, 23, 4, tzinfo=UTC)
