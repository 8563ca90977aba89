"""A campaign's own schedule (CB-3), pure: when it starts and stops by itself, and when it may dial.

- `start_at`: a draft campaign starts by itself at this instant (checked like a manual start);
- `stop_at`: a running or paused campaign stops (finished) at this instant;
- `hours`: the campaign's dialing hours, daily windows of the campaign's own time zone (the call
  center's working hours), on top of the callees' calling hours that compliance imposes;
- `holidays`: local dates of the campaign's zone on which it places no call at all (the whole
  calendar day, 00:00 to 24:00, whatever the windows).

Outside its hours or on a holiday a running campaign places no new call (calls in progress go on,
callbacks wait); `next_open` says until when, for `campaign why`. `due_move` tells the engine's
scheduler which state change is due. Time comes in as arguments; nothing here reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from campaigns.compliance.hours import CallingHours
from campaigns.persistence.models.enums import CampaignState

_SEARCH_DAYS = 400  # holidays can close many days in a row; a year and a month is the horizon


class ScheduledMove(StrEnum):
    """A state change the schedule asks for (the values of `campaign_store.CampaignEvent`'s)."""

    START = "start"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class CampaignSchedule:
    zone: ZoneInfo
    start_at: datetime | None = None
    stop_at: datetime | None = None
    hours: CallingHours | None = None
    holidays: frozenset[date] = field(default_factory=frozenset)

    def is_open(self, now: datetime) -> bool:
        """Whether the campaign may place calls at `now` (aware)."""
        local = now.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        return self.hours is None or self.hours.is_open(local)

    def next_open(self, now: datetime) -> datetime | None:
        """The first instant from `now` when it may place calls (None: not within a year)."""
        at = now
        for _ in range(_SEARCH_DAYS):
            if self.hours is not None:
                found = self.hours.next_open((self.zone,), at)
                if found is None:
                    return None
                at = found
            local = at.astimezone(self.zone)
            if local.date() not in self.holidays:
                return at
            next_day = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), self.zone)
            at = next_day.astimezone(now.tzinfo)
        return None

    def due_move(self, state: CampaignState, now: datetime) -> ScheduledMove | None:
        """`start` when a draft's start time has come (and its stop time has not), `stop` when a
        started campaign's stop time has come; None otherwise."""
        if self.stop_at is not None and now >= self.stop_at:
            return ScheduledMove.STOP if state in (CampaignState.RUNNING, CampaignState.PAUSED) else None
        if self.start_at is not None and now >= self.start_at and state is CampaignState.DRAFT:
            return ScheduledMove.START
        return None
