"""The dial-time compliance check (CMPL-1...CMPL-4): may this number be called now, and if not, until when.

`check_dial` is pure: the caller gathers current data right before the originate (the blocklist's
answer, the number's attempts across all campaigns, the campaign's abandonment figures) and
passes `now`. The checks, in the order their reason is reported:

1. DNC / blacklist (the `Blocklist.check` answer; an entry with an expiry stops blocking then);
2. outbound permission (DIAL-8): with `whitelist_only`, whitelisted numbers only; otherwise a number
   beyond the campaign's reach (local, national, international: `destinations`) only if whitelisted;
3. caller ID presented, when the settings require one;
4. no call to the number in progress (in any campaign);
5. calling hours in the callee's local time, open in every zone of the number;
6. attempts to the number this calendar day (in each of its zones) and over any 7 x 24 h;
7. without an agent reserved for the call: no redial within `redial_after_abandon` of an
   abandoned call, no redial the local day of an AMD "machine" verdict (when the settings say
   so), and nothing while the campaign's abandonment rate is at its cap (an agent-reserved call,
   or one dialled one-to-one for a ready agent, cannot be abandoned, so it is still allowed and
   brings the rate down: at the cap the dialer falls back to progressive).

A refusal names the first failing check, the others in `also`, and `until`: the first instant at
which all checks pass if nothing else happens (no new attempt, same figures), in UTC; None when
no such instant is known (a permanent block, a missing caller ID, a 30-day cap, a call in progress).
A number's zones that zoneinfo does not know ("Etc/Unknown") are ignored; with none left, the
campaign's zone stands in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.compliance.abandonment import AbandonmentRate, AttemptRecord, local_midnight
from campaigns.compliance.blocklist import BlockEntry
from campaigns.compliance.destinations import Home, Reach
from campaigns.compliance.presets import ComplianceSettings
from campaigns.persistence.models.enums import BlockKind, CallOutcome
from ringcast.errors import UserError

_WEEK = timedelta(days=7)
_MAX_ROUNDS = 16  # each round moves past one obstacle; a handful always suffice


class RefusalReason(StrEnum):
    """Why a dial was refused: the compliance report's and `campaign why`'s vocabulary."""

    DNC = "dnc"
    BLACKLISTED = "blacklisted"
    NOT_WHITELISTED = "not_whitelisted"
    OUTSIDE_REACH = "outside_reach"
    NO_CALLER_ID = "no_caller_id"
    NUMBER_IN_CALL = "number_in_call"
    OUTSIDE_CALLING_HOURS = "outside_calling_hours"
    NUMBER_DAY_CAP = "number_day_cap"
    NUMBER_WEEK_CAP = "number_week_cap"
    ABANDONED_RECENTLY = "abandoned_recently"
    MACHINE_TODAY = "machine_today"
    ABANDON_CAP = "abandon_cap"


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """The number about to be dialled, as of now."""

    e164: str
    time_zones: tuple[str, ...] = ()  # IANA names, from the import (IMP-3)
    blocked: BlockEntry | None = None  # `Blocklist.check(e164, campaign, now)`, asked just now
    agent_reserved: bool = False  # an agent waits for this call (preview, click-to-call, own callback)
    agent_free: bool = False  # dialled one-to-one for a ready agent (progressive): cannot be abandoned
    whitelisted: bool = False  # on the outbound whitelist (`Blocklist.whitelisted`), asked just now


@dataclass(frozen=True, slots=True)
class CampaignRules:
    """What the campaign dials under: its settings, its zone (daily figures, unknown callee zones)."""

    settings: ComplianceSettings
    time_zone: str
    caller_id: str | None
    home: Home | None = None  # where calls come from; None: every class may be dialled
    reach: Reach = Reach.INTERNATIONAL
    whitelist_only: bool = False

    def __post_init__(self) -> None:
        if _zone(self.time_zone) is None:
            raise UserError(f"campaign time_zone: unknown time zone {self.time_zone!r} (e.g. Asia/Shanghai)")

    @property
    def zone(self) -> ZoneInfo:
        zone = _zone(self.time_zone)
        assert zone is not None  # checked at construction
        return zone


@dataclass(frozen=True, slots=True)
class DialHistory:
    """`attempts` to this number in every campaign over at least the last 7 days; the campaign's figures."""

    abandonment: AbandonmentRate
    attempts: tuple[AttemptRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Allowed:
    pass


@dataclass(frozen=True, slots=True)
class Refused:
    reason: RefusalReason
    until: datetime | None
    also: tuple[RefusalReason, ...] = ()


ALLOWED = Allowed()
Verdict = Allowed | Refused
Failure = tuple[RefusalReason, datetime | None]


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class _Case:
    lead: LeadFacts
    rules: CampaignRules
    history: DialHistory
    zones: tuple[ZoneInfo, ...]

    @property
    def settings(self) -> ComplianceSettings:
        return self.rules.settings


def _blocked(case: _Case, t: datetime) -> Failure | None:
    entry = case.lead.blocked
    if entry is None or (entry.expires_at is not None and entry.expires_at <= t):
        return None
    reason = RefusalReason.DNC if entry.kind is BlockKind.DNC else RefusalReason.BLACKLISTED
    return reason, entry.expires_at


def _outbound(case: _Case, t: datetime) -> Failure | None:
    rules = case.rules
    if case.lead.whitelisted:
        return None
    if rules.whitelist_only:
        return RefusalReason.NOT_WHITELISTED, None
    if rules.home is not None and not rules.reach.covers(rules.home.reach_of(case.lead.e164)):
        return RefusalReason.OUTSIDE_REACH, None
    return None


def _caller_id(case: _Case, t: datetime) -> Failure | None:
    if case.settings.caller_id_required and not case.rules.caller_id:
        return RefusalReason.NO_CALLER_ID, None
    return None


def _in_call(case: _Case, t: datetime) -> Failure | None:
    if any(attempt.outcome is None for attempt in case.history.attempts):
        return RefusalReason.NUMBER_IN_CALL, None
    return None


def _hours(case: _Case, t: datetime) -> Failure | None:
    hours = case.settings.calling_hours
    if hours.open_everywhere(case.zones, t):
        return None
    return RefusalReason.OUTSIDE_CALLING_HOURS, hours.next_open(case.zones, t)


def _latest_local_day(
    case: _Case, t: datetime, fails: Callable[[list[AttemptRecord]], bool]
) -> datetime | None:
    """The latest end of `t`'s local day among the number's zones whose attempts that day `fail`."""
    ends = []
    for zone in case.zones:
        start, end = local_midnight(t, zone), local_midnight(t, zone, 1)
        if fails([a for a in case.history.attempts if start <= a.at < end]):
            ends.append(end)
    return max(ends, default=None)


def _day_cap(case: _Case, t: datetime) -> Failure | None:
    cap = case.settings.attempts_per_number_day
    if cap is None:
        return None
    until = _latest_local_day(case, t, lambda today: len(today) >= cap)
    return None if until is None else (RefusalReason.NUMBER_DAY_CAP, until)


def _week_cap(case: _Case, t: datetime) -> Failure | None:
    cap = case.settings.attempts_per_number_week
    if cap is None:
        return None
    recent = sorted((a.at for a in case.history.attempts if t - _WEEK < a.at <= t), reverse=True)
    return (RefusalReason.NUMBER_WEEK_CAP, recent[cap - 1] + _WEEK) if len(recent) >= cap else None


def _abandoned_recently(case: _Case, t: datetime) -> Failure | None:
    delay = case.settings.redial_after_abandon
    if delay is None or case.lead.agent_reserved:
        return None
    last = max((a.at for a in case.history.attempts if a.counts_abandoned), default=None)
    if last is None or t >= last + delay:
        return None
    return RefusalReason.ABANDONED_RECENTLY, last + delay


def _machine_today(case: _Case, t: datetime) -> Failure | None:
    if not case.settings.machine_redial_same_day_needs_agent or case.lead.agent_reserved:
        return None
    until = _latest_local_day(case, t, lambda today: any(a.outcome is CallOutcome.MACHINE for a in today))
    return None if until is None else (RefusalReason.MACHINE_TODAY, until)


def _abandon_cap(case: _Case, t: datetime) -> Failure | None:
    figures = case.history.abandonment
    if case.lead.agent_reserved or case.lead.agent_free or not figures.reached(case.settings.abandon_cap):
        return None
    if figures.resets_at is not None and t >= figures.resets_at:
        return None
    return RefusalReason.ABANDON_CAP, figures.resets_at


_CHECKS: tuple[Callable[[_Case, datetime], Failure | None], ...] = (
    _blocked,
    _outbound,
    _caller_id,
    _in_call,
    _hours,
    _day_cap,
    _week_cap,
    _abandoned_recently,
    _machine_today,
    _abandon_cap,
)


def callee_zones(lead: LeadFacts, rules: CampaignRules) -> tuple[ZoneInfo, ...]:
    """The number's known zones, or the campaign's when it has none."""
    zones = tuple(zone for zone in map(_zone, lead.time_zones) if zone is not None)
    return zones or (rules.zone,)


def _failures(case: _Case, t: datetime) -> list[Failure]:
    return [failure for check in _CHECKS if (failure := check(case, t)) is not None]


def check_dial(lead: LeadFacts, rules: CampaignRules, history: DialHistory, now: datetime) -> Verdict:
    """May `lead` be dialled at `now` (aware)? See the module docstring for the checks and `until`."""
    if now.tzinfo is None:
        raise ValueError("check_dial needs an aware `now`")
    case = _Case(lead, rules, history, callee_zones(lead, rules))
    failures = _failures(case, now)
    if not failures:
        return ALLOWED
    reasons = [reason for reason, _ in failures]
    return Refused(reasons[0], _first_pass(case, failures), tuple(reasons[1:]))


def _first_pass(case: _Case, failures: list[Failure]) -> datetime | None:
    """Jump past the latest obstacle until nothing fails; each check's `until` is its first pass."""
    for _ in range(_MAX_ROUNDS):
        untils = [until for _, until in failures]
        if any(until is None for until in untils):
            return None
        t = max(until for until in untils if until is not None)
        failures = _failures(case, t)
        if not failures:
            return t.astimezone(UTC)
    return None
