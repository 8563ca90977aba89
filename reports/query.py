"""What a report is asked for (RPT-1..8): the period, the time zone its days and hours are in, the
filters, and the time buckets, parsed from the command line with one-line errors.

`--from` and `--to` are local days of `--tz` (default: the machine's zone), both included: the
period runs from `--from`'s local midnight to the midnight after `--to`. A day that DST shortens
or lengthens is 23 or 25 hours long, as the clock on the wall says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ringcast.errors import UserError


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday first


@dataclass(frozen=True, slots=True)
class ReportQuery:
    since: datetime  # aware, the local midnight starting the first day
    until: datetime  # aware, exclusive: the local midnight after the last day
    zone: ZoneInfo
    campaign: str | None = None
    agent: str | None = None
    by: Bucket | None = None

    @classmethod
    def parse(
        cls,
        first: str,
        last: str,
        zone: str | None = None,
        *,
        campaign: str | None = None,
        agent: str | None = None,
        by: Bucket | None = None,
    ) -> ReportQuery:
        where = _zone(zone)
        start, end = _day("--from", first), _day("--to", last)
        if start > end:
            raise UserError(f"--from {start} is after --to {end}", hint="give the earlier day first")
        until = _midnight(end + timedelta(days=1), where)
        return cls(_midnight(start, where), until, where, campaign, agent, by)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def bucket_of(self, instant: datetime) -> str:
        """The bucket label of an instant: `2026-11-23 14:00`, `2026-11-23` or `2026-W48`."""
        local = self.local(instant)
        if self.by is Bucket.HOUR:
            return f"{local:%Y-%m-%d %H}:00"
        if self.by is Bucket.WEEK:
            year, week, _ = local.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{local:%Y-%m-%d}"


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{option} {value!r} is not a date", hint="give a day as YYYY-MM-DD") from None


def _zone(name: str | None) -> ZoneInfo:
    if name is None:
        local = datetime.now().astimezone().tzinfo
        key = getattr(local, "key", None)
        return ZoneInfo(key) if key else ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"--tz {name!r} is not a time zone", hint="e.g. Asia/Shanghai") from None
