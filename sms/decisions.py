"""The outbox sender's decisions, pure: may a claimed message go now, and what its provider's answer means.

`gate` is asked before sending. A blacklisted number (黑名单) is cancelled whatever the message;
then the message's class decides: a marketing message follows its preset's marketing policy
(consent, quiet hours in the recipient's local time, frequency caps), any other message the
transactional policy (`sms.policy`). Messages decided earlier in the same batch count towards the
caps, so a batch never sends past one.

`after_send` turns a `SendResult` into the message's next state:
- accepted → `sent` with the provider's id;
- rejected → `failed` (reason `rejected`), never retried;
- retry (nothing can have gone) → queued again after an exponential back-off with jitter, or
  `failed` (reason `out_of_tries`) after the provider's `max_tries`;
- unknown (it may have gone) → as retry when the provider honours idempotency keys (resending the
  key cannot send it twice); otherwise `failed` with reason `unknown_outcome`: a possible loss is
  recorded for people to see, a possible duplicate is never risked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.persistence.models.enums import CompliancePreset, SmsState
from sms.outbox import ClaimedSms, Finished
from sms.policy import (
    TRANSACTIONAL_POLICY,
    Cancel,
    Defer,
    Recipient,
    Send,
    SmsPolicy,
    decide,
    marketing_policy,
)
from sms.providers.base import SendOutcome, SendResult
from sms.recipients import NumberFacts


@dataclass(frozen=True, slots=True)
class Blacklisted:
    """Never send it: the number is on the blacklist (the entry described in `detail`)."""

    detail: str


Decision = Send | Defer | Cancel | Blacklisted


@dataclass
class Gate:
    """Asks the policies about claimed messages; remembers what it let through in this batch."""

    default_preset: CompliancePreset
    facts: Mapping[str, NumberFacts]
    now: datetime

    def __post_init__(self) -> None:
        self._sent_now: dict[tuple[str, bool], int] = {}

    def decide(self, message: ClaimedSms) -> Decision:
        facts = self.facts[message.to]
        if facts.blacklist is not None:
            return Blacklisted(f"{message.to} is blacklisted ({facts.blacklist})")
        recent = facts.recent_sends[message.marketing] + [self.now] * self._sent_now.get(
            (message.to, message.marketing), 0
        )
        recipient = Recipient(
            opted_out=facts.opted_out, consented=facts.consented, zones=facts.zones, recent_sends=recent
        )
        decision = decide(self.policy_of(message), recipient, self.now)
        if isinstance(decision, Send):
            key = (message.to, message.marketing)
            self._sent_now[key] = self._sent_now.get(key, 0) + 1
        return decision

    def policy_of(self, message: ClaimedSms) -> SmsPolicy:
        if not message.marketing:
            return TRANSACTIONAL_POLICY
        return marketing_policy(message.preset or self.default_preset)


def not_sent(message: ClaimedSms, decision: Defer | Cancel | Blacklisted) -> Finished:
    """The outcome of a message the gate held back: deferred (no try spent) or cancelled."""
    if isinstance(decision, Defer):
        return Finished(
            message.id,
            SmsState.QUEUED,
            reason=decision.reason.value,
            error=decision.detail,
            next_try_at=decision.until,
            count_try=False,
        )
    if isinstance(decision, Blacklisted):
        return Finished(message.id, SmsState.CANCELLED, reason="blacklisted", error=decision.detail)
    return Finished(message.id, SmsState.CANCELLED, reason=decision.reason.value, error=decision.detail)


def after_send(
    message: ClaimedSms,
    result: SendResult,
    now: datetime,
    *,
    max_tries: int,
    idempotent: bool,
    delay_s: float,
) -> Finished:
    """The outcome of a send (see the module docstring); `delay_s` is the back-off if it goes again."""
    if result.outcome is SendOutcome.ACCEPTED:
        return Finished(
            message.id, SmsState.SENT, provider_message_id=result.provider_message_id, sent_at=now
        )
    if result.outcome is SendOutcome.REJECTED:
        return Finished(message.id, SmsState.FAILED, reason="rejected", error=result.error)
    if result.outcome is SendOutcome.UNKNOWN and not idempotent:
        return Finished(
            message.id,
            SmsState.FAILED,
            reason="unknown_outcome",
            error=f"{result.error}; the provider has no idempotency keys, so it is not sent again"
            " (it may or may not have gone)",
        )
    if message.tries >= max_tries:
        return Finished(
            message.id, SmsState.FAILED, reason="out_of_tries", error=f"{result.error} (try {message.tries})"
        )
    return Finished(
        message.id,
        SmsState.QUEUED,
        reason="retrying",
        error=result.error,
        next_try_at=now + timedelta(seconds=delay_s),
    )
