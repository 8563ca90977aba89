"""The outbound call machine: each path's states, outcome and connection delay, exactly."""

from __future__ import annotations

import pytest

from campaigns.persistence.models.enums import AmdResult, CallOutcome
from dialer.calls.outbound import CallState, OutboundCall
from dialer.outcomes import DialOutcome
from ringcast.transitions import IllegalTransition


def _call(amd: bool = False, ivr: bool = False) -> OutboundCall:
    return OutboundCall(
        attempt_id=7, lead_id=70, campaign_id=1, channel_id="rc-call-7", dialed_at=100.0, amd=amd, ivr=ivr
    )


def test_answered_human_bridged_then_hung_up_is_answered_with_connect_delay() -> None:
    call = _call().answered(110.0)
    assert (call.state, call.human_at) == (CallState.WAITING, 110.0)
    call = call.reserve(agent_id=3).joined(110.012)
    assert call.state is CallState.BRIDGED
    assert call.connect_ms == 12
    ended = call.hung_up(170.0, 16)
    assert (ended.state, ended.outcome, ended.hangup_cause, ended.ended_at) == (
        CallState.ENDED,
        CallOutcome.ANSWERED,
        16,
        170.0,
    )


def test_amd_human_is_known_at_the_verdict_not_the_answer() -> None:
    call = _call(amd=True).answered(110.0)
    assert (call.state, call.human_at) == (CallState.DETECTING, None)
    call = call.verdict(112.5, AmdResult.HUMAN, "HUMAN-1-1")
    assert (call.state, call.human_at, call.amd_result) == (CallState.WAITING, 112.5, AmdResult.HUMAN)
    assert call.waited(113.0) == pytest.approx(0.5)


def test_amd_notsure_is_treated_as_a_human() -> None:
    call = _call(amd=True).answered(110.0).verdict(115.0, AmdResult.NOTSURE, "TOOLONG-5000")
    assert call.state is CallState.WAITING


def test_machine_is_dropped_and_ends_as_machine() -> None:
    call = _call(amd=True).answered(110.0).verdict(113.0, AmdResult.MACHINE, "LONGGREETING-2000-1500")
    assert call.state is CallState.DROPPING
    assert call.hung_up(113.1, 16).outcome is CallOutcome.MACHINE


def test_abandoned_human_counts_as_abandoned() -> None:
    call = _call().answered(110.0).abandon(112.0)
    assert (call.state, call.outcome) == (CallState.ABANDONING, CallOutcome.ABANDONED)
    ended = call.hung_up(118.0, 16)
    assert ended.outcome is CallOutcome.ABANDONED and ended.connect_ms is None


def test_customer_leaving_while_waiting_or_connecting_is_abandoned() -> None:
    assert _call().answered(110.0).hung_up(111.0, 16).outcome is CallOutcome.ABANDONED
    assert _call().answered(110.0).reserve(2).hung_up(110.01, 16).outcome is CallOutcome.ABANDONED


def test_hang_up_during_amd_is_no_answer() -> None:
    assert _call(amd=True).answered(110.0).hung_up(111.0, 16).outcome is CallOutcome.NO_ANSWER


@pytest.mark.parametrize(
    ("unanswered", "outcome"),
    [
        (DialOutcome.BUSY, CallOutcome.BUSY),
        (DialOutcome.NO_ANSWER, CallOutcome.NO_ANSWER),
        (DialOutcome.CONGESTION, CallOutcome.FAILED),
        (DialOutcome.INVALID, CallOutcome.FAILED),
        (None, CallOutcome.FAILED),
    ],
)
def test_unanswered_dials_end_with_their_outcome(
    unanswered: DialOutcome | None, outcome: CallOutcome
) -> None:
    assert _call().hung_up(105.0, 17, unanswered).outcome is outcome


def test_unreserve_puts_the_call_back_to_waiting() -> None:
    call = _call().answered(110.0).reserve(4).unreserve()
    assert (call.state, call.agent_id) == (CallState.WAITING, None)


def test_events_out_of_order_are_refused() -> None:
    with pytest.raises(IllegalTransition):
        _call().reserve(1)
    with pytest.raises(IllegalTransition):
        _call().answered(1.0).answered(2.0)
    ended = _call().hung_up(1.0, 16)
    with pytest.raises(IllegalTransition):
        ended.hung_up(2.0, 16)


def test_a_call_dialled_for_a_reserved_agent_goes_straight_to_it_without_amd() -> None:
    call = OutboundCall(8, 80, 1, "rc-call-8", dialed_at=100.0, amd=True, agent_id=5)
    call = call.answered(104.0)
    assert (call.state, call.agent_id, call.human_at) == (CallState.CONNECTING, 5, 104.0)
    assert call.joined(104.003).connect_ms == 3
    assert OutboundCall(9, 90, 1, "rc-call-9", dialed_at=1.0, agent_id=5).hung_up(20.0, 19).outcome is (
        CallOutcome.FAILED
    )


def test_a_broadcast_call_goes_to_its_survey_or_message_and_is_never_abandoned() -> None:
    call = _call(ivr=True).answered(110.0)
    assert (call.state, call.human_at) == (CallState.IN_IVR, 110.0)
    assert call.hung_up(140.0, 16).outcome is CallOutcome.ANSWERED
    with pytest.raises(IllegalTransition):
        call.abandon(111.0)
    detected = _call(amd=True, ivr=True).answered(110.0)
    assert detected.verdict(112.0, AmdResult.HUMAN, "HUMAN").state is CallState.IN_IVR
    assert detected.verdict(112.0, AmdResult.MACHINE, "LONGGREETING").state is CallState.DROPPING


def test_after_the_agent_the_customer_stays_on_for_the_survey_and_the_call_stays_answered() -> None:
    call = _call().answered(110.0).reserve(agent_id=3).joined(110.01).surveyed()
    assert (call.state, call.agent_id, call.bridged_at) == (CallState.IN_IVR, 3, 110.01)
    assert call.hung_up(150.0, 16).outcome is CallOutcome.ANSWERED
    with pytest.raises(IllegalTransition):
        _call().answered(110.0).surveyed()  # only a bridged call has an agent to leave
