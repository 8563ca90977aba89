"""Time strategies (IVR-1, IVR-3): time windows in a zone (hours, weekdays, dates, holidays, DST) and the
flow an inbound number runs at a given instant."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.config import parse_calling_hours
from dialer.ivr.did_plan import DidPlan, flow_for, parse_plan, rule_from_text, rule_text
from dialer.ivr.problems import FlowError
from dialer.ivr.windows import DateRange, TimeWindow, opening_days

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def shanghai(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=SHANGHAI)  # type: ignore[misc]


def window(**fields: object) -> TimeWindow:
    return TimeWindow.model_validate(fields)


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        ((2026, 12, 1, 8, 59), False),  # Tuesday, before opening
        ((2026, 12, 1, 9, 0), True),
        ((2026, 12, 1, 12, 30), False),  # lunch
        ((2026, 12, 1, 17, 59), True),
        ((2026, 12, 1, 18, 0), False),
        ((2026, 12, 5, 10, 0), False),  # Saturday
        ((2026, 10, 1, 10, 0), False),  # Thursday, a holiday
    ],
)
def test_business_hours_on_weekdays_minus_holidays(local: tuple[int, ...], inside: bool) -> None:
    hours = window(hours="09:00-12:00,13:30-18:00", days="mon-fri", holidays="2026-10-01,2026-10-02")
    assert hours.contains(shanghai(*local), "Asia/Shanghai") is inside


def test_the_zone_is_the_windows_own_else_the_default() -> None:
    at = datetime(2026, 12, 1, 2, 0, tzinfo=ZoneInfo("UTC"))  # 10:00 in Shanghai, 21:00 in New York
    assert window(hours="09:00-18:00").contains(at, "Asia/Shanghai")
    assert not window(hours="09:00-18:00", zone="America/New_York").contains(at, "Asia/Shanghai")
    assert not window(hours="09:00-18:00").contains(at, "America/New_York")


def test_a_night_window_belongs_to_the_day_it_opens_on() -> None:
    night = window(hours="22:00-06:00", days="fri")
    assert night.contains(shanghai(2026, 12, 4, 23, 0), "Asia/Shanghai")  # Friday night
    assert night.contains(shanghai(2026, 12, 5, 5, 59), "Asia/Shanghai")  # Saturday morning: Friday's
    assert not night.contains(shanghai(2026, 12, 4, 5, 0), "Asia/Shanghai")  # Friday morning: Thursday's


def test_a_night_window_takes_its_dates_and_holidays_from_the_day_it_opened() -> None:
    friday_night = shanghai(2026, 12, 5, 2, 0)  # Saturday 02:00: inside Friday's 22:00-06:00
    assert not window(hours="22:00-06:00", holidays="2026-12-04").contains(friday_night, "Asia/Shanghai")
    assert window(hours="22:00-06:00", holidays="2026-12-05").contains(friday_night, "Asia/Shanghai")
    assert window(hours="22:00-06:00", dates="2026-12-04").contains(friday_night, "Asia/Shanghai")
    saturday_only = window(hours="22:00-06:00", dates="2026-12-05")
    assert not saturday_only.contains(friday_night, "Asia/Shanghai")
    assert saturday_only.contains(shanghai(2026, 12, 5, 23, 0), "Asia/Shanghai")  # Saturday's own night
    assert saturday_only.contains(shanghai(2026, 12, 6, 5, 59), "Asia/Shanghai")  # ... until Sunday 06:00
    new_year = DidPlan.model_validate(
        {"flow": "day", "rules": [{"flow": "eve", "hours": "20:00-08:00", "dates": "2026-12-31"}]}
    )
    assert flow_for(new_year, shanghai(2027, 1, 1, 2, 0)) == "eve"
    assert flow_for(new_year, shanghai(2026, 12, 31, 2, 0)) == "day"  # the 30th's night


def test_a_night_window_across_a_dst_change_is_still_the_day_it_opened() -> None:
    # New York springs forward on Sunday 2026-03-08: 02:00 EST becomes 03:00 EDT inside Saturday's night
    night = {"hours": "22:00-06:00", "zone": "America/New_York"}
    sunday_early = datetime(2026, 3, 8, 7, 30, tzinfo=ZoneInfo("UTC"))  # 03:30 EDT
    assert sunday_early.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)
    assert window(**night, days="sat").contains(sunday_early, "UTC")
    assert not window(**night, days="sun").contains(sunday_early, "UTC")
    assert not window(**night, holidays="2026-03-07").contains(sunday_early, "UTC")
    assert window(**night, holidays="2026-03-08").contains(sunday_early, "UTC")
    after = datetime(2026, 3, 8, 10, 30, tzinfo=ZoneInfo("UTC"))  # 06:30 EDT: the night has closed
    assert not window(**night, days="sat").contains(after, "UTC")


def test_the_opening_days_of_overlapping_windows() -> None:
    windows = parse_calling_hours("22:00-06:00,05:00-07:00,00:00-24:00").windows
    saturday = date(2026, 12, 5)
    assert list(opening_days(windows, shanghai(2026, 12, 5, 5, 30))) == [
        saturday - timedelta(days=1),
        saturday,
        saturday,
    ]
    assert list(opening_days(windows, shanghai(2026, 12, 5, 12, 0))) == [saturday]
    assert list(opening_days(windows, shanghai(2026, 12, 5, 22, 0))) == [saturday, saturday]


def test_hours_are_wall_clock_hours_across_dst_changes() -> None:
    office = window(hours="09:00-17:00", zone="America/New_York")
    friday_before = datetime(2026, 3, 6, 13, 30, tzinfo=ZoneInfo("UTC"))  # 08:30 EST
    monday_after = datetime(2026, 3, 9, 13, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 EDT
    assert not office.contains(friday_before, "UTC")
    assert office.contains(monday_after, "UTC")
    # London's clocks go back on 2026-10-25: 01:30 happens twice, and both are inside 01:00-02:00.
    early = window(hours="01:00-02:00", zone="Europe/London")
    first = datetime(2026, 10, 25, 0, 30, tzinfo=ZoneInfo("UTC"))  # 01:30 BST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("UTC"))  # 01:30 GMT
    assert early.contains(first, "UTC") and early.contains(second, "UTC")
    assert first.astimezone(LONDON).hour == second.astimezone(LONDON).hour == 1


def test_dates_limit_the_window_to_ranges_of_local_days() -> None:
    golden_week = window(dates=["2026-10-01..2026-10-07", date(2026, 12, 25)])
    assert golden_week.dates == [
        DateRange(first=date(2026, 10, 1), last=date(2026, 10, 7)),
        DateRange(first=date(2026, 12, 25), last=date(2026, 12, 25)),
    ]
    assert golden_week.contains(shanghai(2026, 10, 7, 23, 59), "Asia/Shanghai")
    assert not golden_week.contains(shanghai(2026, 10, 8, 0, 0), "Asia/Shanghai")
    assert golden_week.contains(shanghai(2026, 12, 25, 0, 0), "Asia/Shanghai")
    # 2026-10-07 16:30 UTC is already the 8th in Shanghai
    assert not golden_week.contains(datetime(2026, 10, 7, 16, 30, tzinfo=ZoneInfo("UTC")), "Asia/Shanghai")


@pytest.mark.parametrize(
    ("days", "iso"),
    [("mon-fri", [1, 2, 3, 4, 5]), ("fri-mon", [1, 5, 6, 7]), ("sat,Sunday", [6, 7]), ([3, "1"], [1, 3])],
)
def test_weekdays_by_name_range_or_number(days: object, iso: list[int]) -> None:
    assert window(days=days).days == iso


PLAN = DidPlan.model_validate(
    {
        "flow": "closed",
        "rules": [
            {"flow": "holiday", "dates": "2026-10-01..2026-10-07"},
            {"flow": "hotline", "hours": "09:00-18:00", "days": "mon-fri"},
            {"flow": "weekend", "days": "sat,sun", "zone": "America/New_York"},
        ],
    }
)


@pytest.mark.parametrize(
    ("at", "flow"),
    [
        (shanghai(2026, 12, 1, 10, 0), "hotline"),
        (shanghai(2026, 12, 1, 20, 0), "closed"),
        (shanghai(2026, 10, 2, 10, 0), "holiday"),  # a Friday: the first matching rule wins
        (shanghai(2026, 12, 5, 20, 0), "weekend"),  # Saturday in New York too
        (shanghai(2026, 12, 5, 10, 0), "closed"),  # Saturday in Shanghai, still Friday in New York
    ],
)
def test_a_dids_flow_is_the_first_rule_holding_else_its_default(at: datetime, flow: str) -> None:
    assert flow_for(PLAN, at) == flow


def test_without_a_default_flow_the_number_plays_its_message() -> None:
    plan = DidPlan.model_validate({"rules": [{"flow": "hotline", "hours": "09:00-18:00"}]})
    assert flow_for(plan, shanghai(2026, 12, 1, 10)) == "hotline"
    assert flow_for(plan, shanghai(2026, 12, 1, 19)) is None
    assert DidPlan().flows() == [] and PLAN.flows() == ["closed", "holiday", "hotline", "weekend"]


def test_rules_on_the_command_line_read_back_as_written() -> None:
    text = "flow=hotline hours=09:00-12:00,13:30-18:00 days=mon-fri holidays=2026-10-01,2026-10-02"
    plan = parse_plan({"rules": [rule_from_text(text)]}, "DID 95555")
    assert rule_text(plan.rules[0]) == (
        "hours=09:00-12:00,13:30-18:00 days=mon,tue,wed,thu,fri holidays=2026-10-01,2026-10-02"
    )
    again = parse_plan({"rules": [rule_from_text(f"flow=hotline {rule_text(plan.rules[0])}")]}, "DID 95555")
    assert again == plan
    assert rule_text(parse_plan({"rules": [{"flow": "x"}]}, "d").rules[0]) == "always"


def test_plan_problems_are_one_line_each_with_their_path() -> None:
    with pytest.raises(FlowError) as raised:
        parse_plan(
            {"zone": "Nowhere", "rules": [{"flow": "x", "hours": "9-5", "weekdays": "mon"}]}, "DID 95555"
        )
    assert raised.value.problems == [
        "zone: 'Nowhere' is not an IANA time zone, e.g. Asia/Shanghai",
        "rules[0].hours: 9-5: give times as HH:MM, e.g. 09:00-21:00",
        "rules[0].weekdays: Extra inputs are not permitted",
    ]
    assert str(raised.value).startswith("DID 95555: 3 problem(s): zone: ")
    with pytest.raises(FlowError, match=r"rule 'flow=x days': 1 problem\(s\): days: give each field once"):
        rule_from_text("flow=x days")
