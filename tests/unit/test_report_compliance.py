"""The compliance report's pure parts, by hand: quarter hours folded into callees' local hours
(half-hour and 45-minute zones, both DST days), quarter hours inside, outside or split by the
calling hours, and each local hour's mark."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.compliance.hours import CallingHours, CallingWindow
from campaigns.compliance.rules import RefusalReason
from reports.compliance_report import (
    INSIDE,
    OUTSIDE,
    PARTLY,
    REASON_GROUPS,
    HourCount,
    hour_mark,
    local_hour,
    quarter_open,
    tally_hours,
)

KOLKATA, KATHMANDU = ZoneInfo("Asia/Kolkata"), ZoneInfo("Asia/Kathmandu")  # +05:30, +05:45
SHANGHAI, NEW_YORK, CHICAGO = (
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("America/New_York"),
    ZoneInfo("America/Chicago"),
)
CN = CallingHours((CallingWindow(time(9), time(21)),))  # the cn preset: 09:00-21:00
US = CallingHours((CallingWindow(time(8), time(21)),))  # the us preset: 08:00-21:00
ODD = CallingHours((CallingWindow(time(9, 10), time(21)),))  # opens within a quarter hour
QUARTER = timedelta(minutes=15)


def quarter(hour: int, minute: int = 0, day: int = 23, month: int = 11) -> int:
    """The quarter-hour number of 2026-month-day hour:minute UTC."""
    return int(datetime(2026, month, day, hour, minute, tzinfo=UTC).timestamp()) // 900


def minute(at: datetime) -> int:
    return int(at.timestamp()) // 60


def test_a_quarter_hour_falls_in_the_callees_local_hour_in_half_and_three_quarter_hour_zones() -> None:
    assert local_hour(KOLKATA, quarter(3, 15)) == 8  # 03:15 UTC is 08:45 in Kolkata (+05:30)
    assert local_hour(KOLKATA, quarter(3, 30)) == 9  # 09:00
    assert local_hour(KATHMANDU, quarter(3, 0)) == 8  # 08:45 (+05:45)
    assert local_hour(KATHMANDU, quarter(3, 15)) == 9  # 09:00
    assert local_hour(SHANGHAI, quarter(15, 45)) == 23  # 23:45 on the 23rd
    assert local_hour(SHANGHAI, quarter(16, 0)) == 0  # midnight: the 24th's first hour


def test_the_autumn_dst_day_has_two_one_oclock_hours_counted_together() -> None:
    # 2026-11-01, New York: 04:00 UTC is 00:00 EDT; at 06:00 UTC clocks go back from 02:00 EDT to
    # 01:00 EST; the local day ends at 05:00 UTC on the 2nd: 25 hours, 100 quarter hours.
    first = quarter(4, day=1)
    rows = [((NEW_YORK,), n, 1) for n in range(first, first + 100)]
    counted = {c.hour: c.calls for c in tally_hours(US, rows)}
    assert counted[1] == 8  # 4 quarter hours 05:00-06:00 UTC (EDT) + 4 06:00-07:00 UTC (EST)
    assert counted[0] == counted[2] == counted[23] == 4
    assert sum(counted.values()) == 100 and len(counted) == 24


def test_the_spring_dst_day_has_no_two_oclock_hour() -> None:
    # 2026-03-08, New York: 05:00 UTC is 00:00 EST; at 07:00 UTC (02:00 EST) clocks jump to 03:00 EDT;
    # the local day ends at 04:00 UTC on the 9th: 23 hours, 92 quarter hours.
    first = quarter(5, day=8, month=3)
    assert local_hour(NEW_YORK, first + 7) == 1  # 06:45 UTC: 01:45 EST
    assert local_hour(NEW_YORK, first + 8) == 3  # 07:00 UTC: 03:00 EDT
    counted = {
        c.hour: c.calls for c in tally_hours(US, [((NEW_YORK,), n, 1) for n in range(first, first + 92)])
    }
    assert 2 not in counted and len(counted) == 23 and set(counted.values()) == {4}


def test_a_quarter_hour_is_inside_outside_or_split_by_the_calling_hours() -> None:
    assert quarter_open(CN, (KOLKATA,), quarter(3, 15)) is False  # 08:45-09:00 in Kolkata
    assert quarter_open(CN, (KOLKATA,), quarter(3, 30)) is True  # 09:00-09:15
    assert quarter_open(CN, (KOLKATA,), quarter(15, 15)) is True  # 20:45-21:00
    assert quarter_open(CN, (KOLKATA,), quarter(15, 30)) is False  # 21:00-21:15
    assert quarter_open(ODD, (KOLKATA,), quarter(3, 30)) is None  # 09:00-09:15, opening at 09:10
    # a number in two zones must be open in both: 13:00 UTC is 08:00 in New York, 07:00 in Chicago
    assert quarter_open(US, (NEW_YORK,), quarter(13)) is True
    assert quarter_open(US, (NEW_YORK, CHICAGO), quarter(13)) is False
    assert quarter_open(US, (NEW_YORK, CHICAGO), quarter(14)) is True  # 09:00 and 08:00


def test_each_local_hour_is_marked_by_what_the_calling_hours_are_for_all_of_it_every_day() -> None:
    assert [hour_mark(CN, h) for h in (0, 8, 9, 20, 21, 23)] == [
        OUTSIDE,
        OUTSIDE,
        INSIDE,
        INSIDE,
        OUTSIDE,
        OUTSIDE,
    ]
    assert hour_mark(US, 8) == INSIDE
    assert hour_mark(ODD, 9) == PARTLY  # 09:00-09:10 closed
    weekdays = CallingHours(CN.windows, frozenset(range(1, 6)))
    assert (hour_mark(weekdays, 10), hour_mark(weekdays, 22)) == (PARTLY, OUTSIDE)  # closed at weekends
    overnight = CallingHours((CallingWindow(time(22), time(2)),))
    assert [hour_mark(overnight, h) for h in (1, 2, 21, 22)] == [INSIDE, OUTSIDE, OUTSIDE, INSIDE]


def test_calls_outside_are_counted_by_minute_where_the_hours_open_within_a_quarter_hour() -> None:
    # 09:10-21:00 in Shanghai; 2026-11-23 01:00 UTC is 09:00 there: the quarter hour 09:00-09:15 holds
    # 3 calls: 2 at 09:05 (closed) and 1 at 09:12 (open). The 09:15 quarter hour (01:15 UTC) has 4
    # calls, all inside; minutes given for it are not looked at.
    nine = datetime(2026, 11, 23, 1, tzinfo=UTC)
    quarters = [((SHANGHAI,), quarter(1), 3), ((SHANGHAI,), quarter(1, 15), 4)]
    minutes = [
        ((SHANGHAI,), minute(nine + timedelta(minutes=5)), 2),
        ((SHANGHAI,), minute(nine + timedelta(minutes=12)), 1),
        ((SHANGHAI,), minute(nine + QUARTER), 4),
    ]
    assert tally_hours(ODD, quarters, minutes) == [HourCount("Asia/Shanghai", 9, 7, 2)]


def test_a_number_in_several_zones_counts_in_its_first_zones_hour_and_outside_if_any_zone_is_closed() -> None:
    # 13:30 UTC: 08:30 in New York (open), 07:30 in Chicago (closed); 14:00 UTC: 09:00 and 08:00 (open).
    both = (NEW_YORK, CHICAGO)
    rows = [(both, quarter(13, 30), 2), ((NEW_YORK,), quarter(13, 30), 5), (both, quarter(14), 1)]
    assert tally_hours(US, rows) == [
        HourCount("America/New_York", 8, 7, 2),  # 2 + 5 calls; the 2 also in Chicago are outside
        HourCount("America/New_York", 9, 1, 0),
    ]
    assert hour_mark(US, 8) == INSIDE  # the hour is marked inside though two of its calls were not


def test_every_refusal_reason_has_its_group() -> None:
    assert set(REASON_GROUPS) == {reason.value for reason in RefusalReason}
