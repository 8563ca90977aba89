"""The `compliance` report (CMPL-5): what the dialer refused and why, when calls reached people in
their local time, abandonment against the cap, SMS opt-outs, and who changed lists and settings.

Every figure is aggregated in SQL (GROUP BY); rows come back per group, never per call. The period
is the query's: instants in [since, until), the local days of `--tz`. With `--campaign` only that
campaign's dialling counts (a name no campaign has is an error). Regulators' texts are those of
the compliance spec (../shared/spec/compliance.md): the FTC's TSR, 16 CFR 310.4(b)(1)(iv) and its
safe harbour 310.4(b)(4), and the FCC's TCPA rules, 47 CFR 64.1200(a)(7) (3 % of live-answered
calls over 30 days or the campaign; 2 s to an agent); calls 08:00-21:00 callee time, 16 CFR
310.4(c) and 47 CFR 64.1200(c)(1); Ofcom's persistent-misuse policy statement (3 % of live calls
per campaign per 24 h, AMD false positives counted); MIIT rules and practice for China.
Definitions (docs/metrics.md, "Compliance"):

1. Refused dials, from the audit log's `dial.refused` rows (`campaigns.dial_store` writes one each
   time the dial-time check `check_dial` refuses a lead, right before the originate) with `at` in
   the period. Per campaign (`details.campaign`, the name when refused) and reason
   (`details.reason`: the first failing check, `RefusalReason`; the further ones in
   `details.also` are not counted). refusals = those rows; numbers = distinct `details.e164`
   among them. A lead refused, requeued until its `until` and refused again counts twice. The
   group column sorts reasons as the issue names them: DNC (`dnc`), blacklist (`blacklisted`),
   calling hours (`outside_calling_hours`), caps (`number_day_cap`, `number_week_cap`,
   `abandon_cap`), redial rules (`abandoned_recently`, `machine_today`), outbound permission
   (`not_whitelisted`, `outside_reach`), caller ID (`no_caller_id`), number in a call
   (`number_in_call`).

2. Calls against calling hours. calls = attempts dialled in the period (`dialed_at` in [since,
   until)), every outcome counted, cancelled and unfinished ones included: each is an originate
   sent, a phone that may have rung. The callee's zones are the call's `time_zones` (the lead's when
   it was dialled) that zoneinfo knows, or the campaign's zone when none is (exactly
   `rules.callee_zones`, what the dialer used). A call is outside when the campaign's calling
   hours were closed, at the instant it was dialled, in at least one of those zones: the negation
   of the dialer's own check (`CallingHours.open_everywhere`). So calls outside = 0 is what the
   dialer guarantees. The calling hours are the campaign's settings as they are now; a change
   within the period is in the audit trail (section 5).
   By local hour: each call is placed at the hour (0-23) of the wall clock in the callee's first
   zone (the first known one); a lead in several zones adds to its first zone's hours
   only, and may be outside in an hour marked inside (another of its zones was closed). A DST day
   has no 02:00 hour in spring and two in autumn (both count as hour 1 or 2, together). The hour
   mark says what the calling hours are for that wall-clock hour: inside (open all of it, every
   day of the week), outside (closed all of it, every day), partly (open part of it, or on some
   days only). Computed by grouping attempts by (campaign, callee zones, UTC quarter hour) and
   folding each quarter hour into the local hour of each zone (every zone's offset is a whole
   number of quarter hours). A quarter hour in which the hours open or close (a window edge not on
   a quarter hour, e.g. 09:10) is counted again by minute for that quarter hour only (the config
   gives windows in whole minutes).

3. Abandonment, as the dialer enforces the cap (`campaigns.compliance.abandonment`). Over a window:
   live answered = served (outcome `answered`, not flagged abandoned) + abandoned + (when the
   preset counts AMD false positives, Ofcom: `amd_false_positive_share` x `machine` verdicts);
   abandoned = attempts flagged `abandoned` or with outcome `abandoned` (+ the same estimated
   share of machine verdicts); only outcomes `answered`, `abandoned` and `machine` count; rate =
   abandoned / live answered, none (—) without a live answer; above cap = rate > the campaign's
   `abandon_cap` (a rate equal to the cap keeps it). An attempt belongs to the instant it was
   dialled: a call dialled at 23:59 and answered after midnight counts on the day it was dialled.
   By day: each local day of the campaign's zone (the dialer's daily window, midnight to
   midnight there, not `--tz`) that overlaps the period and on which the campaign dialled, counted
   over the whole local day, so the figure is the one the dialer compared with the cap; with
   `--tz` the campaign's zone the days are exactly the period's. For a preset whose window is
   not the day (us: 30 days), these daily figures are for information; the cap is the window's.
   Over the window: the preset's window (day, 30 days, whole campaign) as at the period's last
   instant (until - 1 µs), computed by the dialer's own `dial_store.abandonment_figures`.

4. SMS opt-outs: entries of the SMS opt-out list (`sms_opt_outs`) whose `at` is in the period, by
   source and keyword (the reply that opted out; none when opted out by hand or by import). The
   list: added = those; removed = audit rows `sms_opt_out.remove` in the period; on the list at
   the period's end = entries on the list now whose `at` is before `until` (the list keeps no
   history: an entry removed after the period's end is missing there; the audit trail has it).
   Opt-outs are not per campaign: `--campaign` does not filter them.

5. Audit trail: audit-log rows with `at` in the period (list imports, DNC/blacklist/whitelist
   entries, campaign settings and compliance overrides, SMS templates, rules, consents and
   opt-outs, agents and groups), oldest first, except `dial.*` rows (the dialer's per-lead
   refusals, counted in section 1). With `--campaign`, rows about other campaigns (entity
   `campaign`) are left out; rows about shared lists and settings stay.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session

from campaigns import campaign_store, dial_store
from campaigns.agent_store import named
from campaigns.compliance.abandonment import LiveCounts, local_midnight, rate_of_counts
from campaigns.compliance.hours import CallingHours
from campaigns.compliance.rules import CampaignRules, LeadFacts, callee_zones
from campaigns.config import CampaignConfig
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, AuditEntry, Campaign, SmsOptOut
from campaigns.persistence.models.enums import CallOutcome
from reports.buckets import QUARTER_S, minute_of, quarter_hour, start_of
from reports.query import ReportQuery
from reports.scope import dialled_in
from reports.tables import Column, Kind, Report, ratio

INSIDE, OUTSIDE, PARTLY = "inside", "outside", "partly"
REASON_GROUPS = {
    "dnc": "DNC",
    "blacklisted": "blacklist",
    "outside_calling_hours": "calling hours",
    "number_day_cap": "caps",
    "number_week_cap": "caps",
    "abandon_cap": "caps",
    "abandoned_recently": "redial rules",
    "machine_today": "redial rules",
    "not_whitelisted": "outbound permission",
    "outside_reach": "outbound permission",
    "no_caller_id": "caller ID",
    "number_in_call": "number in a call",
}
_MINUTE = timedelta(minutes=1)
_QUARTER_MINUTES = QUARTER_S // 60
_A_MONDAY = date(2026, 1, 5)
_LIVE = (CallOutcome.ANSWERED, CallOutcome.ABANDONED, CallOutcome.MACHINE)
_SLACK = timedelta(days=2)  # more than any two zones' offsets differ: whole local days around the period
Zones = tuple[ZoneInfo, ...]


def compliance_report(database: Database, query: ReportQuery) -> list[Report]:
    """The report's sections (see the module docstring), each a `Report`."""
    with database.session() as session:
        known = _campaigns(session, query.campaign)
        dialect = session.get_bind().dialect.name
        quarters = _dialled_quarters(session, query, known, dialect)
        sections = [
            _refusals(session, query),
            *_calling_hours(session, query, known, dialect, quarters),
            _abandonment_by_day(query, known, quarters),
        ]
        opt_outs = _opt_outs(session, query)
        trail = _audit_trail(session, query)
    return [*sections, _abandonment_window(database, query, known), *opt_outs, trail]


