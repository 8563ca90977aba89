"""A campaign's own schedule (CB-3): dialing hours in its zone, holidays, DST, scheduled start and stop."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from campaigns.compliance.hours import CallingHours, CallingWindow
from campaigns.config import CampaignSpec
from campaigns.persistence.models.enums import CampaignState
from campaigns.schedule import CampaignSchedule, ScheduledMove
from ringcast.errors import UserError

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
WORKING = CallingHours((CallingWindow(time(9), time(12)), CallingWindow(time(14), time(18))))
NATIONAL_DAY = frozenset({date(2026, 10, 1), date(2026, 10, 2)})


def at(zone: ZoneInfo, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=zone)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        ((2026, 9, 30, 9, 0), True),
        ((2026, 9, 30, 12, 0), False),  # lunch
        ((2026, 9, 30, 17, 59), True),
        ((2026, 10, 1, 10, 0), False),  # National Day
        ((2026, 10, 2, 23, 59), False),
        ((2026, 10, 3, 9, 30), True),
    ],
)
def test_open_within_its_windows_except_on_holidays(local: tuple[int, ...], open_: bool) -> None:
    schedule = CampaignSchedule(SHANGHAI, hours=WORKING, holidays=NATIONAL_DAY)
    assert schedule.is_open(at(SHANGHAI, *local).astimezone(UTC)) is open_


def test_next_open_skips_the_holidays_to_the_first_window() -> None:
    schedule = CampaignSchedule(SHANGHAI, hours=WORKING, holidays=NATIONAL_DAY)
    evening = at(SHANGHAI, 2026, 9, 30, 19, 0).astimezone(UTC)
    assert schedule.next_open(evening) == at(SHANGHAI, 2026, 10, 3, 9, 0)
    lunch = at(SHANGHAI, 2026, 9, 30, 12, 30).astimezone(UTC)
    assert schedule.next_open(lunch) == at(SHANGHAI, 2026, 9, 30, 14, 0)


def test_without_hours_only_holidays_close_it() -> None:
    schedule = CampaignSchedule(SHANGHAI, holidays=NATIONAL_DAY)
    assert schedule.is_open(at(SHANGHAI, 2026, 9, 30, 3, 0)) is True
    assert schedule.next_open(at(SHANGHAI, 2026, 10, 1, 3, 0)) == at(SHANGHAI, 2026, 10, 3, 0, 0)


def test_hours_follow_the_local_clock_across_a_dst_change() -> None:
    schedule = CampaignSchedule(NEW_YORK, hours=CallingHours((CallingWindow(time(9), time(17)),)))
    before = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)  # Friday 09:00 EST (UTC-5)
    after = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # Monday 09:00 EDT (UTC-4)
    assert schedule.is_open(before) and schedule.is_open(after)
    assert not schedule.is_open(datetime(2026, 3, 9, 12, 59, tzinfo=UTC))
    assert schedule.next_open(datetime(2026, 3, 8, 23, 0, tzinfo=UTC)) == after


@pytest.mark.parametrize(
    ("state", "now", "move"),
    [
        (CampaignState.DRAFT, datetime(2026, 12, 1, 0, 59, tzinfo=UTC), None),
        (CampaignState.DRAFT, datetime(2026, 12, 1, 1, 0, tzinfo=UTC), ScheduledMove.START),
        (CampaignState.PAUSED, datetime(2026, 12, 1, 2, 0, tzinfo=UTC), None),  # paused by people: stays
        (CampaignState.RUNNING, datetime(2026, 12, 2, 1, 0, tzinfo=UTC), ScheduledMove.STOP),
        (CampaignState.PAUSED, datetime(2026, 12, 2, 1, 0, tzinfo=UTC), ScheduledMove.STOP),
        (CampaignState.DRAFT, datetime(2026, 12, 2, 1, 0, tzinfo=UTC), None),  # its time is over
        (CampaignState.FINISHED, datetime(2026, 12, 2, 1, 0, tzinfo=UTC), None),
    ],
)
def test_the_due_move_of_a_scheduled_campaign(
    state: CampaignState, now: datetime, move: ScheduledMove | None
) -> None:
    spec = CampaignSpec.parse({"start_at": "2026-12-01T09:00+08:00", "stop_at": "2026-12-02T09:00+08:00"})
    assert spec.schedule().due_move(state, now) is move


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"start_at": "2026-12-01T09:00"}, "campaign start_at: give the time with its offset"),
        (
            {"start_at": "2026-12-02T09:00+08:00", "stop_at": "2026-12-01T09:00+08:00"},
            "must be after start_at",
        ),
        ({"holidays": "2026-13-01"}, "campaign holidays.0"),
        ({"dialing_hours": "09:00"}, "campaign dialing_hours"),
        ({"abandoned_callback_s": "soon"}, "campaign abandoned_callback_s"),
    ],
)
def test_bad_schedule_settings_are_one_line_errors(given: dict[str, str], problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        CampaignSpec.parse(given)


def test_the_schedule_is_read_in_the_campaign_s_zone() -> None:
    spec = CampaignSpec.parse({"preset": "us", "dialing_hours": "09:00-17:00", "holidays": "2026-11-26"})
    schedule = spec.schedule()
    assert schedule.zone == NEW_YORK and schedule.holidays == {date(2026, 11, 26)}
    assert not schedule.is_open(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))  # Thanksgiving, 10:00 in New York
