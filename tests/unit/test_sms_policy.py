"""SMS send-time policy: presets, customising them, and the per-message decision at fixed instants."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.compliance.hours import CallingHours, CallingWindow
from campaigns.compliance.presets import AuditNote
from campaigns.persistence.models.enums import CompliancePreset as P
from ringcast.errors import UserError
from sms.policy import (
    TRANSACTIONAL_POLICY,
    Cancel,
    Defer,
    Reason,
    Recipient,
    Send,
    SmsOverride,
    SmsPolicy,
    customise_policy,
    decide,
    marketing_policy,
)
from sms.templates import SignatureStyle

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
CN = marketing_policy(P.CN)
US = marketing_policy(P.US)


def hours(start: int, end: int) -> CallingHours:
    return CallingHours((CallingWindow(time(start), time(end)),))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(zone: ZoneInfo, *day_and_time: int, fold: int = 0) -> datetime:
    return utc(*day_and_time).replace(tzinfo=zone, fold=fold)


def reachable(*zones: ZoneInfo, sent: tuple[datetime, ...] = ()) -> Recipient:
    return Recipient(opted_out=False, consented=True, zones=zones, recent_sends=sent)


def test_marketing_presets_carry_the_spec_figures() -> None:
    assert SmsPolicy(hours(9, 21), 1, 3, True, True, "回复TD退订", SignatureStyle.CJK, SHANGHAI) == CN
    assert SmsPolicy(hours(8, 21), 1, 3, True, True, "Reply STOP to opt out", SignatureStyle.LATIN) == US
    assert marketing_policy(P.UK) == SmsPolicy(
        hours(8, 21),
        1,
        3,
        True,
        True,
        "Reply STOP to opt out",
        SignatureStyle.LATIN,
        ZoneInfo("Europe/London"),
    )
    assert marketing_policy(P.CUSTOM) == SmsPolicy(
        hours(9, 21), 1, 3, True, True, "Reply STOP to opt out", SignatureStyle.LATIN
    )


def test_transactional_policy_needs_no_consent_keeps_no_hours_and_caps_floods() -> None:
    assert SmsPolicy(None, 3, None, False, True, None) == TRANSACTIONAL_POLICY
    night = local(SHANGHAI, 2024, 5, 10, 3, 0)
    stranger = Recipient(opted_out=False, consented=False, zones=(SHANGHAI,))
    assert decide(TRANSACTIONAL_POLICY, stranger, night) == Send()
    assert decide(TRANSACTIONAL_POLICY, Recipient(True, False), night) == Cancel(
        Reason.OPTED_OUT, "the number opted out of SMS"
    )
    flooded = reachable(SHANGHAI, sent=(night - timedelta(hours=2), night - timedelta(hours=1), night))
    assert decide(TRANSACTIONAL_POLICY, flooded, night) == Cancel(
        Reason.FREQUENCY_CAP, "3 sent to the number on 2024-05-10 in Asia/Shanghai, at most 3 a day"
    )


def test_opt_out_is_checked_first_then_consent() -> None:
    quiet = local(SHANGHAI, 2024, 5, 10, 23, 0)
    sent = (quiet - timedelta(hours=1),)
    everything_wrong = Recipient(opted_out=True, consented=False, zones=(SHANGHAI,), recent_sends=sent)
    assert decide(CN, everything_wrong, quiet) == Cancel(Reason.OPTED_OUT, "the number opted out of SMS")
    no_consent = Recipient(opted_out=False, consented=False, zones=(SHANGHAI,), recent_sends=sent)
    assert decide(CN, no_consent, quiet) == Cancel(
        Reason.NO_CONSENT, "no consent to marketing SMS is recorded for the number"
    )


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (local(SHANGHAI, 2024, 5, 10, 8, 59, 59), utc(2024, 5, 10, 1)),
        (local(SHANGHAI, 2024, 5, 10, 9, 0), None),
        (local(SHANGHAI, 2024, 5, 10, 20, 59, 59), None),
        (local(SHANGHAI, 2024, 5, 10, 21, 0), utc(2024, 5, 11, 1)),
        (utc(2024, 5, 10, 16, 30), utc(2024, 5, 11, 1)),  # 00:30 in Shanghai
    ],
)
def test_quiet_hours_in_shanghai_defer_to_the_exact_opening(now: datetime, until: datetime | None) -> None:
    decision = decide(CN, reachable(SHANGHAI), now)
    if until is None:
        assert decision == Send()
    else:
        assert decision == Defer(until, "outside sending hours 09:00-21:00 every day in Asia/Shanghai")
        assert isinstance(decision, Defer) and decision.reason is Reason.QUIET_HOURS
        assert decision.until.tzinfo is now.tzinfo


def test_new_yorks_spring_forward_moves_the_opening_an_hour_earlier_in_utc() -> None:
    before = decide(US, reachable(NEW_YORK), local(NEW_YORK, 2024, 3, 9, 1, 30))
    across = decide(US, reachable(NEW_YORK), local(NEW_YORK, 2024, 3, 10, 1, 30))
    fall_back = decide(US, reachable(NEW_YORK), local(NEW_YORK, 2024, 11, 3, 1, 30, fold=1))
    assert isinstance(before, Defer) and isinstance(across, Defer) and isinstance(fall_back, Defer)
    assert before.until == utc(2024, 3, 9, 13)  # 08:00 EST
    assert across.until == utc(2024, 3, 10, 12)  # 08:00 EDT, the same night
    assert fall_back.until == utc(2024, 11, 3, 13)  # 08:00 EST again
    assert across.until.astimezone(NEW_YORK).hour == 8


def test_a_number_in_two_zones_waits_until_both_are_open() -> None:
    now = utc(2024, 5, 10, 14)  # 10:00 in New York, 07:00 in Los Angeles
    decision = decide(US, reachable(NEW_YORK, LOS_ANGELES), now)
    assert decision == Defer(
        utc(2024, 5, 10, 15),
        "outside sending hours 08:00-21:00 every day in America/New_York, America/Los_Angeles",
    )
    assert decide(US, reachable(NEW_YORK, LOS_ANGELES), utc(2024, 5, 11, 0, 59)) == Send()  # 20:59 NY
    shanghai_and_new_york = decide(US, reachable(SHANGHAI, NEW_YORK), utc(2024, 5, 10, 3))
    assert shanghai_and_new_york == Defer(
        utc(2024, 5, 10, 12), "outside sending hours 08:00-21:00 every day in Asia/Shanghai, America/New_York"
    )


def test_zones_whose_hours_never_overlap_cancel() -> None:
    decision = decide(CN, reachable(SHANGHAI, NEW_YORK), utc(2024, 5, 10, 3))
    assert decision == Cancel(
        Reason.NO_SENDING_WINDOW,
        "sending hours 09:00-21:00 every day never open at once in Asia/Shanghai, America/New_York",
    )


def test_a_number_without_zones_is_judged_in_the_fallback_zone_or_utc() -> None:
    now = utc(2024, 5, 10, 0, 30)  # 08:30 in Shanghai
    cn = decide(CN, reachable(), now)
    us = decide(US, reachable(), now)
    assert isinstance(cn, Defer) and isinstance(us, Defer)
    assert cn.until == utc(2024, 5, 10, 1)
    assert us.until == utc(2024, 5, 10, 8)
    assert us.detail.endswith(" in UTC")


def test_per_day_counts_the_recipients_local_calendar_day() -> None:
    daily = SmsPolicy(per_day=1)
    sent = reachable(SHANGHAI, sent=(utc(2024, 5, 10, 15, 59),))  # 23:59 on 10 May in Shanghai
    assert decide(daily, sent, utc(2024, 5, 10, 15, 59, 30)) == Cancel(
        Reason.FREQUENCY_CAP, "1 sent to the number on 2024-05-10 in Asia/Shanghai, at most 1 a day"
    )
    assert decide(daily, sent, utc(2024, 5, 10, 16)) == Send()  # midnight in Shanghai, still 10 May in UTC
    at_midnight = reachable(SHANGHAI, sent=(utc(2024, 5, 10, 16),))  # 00:00 on 11 May in Shanghai
    assert isinstance(decide(daily, at_midnight, utc(2024, 5, 11, 15, 59, 59)), Cancel)
    assert decide(daily, at_midnight, utc(2024, 5, 11, 16)) == Send()


def test_per_day_with_two_zones_holds_in_each_of_them() -> None:
    daily = SmsPolicy(per_day=1)
    sent = reachable(NEW_YORK, LOS_ANGELES, sent=(utc(2024, 5, 11, 2, 30),))  # 22:30 NY, 19:30 LA on 10 May
    assert decide(daily, sent, utc(2024, 5, 11, 4, 30)) == Cancel(  # 00:30 on 11 May in NY, 21:30 in LA
        Reason.FREQUENCY_CAP, "1 sent to the number on 2024-05-10 in America/Los_Angeles, at most 1 a day"
    )
    assert decide(daily, sent, utc(2024, 5, 11, 7)) == Send()  # midnight in Los Angeles


def test_a_deferred_message_counts_against_the_day_it_would_go() -> None:
    sent_today = reachable(SHANGHAI, sent=(local(SHANGHAI, 2024, 5, 10, 10, 0),))
    tonight = local(SHANGHAI, 2024, 5, 10, 22, 0)
    assert decide(CN, sent_today, tonight) == Defer(
        utc(2024, 5, 11, 1), "outside sending hours 09:00-21:00 every day in Asia/Shanghai"
    )
    this_afternoon = local(SHANGHAI, 2024, 5, 10, 15, 0)
    assert isinstance(decide(CN, sent_today, this_afternoon), Cancel)


def test_per_week_is_any_rolling_seven_days() -> None:
    weekly = SmsPolicy(per_week=3)
    first = utc(2024, 5, 1, 12)
    sent = reachable(SHANGHAI, sent=(first, first + timedelta(days=1), first + timedelta(days=2)))
    week_later = first + timedelta(days=7)
    assert decide(weekly, sent, week_later - timedelta(seconds=1)) == Cancel(
        Reason.FREQUENCY_CAP, "3 sent to the number in the 7 days to 2024-05-08T11:59:59+00:00, at most 3"
    )
    assert decide(weekly, sent, week_later) == Send()


def test_the_week_cap_is_judged_at_the_instant_the_message_would_go() -> None:
    now = utc(2024, 5, 9, 13, 30)  # 21:30 in Shanghai: the message would go at 09:00 on 10 May (01:00 UTC)
    later = (utc(2024, 5, 4, 2), utc(2024, 5, 9, 2))  # 10:00 in Shanghai
    aged_out = reachable(SHANGHAI, sent=(utc(2024, 5, 3, 1), *later))  # exactly 7 days before 01:00 UTC
    assert decide(CN, aged_out, now) == Defer(
        utc(2024, 5, 10, 1), "outside sending hours 09:00-21:00 every day in Asia/Shanghai"
    )
    still_in = reachable(SHANGHAI, sent=(utc(2024, 5, 3, 1, 0, 1), *later))
    assert decide(CN, still_in, now) == Cancel(
        Reason.FREQUENCY_CAP, "3 sent to the number in the 7 days to 2024-05-10T01:00:00+00:00, at most 3"
    )


def test_decide_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(CN, reachable(SHANGHAI), datetime(2024, 5, 10, 12))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"per_day": 0}, "SMS policy per_day: must be at least 1 (got 0)"),
        ({"per_week": -1}, "SMS policy per_week: must be at least 1 (got -1)"),
        ({"opt_out_text": " "}, "SMS policy opt_out_text is blank"),
        (
            {"honours_opt_out": False},
            "SMS policy: the opt-out text offers an opt-out the policy does not honour",
        ),
    ],
)
def test_impossible_policies_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(UserError) as refused:
        customise_policy(P.CN, changes, SmsOverride("li.wei", "test", frozenset(changes)))
    assert refused.value.message == message


def test_tightening_is_free() -> None:
    changes = {
        "sending_hours": hours(10, 20),
        "per_week": 2,
        "opt_out_text": "回复T退订",
        "signature": SignatureStyle.LATIN,
        "fallback_zone": ZoneInfo("Asia/Urumqi"),
    }
    customised = customise_policy(P.CN, changes)
    assert customised.audit == ()
    assert customised.policy == SmsPolicy(
        hours(10, 20), 1, 2, True, True, "回复T退订", SignatureStyle.LATIN, ZoneInfo("Asia/Urumqi")
    )
    transactional = customise_policy(P.US, {"sending_hours": hours(8, 22), "per_week": 5}, marketing=False)
    assert transactional.policy == SmsPolicy(hours(8, 22), 3, 5, False, True, None)


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"per_day": 2}, "per_day"),
        ({"per_week": None}, "per_week"),
        ({"sending_hours": hours(8, 22)}, "sending_hours"),
        ({"sending_hours": None}, "sending_hours"),
        ({"needs_consent": False}, "needs_consent"),
        ({"opt_out_text": None}, "opt_out_text"),
    ],
)
def test_loosening_needs_an_override(changes: dict[str, object], setting: str) -> None:
    with pytest.raises(UserError) as refused:
        customise_policy(P.CN, changes)
    assert refused.value.message.startswith(f"sms_marketing {setting}: ")
    assert refused.value.message.endswith(" of the cn marketing policy")
    assert refused.value.hint == "loosening needs an override saying who and why"


def test_an_override_loosens_and_comes_back_for_the_audit_log() -> None:
    override = SmsOverride(
        "li.wei", "signed contract", frozenset({"per_day", "honours_opt_out", "opt_out_text"})
    )
    changes = {"per_day": 2, "honours_opt_out": False, "opt_out_text": None, "per_week": 2}
    customised = customise_policy(P.CN, changes, override)
    assert customised.policy.per_day == 2 and not customised.policy.honours_opt_out
    assert customised.audit == (
        AuditNote("li.wei", "signed contract", P.CN, "sms_marketing.per_day", "1", "2"),
        AuditNote("li.wei", "signed contract", P.CN, "sms_marketing.honours_opt_out", "True", "False"),
        AuditNote("li.wei", "signed contract", P.CN, "sms_marketing.opt_out_text", "回复TD退订", "None"),
    )
    opted_out = Recipient(opted_out=True, consented=True, zones=(SHANGHAI,))
    assert decide(customised.policy, opted_out, local(SHANGHAI, 2024, 5, 10, 12)) == Send()
    flood = customise_policy(
        P.US, {"per_day": None}, SmsOverride("li.wei", "x", frozenset({"per_day"})), marketing=False
    )
    assert flood.audit[0].setting == "sms_transactional.per_day"


def test_unknown_settings_are_refused_and_every_policy_field_can_be_customised() -> None:
    with pytest.raises(UserError, match="SMS policy: no setting named per_month"):
        customise_policy(P.CN, {"per_month": 5})
    with pytest.raises(UserError, match="SMS policy override: no setting named per_month"):
        SmsOverride("li.wei", "x", frozenset({"per_month"}))
    with pytest.raises(UserError, match="say who decides it and why"):
        SmsOverride("li.wei", " ", frozenset({"per_day"}))
    assert SmsOverride("li.wei", "x", frozenset(field.name for field in fields(SmsPolicy)))
