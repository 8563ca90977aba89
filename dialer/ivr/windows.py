"""When a time condition holds (IVR-3): local hours on chosen weekdays, within dates, minus holidays.

A `TimeWindow` is what a flow's `time` node and a DID's time rule test the call's instant with:

    zone: Asia/Shanghai                     # IANA; default: the flow's or the DID plan's zone
    hours: 09:00-12:00,13:30-18:00          # local wall-clock windows (default: the whole day)
    days: mon-fri                           # or [mon, wed], [1, 3], sat,sun (default: every day)
    dates: [2026-10-01..2026-10-07]         # only on these dates (ranges or single dates)
    holidays: [2026-10-01, 2026-10-02]      # never on these dates

Hours, weekdays and holidays are the calling hours' and campaign schedules' own rules
(`campaigns.compliance.hours`, `campaigns.schedule`): a window ending at or before its start runs
past midnight and belongs to the day it opens on, and a DST change moves the windows in UTC,
never on the wall clock. Pure: the instant is an argument.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from campaigns.compliance.hours import ALL_DAYS, CallingHours
from campaigns.config import parse_calling_hours
from campaigns.schedule import CampaignSchedule

DEFAULT_ZONE = "Asia/Shanghai"
WHOLE_DAY = "00:00-24:00"
WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
RANGE = ".."


def known_zone(name: str) -> str:
    """`name` if it is an IANA time zone."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone, e.g. Asia/Shanghai") from None
    return name


def _hours(value: Any) -> Any:
    if value is None:
        return None
    parse_calling_hours(str(value))  # a ValueError says what is wrong
    return str(value)


def _weekday(text: str) -> int:
    word = text.strip().lower()
    day = int(word) if word.isdigit() else WEEKDAYS.get(word[:3])
    if day is None or day not in ALL_DAYS:
        raise ValueError(f"{text!r} is not a weekday: give mon..sun or 1 (Monday) to 7")
    return day


def _weekdays(value: Any) -> Any:
    """`mon-fri`, `sat,sun`, `[mon, wed]` or `[1, 3]` -> ISO weekdays."""
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, list):
        return value
    days: set[int] = set()
    for part in map(str, parts):
        first, dash, last = part.partition("-")
        low, high = _weekday(first), _weekday(last) if dash else _weekday(first)
        days.update(range(low, high + 1) if low <= high else [*range(low, 8), *range(1, high + 1)])
    return sorted(days)


class DateRange(BaseModel):
    """Local dates `first` to `last`, both included."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first: date
    last: date

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """`2026-10-01..2026-10-07`, or one date."""
        if isinstance(value, date):
            return {"first": value, "last": value}
        if isinstance(value, str):
            first, _, last = value.partition(RANGE)
            return {"first": first.strip(), "last": (last or first).strip()}
        return value

    @model_validator(mode="after")
    def _in_order(self) -> DateRange:
        if self.last < self.first:
            raise ValueError(f"{self.last} is before {self.first}")
        return self


def _listed(value: Any) -> Any:
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


class TimeWindow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zone: Annotated[str | None, AfterValidator(lambda z: z if z is None else known_zone(z))] = None
    hours: Annotated[str | None, BeforeValidator(_hours)] = None
    days: Annotated[list[int] | None, BeforeValidator(_weekdays)] = Field(default=None, min_length=1)
    dates: Annotated[list[DateRange], BeforeValidator(_listed)] = Field(default_factory=list)
    holidays: Annotated[list[date], BeforeValidator(_listed)] = Field(default_factory=list)

    def contains(self, at: datetime, default_zone: str) -> bool:
        """Whether the instant `at` (aware) is in the window, read in its zone (else `default_zone`)."""
        zone = ZoneInfo(self.zone or default_zone)
        day = at.astimezone(zone).date()
        if self.dates and not any(r.first <= day <= r.last for r in self.dates):
            return False
        windows = parse_calling_hours(self.hours or WHOLE_DAY).windows
        hours = CallingHours(windows, frozenset(self.days) if self.days else ALL_DAYS)
        return CampaignSchedule(zone, hours=hours, holidays=frozenset(self.holidays)).is_open(at)
