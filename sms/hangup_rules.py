"""Hang-up SMS rules (SMS-1, 挂机短信), pure: which call events fire which rule.

A rule belongs to a campaign (outbound) or to an inbound number (a DID), and fires on one trigger:

- `outbound_answered`: an outbound call a person answered and was served (agent, survey, message);
- `outbound_unanswered`: one nobody was served on: no answer, busy, failed, an answering machine,
  or abandoned (the customer picked up and no agent was free: the "sorry we missed you" SMS);
- `inbound_answered` / `inbound_missed`: an inbound call answered by an agent, or missed (未接:
  the caller hung up waiting, went to voicemail, or the call was lost; `MISSED_INBOUND`). A refused
  (blacklisted) caller, one served by the IVR alone or forwarded to another number fires neither;
- `disposition`: the agent gave the call this disposition code (`disposition`);
- `survey_score`: the customer keyed a score at or below `max_score` in the call's survey.

Calls we hung up before anyone answered (a pacer drop, a shutdown) fire nothing. Each rule sends at
most one message per call: the outbox key is `hangup-sms:<rule>:<attempt>` (outbound) or
`hangup-sms:<rule>:inbound:<call>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from campaigns.persistence.models.enums import MISSED_INBOUND, CallOutcome, InboundOutcome
from ringcast.errors import UserError


class Trigger(StrEnum):
    OUTBOUND_ANSWERED = "outbound_answered"
    OUTBOUND_UNANSWERED = "outbound_unanswered"
    INBOUND_ANSWERED = "inbound_answered"
    INBOUND_MISSED = "inbound_missed"
    DISPOSITION = "disposition"
    SURVEY_SCORE = "survey_score"


@dataclass(frozen=True, slots=True)
class CallEnded:
    """An outbound call ended."""

    outcome: CallOutcome


@dataclass(frozen=True, slots=True)
class InboundEnded:
    outcome: InboundOutcome


@dataclass(frozen=True, slots=True)
class Disposed:
    code: str


@dataclass(frozen=True, slots=True)
class SurveyScored:
    score: int


CallEvent = CallEnded | InboundEnded | Disposed | SurveyScored


@dataclass(frozen=True, slots=True)
class RuleTrigger:
    """What a rule waits for: its trigger and, for some, the code or the highest score."""

    trigger: Trigger
    disposition: str | None = None
    max_score: int | None = None

    def __post_init__(self) -> None:
        if (self.trigger is Trigger.DISPOSITION) != (self.disposition is not None):
            raise UserError(
                "a hang-up SMS rule names a disposition code exactly when it fires on a disposition"
            )
        if (self.trigger is Trigger.SURVEY_SCORE) != (self.max_score is not None):
            raise UserError("a hang-up SMS rule gives --max-score exactly when it fires on a survey score")

    def fires_on(self, event: CallEvent) -> bool:
        if isinstance(event, Disposed):
            return self.trigger is Trigger.DISPOSITION and event.code == self.disposition
        if isinstance(event, SurveyScored):
            return (
                self.trigger is Trigger.SURVEY_SCORE
                and self.max_score is not None
                and event.score <= self.max_score
            )
        return self.trigger is _call_trigger(event)


def _call_trigger(event: CallEnded | InboundEnded) -> Trigger | None:
    if isinstance(event, InboundEnded):
        if event.outcome is InboundOutcome.ANSWERED:
            return Trigger.INBOUND_ANSWERED
        return Trigger.INBOUND_MISSED if event.outcome in MISSED_INBOUND else None
    if event.outcome is CallOutcome.CANCELLED:
        return None
    answered = event.outcome is CallOutcome.ANSWERED
    return Trigger.OUTBOUND_ANSWERED if answered else Trigger.OUTBOUND_UNANSWERED
