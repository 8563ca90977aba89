"""The outbox sender's decisions (pure): the gate before a send, and what a provider's answer means."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.persistence.models.enums import CompliancePreset, SmsState
from sms.decisions import Blacklisted, Gate, after_send, not_sent
from sms.outbox import ClaimedSms, Finished
from sms.policy import TRANSACTIONAL_POLICY, Cancel, Defer, Reason, Send, marketing_policy
from sms.providers.base import SendOutcome, SendResult
from sms.recipients import NumberFacts

NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # Monday 10:30 in Shanghai
NIGHT = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
NEXT_MORNING = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
TO = "+8613812345678"
SHANGHAI = (ZoneInfo("Asia/Shanghai"),)


def message(
    id: int = 1,
    *,
    to: str = TO,
    marketing: bool = True,
    tries: int = 1,
    preset: CompliancePreset | None = None,
) -> ClaimedSms:
    return ClaimedSms(
        id=id,
        key=f"k{id}",
        to=to,
        body="【华信】周末八折，回复TD退订",
        segments=1,
        provider="sim",
        marketing=marketing,
        tries=tries,
        sender="华信",
        template_code=None,
        params={},
        preset=preset,
        lead_id=None,
        campaign_id=None,
    )


def facts(
    *,
    opted_out: bool = False,
    blacklist: str | None = None,
    consented: bool = True,
    marketing_sends: tuple[datetime, ...] = (),
    other_sends: tuple[datetime, ...] = (),
) -> NumberFacts:
    return NumberFacts(
        opted_out=opted_out,
        blacklist=blacklist,
        consented=consented,
        zones=SHANGHAI,
        recent_sends={True: list(marketing_sends), False: list(other_sends)},
    )


# --- after_send --------------------------------------------------------------------------------------

MAX_TRIES = 3
DELAY = 30.0


def _after(outcome: SendOutcome, *, idempotent: bool, tries: int) -> Finished:
    result = SendResult(
        outcome,
        provider_message_id="p-1" if outcome is SendOutcome.ACCEPTED else None,
        error=None if outcome is SendOutcome.ACCEPTED else "HTTP 503",
    )
    return after_send(
        message(tries=tries), result, NOW, max_tries=MAX_TRIES, idempotent=idempotent, delay_s=DELAY
    )


UNKNOWN_ERROR = (
    "HTTP 503; the provider has no idempotency keys, so it is not sent again (it may or may not have gone)"
)
SENT = Finished(1, SmsState.SENT, provider_message_id="p-1", sent_at=NOW)
REJECTED = Finished(1, SmsState.FAILED, reason="rejected", error="HTTP 503")
RETRYING = Finished(
    1, SmsState.QUEUED, reason="retrying", error="HTTP 503", next_try_at=NOW + timedelta(seconds=30)
)
OUT_OF_TRIES = Finished(1, SmsState.FAILED, reason="out_of_tries", error="HTTP 503 (try 3)")
UNKNOWN = Finished(1, SmsState.FAILED, reason="unknown_outcome", error=UNKNOWN_ERROR)


@pytest.mark.parametrize(
    ("outcome", "idempotent", "tries", "expected"),
    [
        (SendOutcome.ACCEPTED, True, 1, SENT),
        (SendOutcome.ACCEPTED, True, 3, SENT),
        (SendOutcome.ACCEPTED, False, 1, SENT),
        (SendOutcome.ACCEPTED, False, 3, SENT),
        (SendOutcome.REJECTED, True, 1, REJECTED),
        (SendOutcome.REJECTED, True, 3, REJECTED),
        (SendOutcome.REJECTED, False, 1, REJECTED),
        (SendOutcome.REJECTED, False, 3, REJECTED),
        (SendOutcome.RETRY, True, 1, RETRYING),
        (SendOutcome.RETRY, True, 2, RETRYING),
        (SendOutcome.RETRY, True, 3, OUT_OF_TRIES),
        (SendOutcome.RETRY, False, 1, RETRYING),  # nothing can have gone: safe without idempotency
        (SendOutcome.RETRY, False, 3, OUT_OF_TRIES),
        (SendOutcome.UNKNOWN, True, 1, RETRYING),  # resending the key cannot send it twice
        (SendOutcome.UNKNOWN, True, 3, OUT_OF_TRIES),
        (SendOutcome.UNKNOWN, False, 1, UNKNOWN),  # never risk a duplicate
        (SendOutcome.UNKNOWN, False, 3, UNKNOWN),
    ],
)
def test_after_send(outcome: SendOutcome, idempotent: bool, tries: int, expected: Finished) -> None:
    answer = _after(outcome, idempotent=idempotent, tries=tries)
    assert answer == expected
    assert answer.count_try is True


def test_tries_past_max_still_fail_out_of_tries() -> None:
    assert _after(SendOutcome.RETRY, idempotent=True, tries=MAX_TRIES + 2) == replace(
        OUT_OF_TRIES, error="HTTP 503 (try 5)"
    )


# --- the gate ----------------------------------------------------------------------------------------


def test_a_blacklisted_number_is_never_sent_whatever_the_message() -> None:
    listed = facts(blacklist="blacklist, exact +8613812345678, global", consented=True)
    for marketing in (True, False):
        the_gate = Gate(CompliancePreset.CN, {TO: listed}, NOW)
        decision = the_gate.decide(message(marketing=marketing))
        detail = "+8613812345678 is blacklisted (blacklist, exact +8613812345678, global)"
        assert decision == Blacklisted(detail)
        assert not_sent(message(), Blacklisted(detail)) == Finished(
            1, SmsState.CANCELLED, reason="blacklisted", error=detail
        )


def test_marketing_to_a_number_without_consent_is_cancelled() -> None:
    the_gate = Gate(CompliancePreset.CN, {TO: facts(consented=False)}, NOW)
    decision = the_gate.decide(message())
    assert decision == Cancel(Reason.NO_CONSENT, "no consent to marketing SMS is recorded for the number")
    assert not_sent(message(), decision) == Finished(
        1,
        SmsState.CANCELLED,
        reason="no_consent",
        error="no consent to marketing SMS is recorded for the number",
    )


def test_a_transactional_message_needs_no_consent_and_ignores_quiet_hours() -> None:
    for now in (NOW, NIGHT):
        the_gate = Gate(CompliancePreset.CN, {TO: facts(consented=False)}, now)
        assert the_gate.decide(message(marketing=False)) == Send()


def test_an_opted_out_number_is_cancelled_in_either_class() -> None:
    the_gate = Gate(CompliancePreset.CN, {TO: facts(opted_out=True)}, NOW)
    for marketing in (True, False):
        assert the_gate.decide(message(marketing=marketing)) == Cancel(
            Reason.OPTED_OUT, "the number opted out of SMS"
        )


def test_a_batch_counts_its_own_sends_against_the_daily_cap() -> None:
    assert marketing_policy(CompliancePreset.CN).per_day == 1
    other = "+8613900000000"
    the_gate = Gate(CompliancePreset.CN, {TO: facts(), other: facts()}, NOW)
    first, second = the_gate.decide(message(1)), the_gate.decide(message(2))
    assert first == Send()
    assert second == Cancel(
        Reason.FREQUENCY_CAP, "1 sent to the number on 2026-11-23 in Asia/Shanghai, at most 1 a day"
    )
    assert not_sent(message(2), second) == Finished(
        2,
        SmsState.CANCELLED,
        reason="frequency_cap",
        error="1 sent to the number on 2026-11-23 in Asia/Shanghai, at most 1 a day",
    )
    assert the_gate.decide(message(3, to=other)) == Send()  # another number has its own cap
    assert the_gate.decide(message(4, marketing=False)) == Send()  # another class too


def test_the_transactional_cap_is_three_a_day_including_earlier_sends() -> None:
    assert TRANSACTIONAL_POLICY.per_day == 3
    earlier = facts(other_sends=(NOW - timedelta(hours=1),))
    the_gate = Gate(CompliancePreset.CN, {TO: earlier}, NOW)
    decisions = [the_gate.decide(message(n, marketing=False)) for n in (1, 2, 3)]
    assert decisions[:2] == [Send(), Send()]
    assert decisions[2] == Cancel(
        Reason.FREQUENCY_CAP, "3 sent to the number on 2026-11-23 in Asia/Shanghai, at most 3 a day"
    )


def test_earlier_sends_of_the_number_count_against_the_cap() -> None:
    the_gate = Gate(CompliancePreset.CN, {TO: facts(marketing_sends=(NOW - timedelta(hours=2),))}, NOW)
    assert isinstance(the_gate.decide(message()), Cancel)
    yesterday = Gate(CompliancePreset.CN, {TO: facts(marketing_sends=(NOW - timedelta(hours=11),))}, NOW)
    assert yesterday.decide(message()) == Send()  # 23:30 the day before in Shanghai


def test_quiet_hours_defer_without_spending_a_try() -> None:
    the_gate = Gate(CompliancePreset.CN, {TO: facts()}, NIGHT)
    decision = the_gate.decide(message(tries=2))
    assert isinstance(decision, Defer)
    assert (decision.until, decision.reason) == (NEXT_MORNING, Reason.QUIET_HOURS)
    assert not_sent(message(tries=2), decision) == Finished(
        1,
        SmsState.QUEUED,
        reason="quiet_hours",
        error=decision.detail,
        next_try_at=NEXT_MORNING,
        count_try=False,
    )
    # a deferred message is not a send: the next one to the number is judged alike
    assert the_gate.decide(message(2)) == decision


def test_the_message_s_preset_chooses_its_marketing_policy() -> None:
    the_gate = Gate(CompliancePreset.CN, {TO: facts()}, NOW)
    assert the_gate.policy_of(message()) == marketing_policy(CompliancePreset.CN)
    assert the_gate.policy_of(message(preset=CompliancePreset.US)) == marketing_policy(CompliancePreset.US)
    assert the_gate.policy_of(message(marketing=False, preset=CompliancePreset.US)) == TRANSACTIONAL_POLICY