def _campaigns(session: Session, name: str | None) -> dict[int, CampaignConfig]:
    if name is not None:
        row = named(session, Campaign, name)
        return {row.id: campaign_store.config_of(session, row)}
    rows = session.scalars(select(Campaign).order_by(Campaign.name))
    return {row.id: campaign_store.config_of(session, row) for row in rows}


# 1. refusals


def _refusals(session: Session, query: ReportQuery) -> Report:
    campaign = AuditEntry.details["campaign"].as_string()
    reason = AuditEntry.details["reason"].as_string()
    grouped = (
        select(
            campaign, reason, func.count(), func.count(func.distinct(AuditEntry.details["e164"].as_string()))
        )
        .where(AuditEntry.action == "dial.refused", AuditEntry.at >= query.since, AuditEntry.at < query.until)
        .group_by(campaign, reason)
    )
    if query.campaign is not None:
        grouped = grouped.where(campaign == query.campaign)
    rows: list[list[Any]] = sorted(
        [str(name), str(why), REASON_GROUPS.get(str(why), "other"), int(count), int(numbers)]
        for name, why, count, numbers in session.execute(grouped)
    )
    columns = [Column("campaign", Kind.TEXT), Column("reason", Kind.TEXT), Column("group", Kind.TEXT)]
    return Report(
        "compliance: refused dials",
        [*columns, Column("refusals"), Column("numbers")],
        rows,
        [f"dial.refused audit rows in the period: {sum(row[3] for row in rows)} (first failing check)"],
    )


