"""Calling hours (CMPL-2): daily windows of local wall-clock time, and when they are open for a callee.

A `CallingHours` is one or more daily windows, opening on chosen ISO weekdays. A window whose end
is at or before its start runs past midnight into the next day (22:00-02:00; 00:00-00:00 is the
whole day); it belongs to the day it opens on. Times are wall-clock times in the callee's zone,
so a DST change moves them in UTC, never locally: a window opening at a time the clock shows
twice (a fold) opens at both, one opening at a time the clock skips (a gap) opens at the jump.

A number may lie in several zones (a US number whose area code spans two). It may be called only
when the hours are open in every one of them: `open_everywhere` and `next_open` answer for a
set of zones, and `next_open` returns the first instant the intersection is open, searched over
the coming eight days (the hours repeat every week; DST shifts them by at most a few hours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ringcast.errors import UserError

DAY_S = 86_400
WEEK_S = 7 * DAY_S
ALL_DAYS = frozenset(range(1, 8))
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_HORIZON_DAYS = 8


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _wall_clock_reaches(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, ...]:
    """The instants `zone`'s clock reaches `at` on `day`: once; twice in a DST fold; in a DST gap,
    never, so the instant it jumps past it (found to the second between the two readings of `at`)."""
    first = datetime.combine(day, at, tzinfo=zone)  # read with the offset before a transition
    second = first.replace(fold=1)  # with the offset after it
    old, new = first.astimezone(UTC), second.astimezone(UTC)
    if old == new:
        return (first,)
    if old < new:
        return first, second
    low, high = 0, int((old - new).total_seconds())  # `new` is before the jump, `old` after it
    while high - low > 1:
        middle = (low + high) // 2
        if (new + timedelta(seconds=middle)).astimezone(zone).utcoffset() == first.utcoffset():
            low = middle
        else:
            high = middle
    return (new + timedelta(seconds=high),)


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """Local hours [start, end) of one day."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise UserError(f"calling window {self}: give local times without a time zone")

    @property
    def length_s(self) -> int:
        return (_seconds(self.end) - _seconds(self.start) - 1) % DAY_S + 1

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class CallingHours:
    """The windows, each opening on every day of `days` (ISO weekdays, 1 = Monday)."""

    windows: tuple[CallingWindow, ...]
    days: frozenset[int] = ALL_DAYS

    def __post_init__(self) -> None:
        if not self.windows:
            raise UserError("calling hours: no window given, calls could never be placed")
        if not self.days or not self.days <= ALL_DAYS:
            raise UserError("calling hours days: give weekdays 1 (Monday) to 7 (Sunday), at least one")

    def __str__(self) -> str:
        hours = ", ".join(map(str, self.windows))
        if self.days == ALL_DAYS:
            return f"{hours} every day"
        return f"{hours} on {','.join(_DAY_NAMES[day - 1] for day in sorted(self.days))}"

    def _spans(self) -> list[tuple[int, int]]:
        """Open spans in seconds of the week from Monday 00:00, merged and sorted (none wraps)."""
        pieces: list[tuple[int, int]] = []
        for day in self.days:
            for window in self.windows:
                start = (day - 1) * DAY_S + _seconds(window.start)
                end = start + window.length_s
                pieces.append((start, min(end, WEEK_S)))
                if end > WEEK_S:
                    pieces.append((0, end - WEEK_S))
        merged: list[tuple[int, int]] = []
        for start, end in sorted(pieces):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def is_open(self, local: datetime) -> bool:
        """Open at this local wall-clock time (the datetime's zone, if any, is not looked at)."""
        second = (local.isoweekday() - 1) * DAY_S + _seconds(local.time()) + local.microsecond / 1e6
        return any(start <= second < end for start, end in self._spans())

    def covers(self, other: CallingHours) -> bool:
        """Open whenever `other` is: `other` is the same or tighter."""
        mine = self._spans()
        return all(any(a <= start and end <= b for a, b in mine) for start, end in other._spans())

    def _openings(self, zone: ZoneInfo, first: date) -> list[datetime]:
        """The instants windows open in `zone`, on local days from `first` over the horizon."""
        found: list[datetime] = []
        for offset in range(_HORIZON_DAYS + 1):
            day = first + timedelta(days=offset)
            if day.isoweekday() in self.days:
                for window in self.windows:
                    found.extend(_wall_clock_reaches(day, window.start, zone))
        return found

    def open_everywhere(self, zones: Sequence[ZoneInfo], at: datetime) -> bool:
        """Open at the instant `at` (aware) in each of `zones`."""
        return all(self.is_open(at.astimezone(zone)) for zone in zones)

    def next_open(self, zones: Sequence[ZoneInfo], at: datetime) -> datetime | None:
        """The first instant from `at` (aware) when the hours are open in all `zones` (in `at`'s zone).

        The intersection of the zones' open spans starts at `at` or where one of them opens, so
        those are the only candidates. None when they never overlap within the horizon.
        """
        if self.open_everywhere(zones, at):
            return at
        candidates = sorted(
            opening.astimezone(at.tzinfo)
            for zone in zones
            for opening in self._openings(zone, at.astimezone(zone).date() - timedelta(days=1))
        )
        return next((c for c in candidates if c > at and self.open_everywhere(zones, c)), None)
