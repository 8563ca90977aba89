"""Abandonment-rate accounting (CMPL-3): abandoned over live-answered calls, in the campaign's window.

Pure arithmetic over attempt records. A live call is one a person answered: served (`answered`)
or abandoned (the `abandoned` outcome, or answered but joined to an agent too late). When the
settings count AMD false positives (Ofcom), each `machine` verdict adds the estimated share of a
human to both the live and the abandoned counts. The windows are the calendar day midnight to
midnight in the campaign's zone, the last 30 days, or the whole campaign; an attempt belongs to
the moment it was dialled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.compliance.presets import AbandonWindow, ComplianceSettings
from campaigns.persistence.models.enums import CallOutcome


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One dial attempt as the compliance rules see it; `outcome` is None while the call is up."""

    at: datetime  # dialled (aware)
    outcome: CallOutcome | None
    abandoned: bool = False  # answered, but no agent joined within the allowed time

    @property
    def counts_abandoned(self) -> bool:
        return self.abandoned or self.outcome is CallOutcome.ABANDONED


@dataclass(frozen=True, slots=True)
class AbandonmentRate:
    """The figures over one window: from `since` (None: the campaign's start) to now.

    `resets_at` is when the window starts afresh (the next midnight, for a daily window).
    """

    window: AbandonWindow
    since: datetime | None
    resets_at: datetime | None
    live: float
    abandoned: float

    @property
    def rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0

    def reached(self, cap: float) -> bool:
        """At or over `cap`: one more abandoned call would break it."""
        return self.rate >= cap


def local_midnight(instant: datetime, zone: ZoneInfo, days_after: int = 0) -> datetime:
    """Midnight starting the local day of `instant` in `zone`, or `days_after` days later."""
    day = instant.astimezone(zone).date() + timedelta(days=days_after)
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass(frozen=True, slots=True)
class LiveCounts:
    """Attempts of a window by how they count: served, abandoned (either way), machine verdicts."""

    answered: int
    abandoned: int
    machine: int


def window_of(
    settings: ComplianceSettings, zone: ZoneInfo, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The abandonment window at `now`: where it starts (None: the campaign's start) and when it
    starts afresh (the next local midnight, for a daily window; else None)."""
    if settings.abandon_window is AbandonWindow.DAY:
        return local_midnight(now, zone), local_midnight(now, zone, 1)
    if settings.abandon_window is AbandonWindow.ROLLING_30_DAYS:
        return now - timedelta(days=30), None
    return None, None


def rate_of_counts(
    counts: LiveCounts, settings: ComplianceSettings, zone: ZoneInfo, now: datetime
) -> AbandonmentRate:
    """The figures of the window at `now` from its counts (see `count_live` for what they count)."""
    since, resets_at = window_of(settings, zone, now)
    machine_share = (settings.amd_false_positive_share or 0.0) if settings.counts_amd_false_positives else 0.0
    human_machines = machine_share * counts.machine
    live = counts.answered + counts.abandoned + human_machines
    return AbandonmentRate(settings.abandon_window, since, resets_at, live, counts.abandoned + human_machines)


def count_live(attempts: Iterable[AttemptRecord], since: datetime | None, now: datetime) -> LiveCounts:
    """The counts of the attempts dialled from `since` to `now` (the database does the same in SQL)."""
    answered = abandoned = machine = 0
    for attempt in attempts:
        if attempt.at > now or (since is not None and attempt.at < since):
            continue
        if attempt.counts_abandoned:
            abandoned += 1
        elif attempt.outcome is CallOutcome.ANSWERED:
            answered += 1
        elif attempt.outcome is CallOutcome.MACHINE:
            machine += 1
    return LiveCounts(answered, abandoned, machine)


def abandonment_rate(
    attempts: Iterable[AttemptRecord], settings: ComplianceSettings, zone: ZoneInfo, now: datetime
) -> AbandonmentRate:
    """The campaign's figures at `now` over `settings.abandon_window`; `zone` is the campaign's."""
    since, _ = window_of(settings, zone, now)
    return rate_of_counts(count_live(attempts, since, now), settings, zone, now)