# 2. calling hours


@cache
def _wall_clock_open(
    hours: CallingHours, weekday: int, hour: int, minute: int, minutes: int
) -> tuple[bool, ...]:
    """Open at each of `minutes` wall-clock minutes from `hour:minute` of ISO `weekday`."""
    start = datetime.combine(_A_MONDAY + timedelta(days=weekday - 1), time(hour, minute))
    return tuple(hours.is_open(start + n * _MINUTE) for n in range(minutes))


@cache
def hour_mark(hours: CallingHours, hour: int) -> str:
    """What the calling hours are for the wall-clock hour `hour`: inside, outside or partly."""
    flags = {flag for day in range(1, 8) for flag in _wall_clock_open(hours, day, hour, 0, 60)}
    return PARTLY if len(flags) == 2 else INSIDE if True in flags else OUTSIDE


def quarter_open(hours: CallingHours, zones: Zones, quarter: int) -> bool | None:
    """Open in every zone all through the quarter hour (True), closed in some zone all through it
    (False), or neither: the hours open or close within it (None)."""
    start = start_of(quarter)
    end = start + (_QUARTER_MINUTES - 1) * _MINUTE
    flags = [True] * _QUARTER_MINUTES
    for zone in zones:
        local = start.astimezone(zone)
        if end.astimezone(zone).utcoffset() != local.utcoffset():  # never with today's zones
            flags = [hours.open_everywhere(zones, start + n * _MINUTE) for n in range(_QUARTER_MINUTES)]
            break
        opens = _wall_clock_open(hours, local.isoweekday(), local.hour, local.minute, _QUARTER_MINUTES)
        flags = [a and b for a, b in zip(flags, opens, strict=True)]
    return flags[0] if len(set(flags)) == 1 else None


def local_hour(zone: ZoneInfo, quarter: int) -> int:
    """The wall-clock hour of `zone` in which the quarter hour starts."""
    return start_of(quarter).astimezone(zone).hour


@dataclass(frozen=True, slots=True)
class HourCount:
    zone: str  # the callee's first zone
    hour: int
    calls: int
    outside: int


