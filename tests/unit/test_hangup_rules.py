"""Which call events fire which hang-up SMS rule (SMS-1), pure."""

from __future__ import annotations

import pytest

from campaigns.persistence.models.enums import CallOutcome, InboundOutcome
from sms.hangup_rules import CallEnded, CallEvent, Disposed, InboundEnded, RuleTrigger, SurveyScored, Trigger

OUT, IN = CallOutcome, InboundOutcome


@pytest.mark.parametrize(
    ("event", "fired"),
    [
        (CallEnded(OUT.ANSWERED), Trigger.OUTBOUND_ANSWERED),
        (CallEnded(OUT.NO_ANSWER), Trigger.OUTBOUND_UNANSWERED),
        (CallEnded(OUT.MACHINE), Trigger.OUTBOUND_UNANSWERED),
        (CallEnded(OUT.ABANDONED), Trigger.OUTBOUND_UNANSWERED),
        (CallEnded(OUT.CANCELLED), None),  # we hung up before anyone answered
        (InboundEnded(IN.ANSWERED), Trigger.INBOUND_ANSWERED),
        (InboundEnded(IN.ABANDONED), Trigger.INBOUND_MISSED),
        (InboundEnded(IN.OVERFLOWED_VOICEMAIL), Trigger.INBOUND_MISSED),
        (InboundEnded(IN.FAILED), Trigger.INBOUND_MISSED),
        (InboundEnded(IN.REFUSED), None),  # a blacklisted caller
        (InboundEnded(IN.IVR_ONLY), None),  # served by the IVR
        (InboundEnded(IN.OVERFLOWED_NUMBER), None),  # forwarded to another number
    ],
)
def test_a_call_end_fires_exactly_the_rules_of_its_trigger(event: CallEvent, fired: Trigger | None) -> None:
    calls = (
        Trigger.OUTBOUND_ANSWERED,
        Trigger.OUTBOUND_UNANSWERED,
        Trigger.INBOUND_ANSWERED,
        Trigger.INBOUND_MISSED,
    )
    assert [t for t in calls if RuleTrigger(t).fires_on(event)] == ([] if fired is None else [fired])


def test_dispositions_and_scores_fire_only_their_own_rules() -> None:
    sale = RuleTrigger(Trigger.DISPOSITION, disposition="sale")
    low = RuleTrigger(Trigger.SURVEY_SCORE, max_score=2)
    assert (sale.fires_on(Disposed("sale")), sale.fires_on(Disposed("no_sale"))) == (True, False)
    assert (low.fires_on(SurveyScored(2)), low.fires_on(SurveyScored(3))) == (True, False)
    assert not low.fires_on(InboundEnded(IN.ABANDONED)) and not sale.fires_on(CallEnded(OUT.ANSWERED))
