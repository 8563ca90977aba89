"""The lead lifecycle (CMP-2), retry rules (CMP-3) and dispositions (CMP-5), with fixed times."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.lifecycle import (
    Disposition,
    LeadStatus,
    LeadStep,
    RetryRules,
    ScheduleCallback,
    ScheduleRetry,
)
from campaigns.persistence.models.enums import CallOutcome, LeadState
from ringcast.errors import UserError
from ringcast.transitions import IllegalTransition

S = LeadState
NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
RULES = RetryRules(max_attempts=3)
SALE = Disposition("sale", final=True)
THINKING = Disposition("thinking", final=False, retry_after=timedelta(hours=3))
LATER = Disposition("later", final=False)


def called(outcome: CallOutcome, lead: LeadStatus | None = None) -> LeadStatus:
    """`lead` (a new one by default) queued, dialled and ended with `outcome`."""
    lead = lead or LeadStatus(7)
    return lead.queue().lead.dial().lead.end_call(outcome).lead


def test_a_first_attempt_with_no_answer_is_retried_after_two_hours() -> None:
    lead = LeadStatus(7)
    queued = lead.queue()
    assert queued == LeadStep(LeadStatus(7, S.QUEUED, 0))
    dialing = queued.lead.dial()
    assert dialing == LeadStep(LeadStatus(7, S.DIALING, 1))
    ended = dialing.lead.end_call(CallOutcome.NO_ANSWER)
    assert ended == LeadStep(LeadStatus(7, S.NO_ANSWER, 1))
    settled = ended.lead.settle(RetryRules(), NOW)
    assert settled == LeadStep(LeadStatus(7, S.RETRY, 1), (ScheduleRetry(NOW + timedelta(hours=2)),))


@pytest.mark.parametrize(
    ("outcome", "delay"),
    [
        (CallOutcome.NO_ANSWER, timedelta(hours=2)),
        (CallOutcome.BUSY, timedelta(minutes=10)),
        (CallOutcome.FAILED, timedelta(hours=1)),
        (CallOutcome.MACHINE, timedelta(hours=4)),
        (CallOutcome.ABANDONED, timedelta(hours=1)),
    ],
)
def test_each_outcome_has_its_own_retry_delay(outcome: CallOutcome, delay: timedelta) -> None:
    step = called(outcome).settle(RULES, NOW)
    assert (step.state, step.commands) == (S.RETRY, (ScheduleRetry(NOW + delay),))


def test_an_outcome_without_a_retry_rule_exhausts_the_lead() -> None:
    step = called(CallOutcome.FAILED).settle(RetryRules(failed=None), NOW)
    assert step == LeadStep(LeadStatus(7, S.EXHAUSTED, 1))


def test_the_last_allowed_attempt_exhausts_the_lead() -> None:
    lead = called(CallOutcome.BUSY)
    for attempt in (1, 2):
        lead = lead.settle(RULES, NOW).lead
        assert (lead.state, lead.attempts) == (S.RETRY, attempt)
        lead = called(CallOutcome.BUSY, lead)
    assert lead.settle(RULES, NOW) == LeadStep(LeadStatus(7, S.EXHAUSTED, 3))


def test_dispositions_final_retryable_and_default_delay() -> None:
    answered = called(CallOutcome.ANSWERED)
    assert answered.state is S.ANSWERED
    assert answered.dispose(SALE, RULES, NOW) == LeadStep(LeadStatus(7, S.DONE, 1))
    assert answered.dispose(THINKING, RULES, NOW).commands == (ScheduleRetry(NOW + timedelta(hours=3)),)
    assert answered.dispose(LATER, RULES, NOW).commands == (ScheduleRetry(NOW + timedelta(days=1)),)
    assert answered.dispose(LATER, RetryRules(answered=None), NOW).state is S.EXHAUSTED


def test_a_retryable_disposition_on_the_last_attempt_exhausts_the_lead() -> None:
    lead = called(CallOutcome.ANSWERED, LeadStatus(7, S.RETRY, 2))
    assert lead.dispose(THINKING, RULES, NOW) == LeadStep(LeadStatus(7, S.EXHAUSTED, 3))


def test_a_callback_is_kept_even_after_the_last_attempt() -> None:
    lead = called(CallOutcome.ANSWERED, LeadStatus(7, S.RETRY, 2))
    at = NOW + timedelta(days=2)
    assert lead.dispose(LATER, RULES, NOW, callback_at=at) == LeadStep(
        LeadStatus(7, S.CALLBACK, 3), (ScheduleCallback(at),)
    )
    callback = lead.dispose(LATER, RULES, NOW, callback_at=at).lead
    assert callback.queue().state is S.QUEUED


def test_a_final_disposition_cannot_come_with_a_callback() -> None:
    with pytest.raises(UserError, match="disposition sale is final: no callback can be scheduled"):
        called(CallOutcome.ANSWERED).dispose(SALE, RULES, NOW, callback_at=NOW)


def test_requeue_goes_back_where_the_lead_waited() -> None:
    at = NOW + timedelta(hours=13)
    fresh = LeadStatus(7).queue().lead
    assert fresh.requeue(at) == LeadStep(LeadStatus(7, S.NEW, 0), (ScheduleRetry(at),))
    retried = LeadStatus(7, S.RETRY, 2).queue().lead
    assert retried.requeue(at) == LeadStep(LeadStatus(7, S.RETRY, 2), (ScheduleRetry(at),))
    callback = LeadStatus(7, S.CALLBACK, 1).queue().lead
    assert callback.requeue(at, callback=True) == LeadStep(
        LeadStatus(7, S.CALLBACK, 1), (ScheduleCallback(at),)
    )


def test_a_cancelled_dial_gives_its_attempt_back() -> None:
    dialing = LeadStatus(7).queue().lead.dial().lead
    assert dialing.cancel(NOW) == LeadStep(LeadStatus(7, S.NEW, 0), (ScheduleRetry(NOW),))
    dialing = LeadStatus(7, S.RETRY, 1).queue().lead.dial().lead
    assert dialing.cancel(NOW) == LeadStep(LeadStatus(7, S.RETRY, 1), (ScheduleRetry(NOW),))
    with pytest.raises(ValueError, match="lead 7: a cancelled call goes back with cancel"):
        dialing.end_call(CallOutcome.CANCELLED)


def test_blocking_is_refused_on_a_call() -> None:
    assert LeadStatus(7, S.RETRY, 1).block() == LeadStep(LeadStatus(7, S.DNC_BLOCKED, 1))
    assert LeadStatus(7, S.QUEUED).block().state is S.DNC_BLOCKED
    with pytest.raises(IllegalTransition, match="lead 7 is dialing: cannot block"):
        LeadStatus(7, S.DIALING, 1).block()


def test_a_lead_on_a_call_cannot_be_queued_or_dialled_again() -> None:
    dialing = LeadStatus(7).queue().lead.dial().lead
    with pytest.raises(IllegalTransition, match="lead 7 is dialing: cannot queue"):
        dialing.queue()
    with pytest.raises(IllegalTransition, match="lead 7 is dialing: cannot dial"):
        dialing.dial()


EVENTS: dict[str, Callable[[LeadStatus], LeadStep]] = {
    "queue": lambda lead: lead.queue(),
    "requeue": lambda lead: lead.requeue(NOW),
    "dial": lambda lead: lead.dial(),
    "cancel": lambda lead: lead.cancel(NOW),
    "end_call": lambda lead: lead.end_call(CallOutcome.BUSY),
    "settle": lambda lead: lead.settle(RULES, NOW),
    "dispose": lambda lead: lead.dispose(LATER, RULES, NOW),
    "block": lambda lead: lead.block(),
}
OUTCOMES = {S.NO_ANSWER, S.BUSY, S.FAILED, S.MACHINE, S.ABANDONED}
ALLOWED_FROM = {
    "queue": {S.NEW, S.RETRY, S.CALLBACK},
    "requeue": {S.QUEUED},
    "dial": {S.QUEUED},
    "cancel": {S.DIALING},
    "end_call": {S.DIALING},
    "settle": OUTCOMES,
    "dispose": {S.ANSWERED},
    "block": set(S) - {S.DIALING, S.ANSWERED, S.DNC_BLOCKED},
}


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("state", list(S))
def test_transition_table(event: str, state: LeadState) -> None:
    lead = LeadStatus(7, state, 1)
    if state in ALLOWED_FROM[event]:
        assert EVENTS[event](lead).state in set(S)
    else:
        with pytest.raises(IllegalTransition, match=f"^lead 7 is {state.value}: cannot {event}$"):
            EVENTS[event](lead)


def test_every_transition_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="campaigns.lifecycle")
    called(CallOutcome.BUSY).settle(RULES, NOW)
    assert [r.getMessage() for r in caplog.records] == [
        "lead 7: new -> queue -> queued",
        "lead 7: queued -> dial -> dialing",
        "lead 7: dialing -> end_call -> busy",
        "lead 7: busy -> settle -> retry",
    ]


def test_bad_rules_and_dispositions_are_user_errors() -> None:
    with pytest.raises(UserError, match="retry rule max_attempts: must be at least 1"):
        RetryRules(max_attempts=0)
    with pytest.raises(UserError, match="retry rule busy: must not be negative"):
        RetryRules(busy=timedelta(minutes=-1))
    with pytest.raises(UserError, match="disposition sale retry_after: a final disposition is never retried"):
        Disposition("sale", final=True, retry_after=timedelta(hours=1))


@given(st.lists(st.sampled_from(sorted(EVENTS)), max_size=60))
def test_any_event_sequence_keeps_the_lead_in_one_call_at_most(events: list[str]) -> None:
    lead = LeadStatus(7)
    in_call = 0
    for event in events:
        try:
            step = EVENTS[event](lead)
        except IllegalTransition:
            continue
        in_call += {"dial": 1, "cancel": -1, "end_call": -1}.get(event, 0)
        assert 0 <= in_call <= 1
        assert (step.state is S.DIALING) == (in_call == 1)
        assert 0 <= step.lead.attempts <= RULES.max_attempts
        lead = step.lead
