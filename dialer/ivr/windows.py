"""When a time condition holds (IVR-3): local hours on chosen weekdays, within dates, minus holidays.

A `TimeWindow` is what a flow's `time` node and a DID's time rule test the call's instant with:

    zone: Asia/Shanghai                     # IANA; default: the flow's or the DID plan's zone
    hours: 09:00-12:00,13:30-18:00          # local wall-clock windows (default: the whole day)
    days: mon-fri                           # or [mon, wed], [1, 3], sat,sun (default: every day)
    dates: [2026-10-01..2026-10-07]         # only on these dates (ranges or single dates)
    holidays: [2026-10-01, 2026-10-02]      # never on these dates

Hours are the calling hours' rules (`campaigns.compliance.hours`): a window ending at or before its
start runs past midnight, and a DST change moves the windows in UTC, never on the wall clock. A
window belongs to the day it opens on, for everything the day decides: its weekday, `dates` and
`holidays`. At 02:00 on a Saturday, a 22:00-06:00 window is Friday's: open with `days: fri`, with
Friday in `dates`, and closed when Friday is a holiday, whatever Saturday is. (A campaign's own
holidays close the whole calendar day instead, `campaigns.schedule`.) Pure: the instant is an
argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from campaigns.compliance.hours import ALL_DAYS, CallingWindow
from campaigns.config import parse_calling_hours

DEFAULT_ZONE = "Asia/Shanghai"
WHOLE_DAY = "00:00-24:00"
WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
RANGE = ".."
DAY = timedelta(days=1)


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
        """Whether the instant `at` (aware) is in the window, read in its zone (else `default_zone`):
        within its hours, opened on a day its weekdays, dates and holidays allow."""
        local = at.astimezone(ZoneInfo(self.zone or default_zone))
        windows = parse_calling_hours(self.hours or WHOLE_DAY).windows
        return any(self._allows(day) for day in opening_days(windows, local))

    def _allows(self, day: date) -> bool:
        """Whether hours opening on the local day `day` count: its weekday, in `dates`, no holiday."""
        return (
            (self.days is None or day.isoweekday() in self.days)
            and (not self.dates or any(r.first <= day <= r.last for r in self.dates))
            and day not in self.holidays
        )


def opening_days(windows: Iterable[CallingWindow], local: datetime) -> Iterator[date]:
    """The local days whose `windows` hold the wall-clock time `local`, one per window holding it:
    `local`'s own day, or the day before for a window that opened then and runs past midnight."""
    clock = local.replace(tzinfo=None)
    today = clock.date()
    since_midnight = clock - clock.replace(hour=0, minute=0, second=0, microsecond=0)
    for window in windows:
        opens = timedelta(hours=window.start.hour, minutes=window.start.minute, seconds=window.start.second)
        closes = opens + timedelta(seconds=window.length_s)
        if opens <= since_midnight < closes:
            yield today
        elif since_midnight + DAY < closes:
            yield today - DAY