def tally_hours(
    hours: CallingHours,
    quarters: Iterable[tuple[Zones, int, int]],
    minutes: Iterable[tuple[Zones, int, int]] = (),
) -> list[HourCount]:
    """Calls by the first zone's local hour, and those outside the hours in any zone.

    `quarters` are (callee zones, quarter hour, calls); `minutes` (callee zones, minute, calls) the
    calls of the quarter hours `quarter_open` cannot tell (others are not looked at)."""
    by_minute: dict[tuple[Zones, int], list[tuple[int, int]]] = defaultdict(list)
    for zones, minute, calls in minutes:
        by_minute[(zones, minute * 60 // QUARTER_S)].append((minute, calls))
    counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for zones, quarter, calls in quarters:
        tally = counts[(zones[0].key, local_hour(zones[0], quarter))]
        tally[0] += calls
        verdict = quarter_open(hours, zones, quarter)
        if verdict is None:
            tally[1] += sum(
                n
                for minute, n in by_minute[(zones, quarter)]
                if not hours.open_everywhere(zones, datetime.fromtimestamp(minute * 60, UTC))
            )
        elif not verdict:
            tally[1] += calls
    return [
        HourCount(zone, hour, calls, outside) for (zone, hour), (calls, outside) in sorted(counts.items())
    ]


def _zones_of(campaign: CampaignConfig) -> Callable[[tuple[str, ...]], Zones]:
    """The callee's zones from a lead's zone names, as the dialer reads them (`callee_zones`)."""
    rules = CampaignRules(campaign.compliance, campaign.time_zone, campaign.caller_id)

    @cache
    def zones(names: tuple[str, ...]) -> Zones:
        return callee_zones(LeadFacts("", names), rules)

    return zones


class _Quarter(NamedTuple):
    """The calls of a campaign to callees in `zones` dialled in one UTC quarter hour, and their ends."""

    campaign_id: int
    zones: tuple[str, ...]
    number: int
    calls: int
    answered: int  # served by a person: answered, not abandoned
    abandoned: int  # live-answered, then abandoned
    machine: int  # answered by a machine (AMD), not abandoned


def _dialled_quarters(
    session: Session, query: ReportQuery, known: Mapping[int, CampaignConfig], dialect: str
) -> list[_Quarter]:
    """Sections 2 and 3 in one pass over the covering index: the calls dialled from two days before
    the period to two after (whole local days in any zone), by campaign, callee zones and quarter."""
    quarter = quarter_hour(Attempt.dialed_at, dialect)
    live = Attempt.outcome.in_(_LIVE)
    grouped = (
        select(
            Attempt.campaign_id,
            Attempt.time_zones,
            quarter,
            func.count(),
            func.count().filter(and_(Attempt.outcome == CallOutcome.ANSWERED, not_(Attempt.abandoned))),
            func.count().filter(and_(live, or_(Attempt.abandoned, Attempt.outcome == CallOutcome.ABANDONED))),
            func.count().filter(and_(Attempt.outcome == CallOutcome.MACHINE, not_(Attempt.abandoned))),
        )
        .where(*dialled_in(query, list(known), slack=_SLACK))
        .group_by(Attempt.campaign_id, Attempt.time_zones, quarter)
    )
    return [
        _Quarter(campaign_id, tuple(names or ()), int(number), *counts)
        for campaign_id, names, number, *counts in session.execute(grouped)
    ]


def _calling_hours(
    session: Session,
    query: ReportQuery,
    known: Mapping[int, CampaignConfig],
    dialect: str,
    dialled: list[_Quarter],
) -> list[Report]:
    first, end = (int(instant.timestamp()) // QUARTER_S for instant in (query.since, query.until))
    zones_of = {campaign_id: _zones_of(campaign) for campaign_id, campaign in known.items()}
    quarters: dict[int, dict[tuple[Zones, int], int]] = defaultdict(lambda: defaultdict(int))
    for quarter in dialled:
        if first <= quarter.number < end:
            zones = zones_of[quarter.campaign_id](quarter.zones)
            quarters[quarter.campaign_id][(zones, quarter.number)] += quarter.calls
    unclear = {
        (campaign_id, zones, number)
        for campaign_id, found in quarters.items()
        for zones, number in found
        if quarter_open(known[campaign_id].compliance.calling_hours, zones, number) is None
    }
    minutes: dict[int, list[tuple[Zones, int, int]]] = defaultdict(list)
    if unclear:
        minute = minute_of(Attempt.dialed_at, dialect)
        spans = {number for _, _, number in unclear}
        within = or_(
            *(and_(Attempt.dialed_at >= start_of(n), Attempt.dialed_at < start_of(n + 1)) for n in spans)
        )
        by_minute = (
            select(Attempt.campaign_id, Attempt.time_zones, minute, func.count())
            .where(*dialled_in(query, list(known)), within)
            .group_by(Attempt.campaign_id, Attempt.time_zones, minute)
        )
        for campaign_id, names, number, calls in session.execute(by_minute):
            zones = zones_of[campaign_id](tuple(names or ()))
            if (campaign_id, zones, number * 60 // QUARTER_S) in unclear:
                minutes[campaign_id].append((zones, number, calls))
    summary, detail = [], []
    for campaign_id, campaign in sorted(known.items(), key=lambda item: item[1].name):
        if campaign_id not in quarters and query.campaign is None:
            continue
        hours = campaign.compliance.calling_hours
        found = [(zones, number, calls) for (zones, number), calls in quarters[campaign_id].items()]
        counted = tally_hours(hours, found, minutes[campaign_id])
        summary.append(
            [campaign.name, str(hours), sum(c.calls for c in counted), sum(c.outside for c in counted)]
        )
        detail += [
            [campaign.name, c.zone, f"{c.hour:02d}:00", hour_mark(hours, c.hour), c.calls, c.outside]
            for c in counted
        ]
    text = Kind.TEXT
    notes = [
        "calls dialled in the period; outside: calling hours closed in any of the callee's zones (must be 0)"
    ]
    return [
        Report(
            "compliance: calling hours",
            [Column("campaign", text), Column("calling hours", text), Column("calls"), Column("outside")],
            summary,
            notes,
        ),
        Report(
            "compliance: calls by local hour",
            [
                *(Column(name, text) for name in ("campaign", "callee zone", "local hour", "calling hours")),
                Column("calls"),
                Column("outside"),
            ],
            detail,
            [*notes, "local hour of the callee's first zone; calling hours: the hour's mark every day"],
        ),
    ]


# 3. abandonment


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 4)


def _abandonment_cells(live: float, abandoned: float, cap: float) -> list[Any]:
    rate = ratio(abandoned, live)
    above = None if rate is None else ("yes" if rate > cap else "no")
    return [_number(live), _number(abandoned), rate, cap, above]


_ABANDON_COLUMNS = (
    Column("live answered"),
    Column("abandoned"),
    Column("abandon rate", Kind.RATE),
    Column("cap", Kind.RATE),
    Column("above cap", Kind.TEXT),
)


def _abandonment_by_day(
    query: ReportQuery, known: Mapping[int, CampaignConfig], dialled: list[_Quarter]
) -> Report:
    days: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for found in dialled:
        zone = ZoneInfo(known[found.campaign_id].time_zone)
        midnight = local_midnight(start_of(found.number), zone)
        if query.since < local_midnight(midnight, zone, 1) and midnight < query.until:
            counts = days[(found.campaign_id, midnight.date())]
            counts[:] = [counts[0] + found.answered, counts[1] + found.abandoned, counts[2] + found.machine]
    rows = []
    for (campaign_id, day), (answered, abandoned, machine) in sorted(
        days.items(), key=lambda item: (known[item[0][0]].name, item[0][1])
    ):
        campaign = known[campaign_id]
        zone = ZoneInfo(campaign.time_zone)
        tally = LiveCounts(answered, abandoned, machine)
        figures = rate_of_counts(tally, campaign.compliance, zone, datetime.combine(day, time(), zone))
        cells = _abandonment_cells(figures.live, figures.abandoned, campaign.compliance.abandon_cap)
        rows.append([campaign.name, day.isoformat(), campaign.time_zone, *cells])
    return Report(
        "compliance: abandonment by day",
        [
            Column("campaign", Kind.TEXT),
            Column("day", Kind.TEXT),
            Column("zone", Kind.TEXT),
            *_ABANDON_COLUMNS,
        ],
        rows,
        ["whole local days of the campaign's zone on which it dialled; no rate without live answers"],
    )


def _abandonment_window(
    database: Database, query: ReportQuery, known: Mapping[int, CampaignConfig]
) -> Report:
    end = query.until - timedelta(microseconds=1)
    rows = []
    for campaign in sorted(known.values(), key=lambda c: c.name):
        figures = dial_store.abandonment_figures(database, campaign, end)
        zone = ZoneInfo(campaign.time_zone)
        since = "campaign start" if figures.since is None else _local(figures.since, zone)
        settings = campaign.compliance
        cells = _abandonment_cells(figures.live, figures.abandoned, settings.abandon_cap)
        rows.append(
            [campaign.name, settings.preset.value, figures.window.value, since, _local(end, zone), *cells]
        )
    head = ("campaign", "preset", "window", "from", "to")
    return Report(
        "compliance: abandonment window",
        [*(Column(name, Kind.TEXT) for name in head), *_ABANDON_COLUMNS],
        rows,
        ["the preset's window as at the period's end, as the dialer computes it"],
    )


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).isoformat(sep=" ", timespec="seconds")


# 4. SMS opt-outs


def _opt_outs(session: Session, query: ReportQuery) -> list[Report]:
    in_period = (SmsOptOut.at >= query.since, SmsOptOut.at < query.until)
    grouped = (
        select(SmsOptOut.source, SmsOptOut.keyword, func.count())
        .where(*in_period)
        .group_by(SmsOptOut.source, SmsOptOut.keyword)
    )
    rows: list[list[Any]] = sorted(
        [str(source), keyword or "—", int(count)] for source, keyword, count in session.execute(grouped)
    )
    removed = session.scalar(
        select(func.count()).where(
            AuditEntry.action == "sms_opt_out.remove",
            AuditEntry.at >= query.since,
            AuditEntry.at < query.until,
        )
    )
    listed = session.scalar(select(func.count()).select_from(SmsOptOut).where(SmsOptOut.at < query.until))
    added = sum(int(row[2]) for row in rows)
    return [
        Report(
            "compliance: SMS opt-outs",
            [Column("source", Kind.TEXT), Column("keyword", Kind.TEXT), Column("opt-outs")],
            rows,
            ["numbers put on the SMS opt-out list in the period; every campaign"],
        ),
        Report(
            "compliance: SMS opt-out list",
            [Column("added"), Column("removed"), Column("on the list at the period's end")],
            [[added, int(removed or 0), int(listed or 0)]],
            ["at the period's end: entries on the list now that were added before it"],
        ),
    ]


# 5. audit trail


def _audit_trail(session: Session, query: ReportQuery) -> Report:
    found = (
        select(AuditEntry)
        .where(
            AuditEntry.at >= query.since, AuditEntry.at < query.until, not_(AuditEntry.action.like("dial.%"))
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    if query.campaign is not None:
        found = found.where(
            not_(and_(AuditEntry.entity == "campaign", AuditEntry.entity_id != query.campaign))
        )
    rows = [
        [
            _local(entry.at, query.zone),
            entry.actor,
            entry.action,
            entry.entity if entry.entity_id is None else f"{entry.entity} {entry.entity_id}",
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True, default=str),
        ]
        for entry in session.scalars(found)
    ]
    head: Sequence[str] = ("when", "who", "action", "what", "details")
    return Report(
        "compliance: audit trail",
        [Column(name, Kind.TEXT) for name in head],
        rows,
        ["list and settings changes in the period, oldest first; the dialer's refusals are counted above"],
    )
