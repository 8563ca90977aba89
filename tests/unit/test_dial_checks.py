"""The dial-time compliance check and the abandonment-rate accounting, at fixed instants."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.compliance.abandonment import AbandonmentRate, AttemptRecord, abandonment_rate
from campaigns.compliance.blocklist import BlockEntry
from campaigns.compliance.hours import CallingHours, CallingWindow
from campaigns.compliance.presets import AbandonWindow, Override, customise
from campaigns.compliance.rules import (
    ALLOWED,
    Allowed,
    CampaignRules,
    DialHistory,
    LeadFacts,
    RefusalReason,
    Refused,
    Verdict,
    callee_zones,
    check_dial,
)
from campaigns.persistence.models.enums import BlockKind, BlockMatch, CallOutcome
from campaigns.persistence.models.enums import CompliancePreset as P
from ringcast.errors import UserError

R = RefusalReason
C = CallOutcome
SHANGHAI = ("Asia/Shanghai",)
LONDON = ("Europe/London",)
INDIANA = ("America/New_York", "America/Chicago")  # an area code across two zones
CALM = AbandonmentRate(AbandonWindow.DAY, None, None, 0.0, 0.0)
ANYONE = Override("qa", "test", frozenset({"calling_hours", "abandon_window"}))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def rules(
    preset: P = P.CN, zone: str = "Asia/Shanghai", caller_id: str | None = "+862188886666", **changes: Any
) -> CampaignRules:
    return CampaignRules(customise(preset, changes, ANYONE).settings, zone, caller_id)


def check(
    now: datetime,
    zones: tuple[str, ...] = SHANGHAI,
    campaign: CampaignRules | None = None,
    attempts: tuple[AttemptRecord, ...] = (),
    figures: AbandonmentRate = CALM,
    **lead: Any,
) -> Verdict:
    facts = LeadFacts("+8613800138000", zones, **lead)
    return check_dial(facts, campaign or rules(), DialHistory(figures, attempts), now)


def hours(start: int, end: int, days: frozenset[int] | None = None) -> CallingHours:
    window = (CallingWindow(time(start), time(end)),)
    return CallingHours(window) if days is None else CallingHours(window, days)


# -- calling hours in the callee's local time


@pytest.mark.parametrize(
    ("now", "verdict"),
    [
        (utc(2024, 5, 6, 0, 30), Refused(R.OUTSIDE_CALLING_HOURS, utc(2024, 5, 6, 1))),  # 08:30 in Shanghai
        (utc(2024, 5, 6, 1), ALLOWED),  # 09:00
        (utc(2024, 5, 6, 12, 59, 59), ALLOWED),  # 20:59:59
        (utc(2024, 5, 6, 13), Refused(R.OUTSIDE_CALLING_HOURS, utc(2024, 5, 7, 1))),  # 21:00
        (utc(2024, 5, 6, 17), Refused(R.OUTSIDE_CALLING_HOURS, utc(2024, 5, 7, 1))),  # 01:00, next day
    ],
)
def test_china_has_no_dst(now: datetime, verdict: object) -> None:
    assert check(now) == verdict


@pytest.mark.parametrize(
    ("now", "verdict"),
    [
        # 08:30 in New York but 07:30 in Chicago: wait for 08:00 in Chicago
        (utc(2024, 7, 1, 12, 30), Refused(R.OUTSIDE_CALLING_HOURS, utc(2024, 7, 1, 13))),
        (utc(2024, 7, 1, 13), ALLOWED),
        (utc(2024, 7, 2, 0, 59), ALLOWED),  # 20:59 in New York
        (utc(2024, 7, 2, 1), Refused(R.OUTSIDE_CALLING_HOURS, utc(2024, 7, 2, 13))),  # 21:00 in New York
        (utc(2024, 1, 15, 13, 30), Refused(R.OUTSIDE_CALLING_HOURS, utc(2024, 1, 15, 14))),  # winter: CST
    ],
)
def test_a_number_in_two_us_zones_is_called_only_when_both_allow(now: datetime, verdict: object) -> None:
    assert check(now, INDIANA, rules(P.US, "America/New_York")) == verdict


def test_us_hours_across_the_spring_dst_change() -> None:
    # 2024-03-10: New York goes from EST (UTC-5) to EDT (UTC-4) at 02:00
    us = rules(P.US, "America/New_York")
    assert check(utc(2024, 3, 10, 5), ("America/New_York",), us) == Refused(
        R.OUTSIDE_CALLING_HOURS, utc(2024, 3, 10, 12)
    )
    assert check(utc(2024, 3, 9, 5), ("America/New_York",), us) == Refused(
        R.OUTSIDE_CALLING_HOURS, utc(2024, 3, 9, 13)
    )


def test_windows_opening_in_a_dst_gap_or_fold() -> None:
    early = CallingHours((CallingWindow(time(1, 30), time(1, 45)),))
    london = rules(P.UK, "Europe/London", calling_hours=early)
    # 2024-10-27: 01:30 comes twice, at 00:30 UTC (BST) and at 01:30 UTC (GMT)
    assert check(utc(2024, 10, 27, 0, 50), LONDON, london) == Refused(
        R.OUTSIDE_CALLING_HOURS, utc(2024, 10, 27, 1, 30)
    )
    # 2024-03-31: the clock jumps from 01:00 GMT to 02:00 BST, over 01:30: 01:30-03:00 opens at the jump
    wide = rules(P.UK, "Europe/London", calling_hours=CallingHours((CallingWindow(time(1, 30), time(3)),)))
    assert check(utc(2024, 3, 30, 22), LONDON, wide) == Refused(R.OUTSIDE_CALLING_HOURS, utc(2024, 3, 31, 1))
    assert check(utc(2024, 3, 30, 22), LONDON, london) == Refused(
        R.OUTSIDE_CALLING_HOURS, utc(2024, 4, 1, 0, 30)
    )


def test_zones_that_never_overlap_give_no_until() -> None:
    narrow = rules(calling_hours=hours(9, 10))
    assert check(utc(2024, 5, 6, 12), ("Asia/Shanghai", "America/New_York"), narrow) == Refused(
        R.OUTSIDE_CALLING_HOURS, None
    )


def test_hawaii_and_new_york_meet_in_the_evening_utc() -> None:
    zones = ("Pacific/Honolulu", "America/New_York")
    assert check(utc(2024, 7, 1, 12), zones, rules(P.US)) == Refused(
        R.OUTSIDE_CALLING_HOURS, utc(2024, 7, 1, 18)
    )


def test_unknown_zones_fall_back_to_the_campaigns() -> None:
    campaign = rules(P.US, "America/Los_Angeles")
    assert callee_zones(LeadFacts("+1", ("Etc/Unknown", "Nowhere/Town")), campaign) == (
        ZoneInfo("America/Los_Angeles"),
    )
    assert check(utc(2024, 7, 1, 14), ("Etc/Unknown",), campaign) == Refused(
        R.OUTSIDE_CALLING_HOURS, utc(2024, 7, 1, 15)
    )
    with pytest.raises(UserError, match="campaign time_zone: unknown time zone 'Mars/Base'"):
        rules(zone="Mars/Base")


def test_a_window_across_midnight() -> None:
    night = rules(calling_hours=hours(20, 2))  # Shanghai, UTC+8
    assert check(utc(2024, 5, 6, 17, 30), campaign=night) is ALLOWED  # 01:30
    assert check(utc(2024, 5, 6, 12), campaign=night) is ALLOWED  # 20:00
    assert check(utc(2024, 5, 6, 18), campaign=night) == Refused(R.OUTSIDE_CALLING_HOURS, utc(2024, 5, 7, 12))


def test_a_window_across_midnight_belongs_to_the_day_it_opens() -> None:
    fridays = rules(calling_hours=hours(20, 2, frozenset({5})))
    assert check(utc(2024, 5, 10, 17), campaign=fridays) is ALLOWED  # Saturday 01:00, Friday's window
    assert check(utc(2024, 5, 11, 13), campaign=fridays) == Refused(  # Saturday 21:00
        R.OUTSIDE_CALLING_HOURS, utc(2024, 5, 17, 12)
    )


# -- attempt caps per number, across campaigns


def attempts(*ats: datetime, outcome: CallOutcome | None = C.NO_ANSWER) -> tuple[AttemptRecord, ...]:
    return tuple(AttemptRecord(at, outcome) for at in ats)


def test_three_attempts_a_local_day_then_the_next_window() -> None:
    today = attempts(utc(2024, 5, 6, 1), utc(2024, 5, 6, 3), utc(2024, 5, 6, 5))
    assert check(utc(2024, 5, 6, 7), attempts=today) == Refused(R.NUMBER_DAY_CAP, utc(2024, 5, 7, 1))
    assert check(utc(2024, 5, 6, 7), attempts=today[1:]) is ALLOWED
    # 23:30 local yesterday is 15:30 UTC: the local day, not the UTC day, counts
    yesterday_late = attempts(utc(2024, 5, 5, 15, 30), utc(2024, 5, 6, 1), utc(2024, 5, 6, 3))
    assert check(utc(2024, 5, 6, 7), attempts=yesterday_late) is ALLOWED


def test_the_day_cap_counts_in_each_zone_of_the_number() -> None:
    # 04:30 UTC is 00:30 on July 2 in New York but 23:30 on July 1 in Chicago
    night = attempts(utc(2024, 7, 2, 4, 30), utc(2024, 7, 2, 4, 31), utc(2024, 7, 2, 4, 32))
    us = rules(P.US, "America/New_York")
    assert check(utc(2024, 7, 2, 13, 30), INDIANA, us, night) == Refused(
        R.NUMBER_DAY_CAP, utc(2024, 7, 3, 13)
    )
    assert check(utc(2024, 7, 2, 3, 59), ("America/New_York",), us, night[:0]) == Refused(
        R.OUTSIDE_CALLING_HOURS, utc(2024, 7, 2, 12)
    )


def test_the_week_cap_runs_over_any_seven_days() -> None:
    weekly = rules(attempts_per_number_week=4)
    past = attempts(utc(2024, 5, 1, 2), utc(2024, 5, 2, 2), utc(2024, 5, 4, 2), utc(2024, 5, 5, 2))
    assert check(utc(2024, 5, 6, 2), attempts=past, campaign=weekly) == Refused(
        R.NUMBER_WEEK_CAP, utc(2024, 5, 8, 2)
    )
    assert check(utc(2024, 5, 8, 2), attempts=past, campaign=weekly) is ALLOWED
    late = attempts(utc(2024, 4, 30, 14), utc(2024, 5, 2, 2), utc(2024, 5, 4, 2), utc(2024, 5, 5, 2))
    # the oldest leaves the week at 22:00 local on May 7, after hours: wait for 09:00 on May 8
    assert check(utc(2024, 5, 6, 2), attempts=late, campaign=weekly) == Refused(
        R.NUMBER_WEEK_CAP, utc(2024, 5, 8, 1)
    )


def test_a_number_already_on_a_call_waits() -> None:
    assert check(utc(2024, 5, 6, 2), attempts=attempts(utc(2024, 5, 6, 1, 59), outcome=None)) == Refused(
        R.NUMBER_IN_CALL, None
    )


# -- UK redial rules, with or without an agent reserved


def test_uk_no_redial_within_72_hours_of_an_abandoned_call() -> None:
    uk = rules(P.UK, "Europe/London")
    dropped = (AttemptRecord(utc(2024, 7, 1, 10), C.ANSWERED, abandoned=True),)
    assert check(utc(2024, 7, 2, 10), LONDON, uk, dropped) == Refused(
        R.ABANDONED_RECENTLY, utc(2024, 7, 4, 10)
    )
    assert check(utc(2024, 7, 4, 10), LONDON, uk, dropped) is ALLOWED
    assert check(utc(2024, 7, 2, 10), LONDON, uk, dropped, agent_reserved=True) is ALLOWED
    late = attempts(utc(2024, 7, 1, 19, 30), outcome=C.ABANDONED)  # 20:30 BST
    assert check(utc(2024, 7, 2, 10), LONDON, uk, late) == Refused(
        R.ABANDONED_RECENTLY, utc(2024, 7, 4, 19, 30)
    )
    # asked at 21:00 BST: after hours too, and both clear at 20:30 BST three days on
    assert check(utc(2024, 7, 2, 20), LONDON, uk, late) == Refused(
        R.OUTSIDE_CALLING_HOURS, utc(2024, 7, 4, 19, 30), (R.ABANDONED_RECENTLY,)
    )


def test_uk_after_a_machine_only_with_an_agent_the_same_day() -> None:
    uk = rules(P.UK, "Europe/London")
    machine = attempts(utc(2024, 7, 1, 8), outcome=C.MACHINE)  # 09:00 BST
    assert check(utc(2024, 7, 1, 14), LONDON, uk, machine) == Refused(R.MACHINE_TODAY, utc(2024, 7, 2, 7))
    assert check(utc(2024, 7, 1, 14), LONDON, uk, machine, agent_reserved=True) is ALLOWED
    assert check(utc(2024, 7, 2, 7), LONDON, uk, machine) is ALLOWED
    assert check(utc(2024, 7, 1, 14), LONDON, rules(P.US, "Europe/London"), machine) is ALLOWED


# -- the campaign's abandonment cap, blocklists, caller ID


def test_at_the_abandonment_cap_only_agent_reserved_calls_go_out() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    reset = datetime(2024, 5, 7, tzinfo=zone)
    daily = AbandonmentRate(AbandonWindow.DAY, datetime(2024, 5, 6, tzinfo=zone), reset, 100.0, 3.0)
    assert check(utc(2024, 5, 6, 5), figures=daily) == Refused(R.ABANDON_CAP, utc(2024, 5, 7, 1))
    assert check(utc(2024, 5, 6, 5), figures=daily, agent_reserved=True) is ALLOWED
    assert check(utc(2024, 5, 6, 5), figures=daily, agent_free=True) is ALLOWED
    below = AbandonmentRate(AbandonWindow.DAY, datetime(2024, 5, 6, tzinfo=zone), reset, 100.0, 2.9)
    assert check(utc(2024, 5, 6, 5), figures=below) is ALLOWED
    monthly = AbandonmentRate(AbandonWindow.ROLLING_30_DAYS, utc(2024, 4, 6, 5), None, 100.0, 3.0)
    assert check(utc(2024, 5, 6, 5), figures=monthly) == Refused(R.ABANDON_CAP, None)


def test_blocklist_entries_refuse_until_they_expire() -> None:
    dnc = BlockEntry(BlockKind.DNC, "+8613800138000")
    assert check(utc(2024, 5, 6, 5), blocked=dnc) == Refused(R.DNC, None)
    expiring = BlockEntry(BlockKind.BLACKLIST, "+86138", BlockMatch.PREFIX, expires_at=utc(2024, 5, 6, 6))
    assert check(utc(2024, 5, 6, 5), blocked=expiring) == Refused(R.BLACKLISTED, utc(2024, 5, 6, 6))
    assert check(utc(2024, 5, 6, 6), blocked=expiring) is ALLOWED


def test_every_failing_check_is_named_and_until_clears_them_all() -> None:
    today = attempts(utc(2024, 5, 6, 1), utc(2024, 5, 6, 2), utc(2024, 5, 6, 3))
    expiring = BlockEntry(BlockKind.DNC, "+8613800138000", expires_at=utc(2024, 5, 6, 14))
    assert check(utc(2024, 5, 6, 13, 30), attempts=today, blocked=expiring) == Refused(
        R.DNC, utc(2024, 5, 7, 1), (R.OUTSIDE_CALLING_HOURS, R.NUMBER_DAY_CAP)
    )
    assert check(utc(2024, 5, 6, 5), campaign=rules(caller_id=None), blocked=expiring) == Refused(
        R.DNC, None, (R.NO_CALLER_ID,)
    )
    assert check(utc(2024, 5, 6, 5), campaign=rules(caller_id="")) == Refused(R.NO_CALLER_ID, None)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        check(datetime(2024, 5, 6, 5))


# -- abandonment-rate accounting


def day(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))


CALLS = (
    AttemptRecord(day(2024, 5, 5, 23, 59), C.ABANDONED),  # yesterday
    *(AttemptRecord(day(2024, 5, 6, 9, minute), C.ANSWERED) for minute in range(10)),
    AttemptRecord(day(2024, 5, 6, 10), C.ABANDONED),
    AttemptRecord(day(2024, 5, 6, 11), C.ANSWERED, abandoned=True),  # an agent joined, too late
    *(AttemptRecord(day(2024, 5, 6, 12, minute), C.MACHINE) for minute in range(10)),
    AttemptRecord(day(2024, 5, 6, 13), C.NO_ANSWER),
    AttemptRecord(day(2024, 5, 6, 13, 30), None),  # still ringing
)


def test_daily_abandonment_counts_midnight_to_midnight_in_the_campaign_zone() -> None:
    cn = customise(P.CN, {}).settings
    figures = abandonment_rate(CALLS, cn, ZoneInfo("Asia/Shanghai"), day(2024, 5, 6, 14))
    assert figures == AbandonmentRate(AbandonWindow.DAY, day(2024, 5, 6), day(2024, 5, 7), 12.0, 2.0)
    assert figures.rate == pytest.approx(2 / 12)
    assert figures.reached(0.03)


def test_uk_counts_the_estimated_false_positives_of_amd() -> None:
    uk = customise(P.UK, {"amd_false_positive_share": 0.1}).settings
    figures = abandonment_rate(CALLS, uk, ZoneInfo("Asia/Shanghai"), day(2024, 5, 6, 14))
    assert (figures.live, figures.abandoned) == pytest.approx((13.0, 3.0))


def test_rolling_thirty_days_and_whole_campaign_windows() -> None:
    now = utc(2024, 6, 30, 12)
    old = (AttemptRecord(utc(2024, 5, 30, 11), C.ABANDONED), AttemptRecord(utc(2024, 5, 31, 13), C.ABANDONED))
    recent = (AttemptRecord(utc(2024, 6, 29), C.ANSWERED), AttemptRecord(utc(2024, 7, 1), C.ABANDONED))
    us = customise(P.US, {}).settings
    figures = abandonment_rate(old + recent, us, ZoneInfo("America/New_York"), now)
    assert figures == AbandonmentRate(AbandonWindow.ROLLING_30_DAYS, utc(2024, 5, 31, 12), None, 2.0, 1.0)
    whole = customise(P.US, {"abandon_window": AbandonWindow.CAMPAIGN}, ANYONE).settings
    assert abandonment_rate(old + recent, whole, ZoneInfo("UTC"), now).abandoned == 2.0
    assert abandonment_rate((), us, ZoneInfo("UTC"), now).rate == 0.0
    assert not abandonment_rate((), us, ZoneInfo("UTC"), now).reached(0.03)


# -- properties: `until` is the first instant every check passes

ZONES = [
    "Asia/Shanghai",
    "America/New_York",
    "America/Chicago",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
]
instants = st.datetimes(datetime(2024, 1, 1), datetime(2025, 12, 31)).map(lambda d: d.replace(tzinfo=UTC))


@settings(max_examples=150, deadline=None)
@given(
    now=instants,
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True),
    start=st.integers(0, 47),
    length=st.integers(1, 47),
    probe=st.floats(0.0, 1.0),
)
def test_until_is_the_first_open_instant(
    now: datetime, zones: list[str], start: int, length: int, probe: float
) -> None:
    opens = time(start // 2, 30 * (start % 2))
    closes = time((start + length) % 48 // 2, 30 * ((start + length) % 2))
    campaign = rules(calling_hours=CallingHours((CallingWindow(opens, closes),)))
    verdict = check(now, tuple(zones), campaign)
    if isinstance(verdict, Allowed):
        return
    assert verdict.reason is R.OUTSIDE_CALLING_HOURS
    if verdict.until is None:
        return
    assert verdict.until > now
    assert check(verdict.until, tuple(zones), campaign) is ALLOWED
    assert check(verdict.until - timedelta(seconds=1), tuple(zones), campaign) != ALLOWED
    assert check(now + (verdict.until - now) * probe * 0.999, tuple(zones), campaign) != ALLOWED


@settings(max_examples=150, deadline=None)
@given(
    now=instants,
    history=st.lists(
        st.tuples(
            st.integers(1, 10 * 24 * 60), st.sampled_from([C.NO_ANSWER, C.MACHINE, C.ABANDONED, C.BUSY])
        ),
        max_size=8,
    ),
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True),
)
def test_until_clears_every_uk_check_at_once(
    now: datetime, history: list[tuple[int, CallOutcome]], zones: list[str]
) -> None:
    uk = rules(P.UK, "Europe/London", attempts_per_number_week=5)
    past = tuple(AttemptRecord(now - timedelta(minutes=m), outcome) for m, outcome in history)
    verdict = check(now, tuple(zones), uk, past)
    if isinstance(verdict, Allowed) or verdict.until is None:
        return
    assert verdict.until > now
    assert check(verdict.until, tuple(zones), uk, past) is ALLOWED
    assert check(verdict.until - timedelta(seconds=1), tuple(zones), uk, past) != ALLOWED
