"""The lead lifecycle (CMP-2) with its retry rules (CMP-3) and dispositions (CMP-5), as pure code.

A `LeadStatus` is a frozen value; each event is a method that returns a `LeadStep`: the new
status and the commands the engine carries out in the same transaction as it persists the state
(`ScheduleRetry` sets `next_attempt_at`, `ScheduleCallback` the pending callback's due time). An
event the state does not allow raises `IllegalTransition`; every transition is logged once (at
DEBUG: there are several per call, and the database keeps them all anyway).

    new | retry | callback --queue--> queued --dial--> dialing --end_call--> one outcome state
    queued --requeue--> back (refused at dial time, hopper flushed); dialing --cancel--> back
    no_answer | busy | failed | machine | abandoned --settle--> retry | exhausted
    answered --dispose--> done | retry | callback | exhausted
    any state not on a call --block--> dnc_blocked

"Back" is `callback` for a lead taken from its callback, else `new` before its first attempt and
`retry` after. A lead is never in two calls at once: `dial` is only allowed from `queued`, and
`queued` only entered from the three waiting states, which a lead leaves for the whole call; the
database's one-open-attempt-per-lead index backs this up across processes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from campaigns.persistence.models.enums import CallOutcome, LeadState
from ringcast.errors import UserError
from ringcast.transitions import transition

log = logging.getLogger(__name__)
_LOG_LEVEL = logging.DEBUG

S = LeadState
_OUTCOME_STATES = {
    CallOutcome.ANSWERED: S.ANSWERED,
    CallOutcome.NO_ANSWER: S.NO_ANSWER,
    CallOutcome.BUSY: S.BUSY,
    CallOutcome.FAILED: S.FAILED,
    CallOutcome.MACHINE: S.MACHINE,
    CallOutcome.ABANDONED: S.ABANDONED,
}
_ON_A_CALL = (S.DIALING, S.ANSWERED)  # the agent may still be talking in `answered`


@dataclass(frozen=True, slots=True)
class RetryRules:
    """When a lead is tried again after each outcome (CMP-3); None means never (the lead is exhausted).

    `answered` is the delay after a retryable disposition that has none of its own. A lead is
    exhausted once it has had `max_attempts` attempts, whatever the outcome.
    """

    max_attempts: int = 5
    no_answer: timedelta | None = timedelta(hours=2)
    busy: timedelta | None = timedelta(minutes=10)
    failed: timedelta | None = timedelta(hours=1)
    machine: timedelta | None = timedelta(hours=4)
    abandoned: timedelta | None = timedelta(hours=1)
    answered: timedelta | None = timedelta(days=1)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise UserError(f"retry rule max_attempts: must be at least 1 (got {self.max_attempts})")
        for outcome in _OUTCOME_STATES:
            delay = self.delay_after(outcome)
            if delay is not None and delay < timedelta(0):
                raise UserError(f"retry rule {outcome.value}: must not be negative (got {delay})")

    def delay_after(self, outcome: CallOutcome) -> timedelta | None:
        if outcome not in _OUTCOME_STATES:
            raise ValueError(f"no retry rule for outcome {outcome.value}")
        delay: timedelta | None = getattr(self, outcome.value)
        return delay


@dataclass(frozen=True, slots=True)
class Disposition:
    """A call result an agent picks (CMP-5): final ones close the lead, the others retry after a delay."""

    code: str
    final: bool
    retry_after: timedelta | None = None  # retryable only; None: the rules' `answered` delay

    def __post_init__(self) -> None:
        if self.final and self.retry_after is not None:
            raise UserError(f"disposition {self.code} retry_after: a final disposition is never retried")
        if self.retry_after is not None and self.retry_after < timedelta(0):
            raise UserError(f"disposition {self.code} retry_after: must not be negative")


@dataclass(frozen=True, slots=True)
class ScheduleRetry:
    """The lead is due again at `at` (its `next_attempt_at`)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class ScheduleCallback:
    """The lead waits for its callback, due at `at` (create the callback, or move its due time)."""

    at: datetime


LeadCommand = ScheduleRetry | ScheduleCallback


@dataclass(frozen=True, slots=True)
class LeadStep:
    lead: LeadStatus
    commands: tuple[LeadCommand, ...] = ()

    @property
    def state(self) -> LeadState:
        return self.lead.state


@dataclass(frozen=True, slots=True)
class LeadStatus:
    """Where one lead stands: its state and how many attempts it has had."""

    lead_id: int
    state: LeadState = S.NEW
    attempts: int = 0

    @property
    def subject(self) -> str:
        return f"lead {self.lead_id}"

    def _to(self, state: LeadState, *commands: LeadCommand, attempts: int | None = None) -> LeadStep:
        lead = replace(self, state=state, attempts=self.attempts if attempts is None else attempts)
        return LeadStep(lead, commands)

    def _back(self, at: datetime, callback: bool, attempts: int) -> LeadStep:
        if callback:
            return self._to(S.CALLBACK, ScheduleCallback(at), attempts=attempts)
        return self._to(S.RETRY if attempts else S.NEW, ScheduleRetry(at), attempts=attempts)

    def _retry_or_exhaust(self, delay: timedelta | None, rules: RetryRules, now: datetime) -> LeadStep:
        if delay is None or self.attempts >= rules.max_attempts:
            return self._to(S.EXHAUSTED)
        return self._to(S.RETRY, ScheduleRetry(now + delay))

    @transition(log, _LOG_LEVEL, S.NEW, S.RETRY, S.CALLBACK)
    def queue(self) -> LeadStep:
        """The hopper took the lead (a due callback, or a due new/retry lead)."""
        return self._to(S.QUEUED)

    @transition(log, _LOG_LEVEL, S.QUEUED)
    def requeue(self, at: datetime, *, callback: bool = False) -> LeadStep:
        """Not dialled after all (refused at dial time until `at`, or the hopper was flushed)."""
        return self._back(at, callback, self.attempts)

    @transition(log, _LOG_LEVEL, S.QUEUED)
    def dial(self) -> LeadStep:
        """The originate is about to be sent: this is an attempt."""
        return self._to(S.DIALING, attempts=self.attempts + 1)

    @transition(log, _LOG_LEVEL, S.DIALING)
    def cancel(self, at: datetime, *, callback: bool = False) -> LeadStep:
        """We hung up before an answer (pacer drop, shutdown): the attempt is given back, due at `at`."""
        return self._back(at, callback, self.attempts - 1)

    @transition(log, _LOG_LEVEL, S.DIALING)
    def end_call(self, outcome: CallOutcome) -> LeadStep:
        """The call's outcome is known; it holds until `settle` (or `dispose`, when answered) applies it."""
        if outcome not in _OUTCOME_STATES:
            raise ValueError(f"{self.subject}: a {outcome.value} call goes back with cancel()")
        return self._to(_OUTCOME_STATES[outcome])

    @transition(log, _LOG_LEVEL, S.NO_ANSWER, S.BUSY, S.FAILED, S.MACHINE, S.ABANDONED)
    def settle(self, rules: RetryRules, now: datetime) -> LeadStep:
        """Apply the campaign's retry rule for the outcome."""
        return self._retry_or_exhaust(rules.delay_after(CallOutcome(self.state.value)), rules, now)

    @transition(log, _LOG_LEVEL, S.ANSWERED)
    def dispose(
        self,
        disposition: Disposition,
        rules: RetryRules,
        now: datetime,
        *,
        callback_at: datetime | None = None,
    ) -> LeadStep:
        """The agent's disposition; a callback the customer asked for is kept whatever the attempt count."""
        if callback_at is not None:
            if disposition.final:
                raise UserError(f"disposition {disposition.code} is final: no callback can be scheduled")
            return self._to(S.CALLBACK, ScheduleCallback(callback_at))
        if disposition.final:
            return self._to(S.DONE)
        delay = disposition.retry_after if disposition.retry_after is not None else rules.answered
        return self._retry_or_exhaust(delay, rules, now)

    @transition(log, _LOG_LEVEL, S.NEW, S.ANSWERED, S.RETRY, S.DONE, S.EXHAUSTED, S.CALLBACK)
    def follow_up(self, at: datetime) -> LeadStep:
        """The customer asked for a call back: after its call (a survey's follow-up, SRV-2), whatever
        the agent's disposition, or by calling in when nobody could answer (a missed inbound call,
        CB-2), a lead never dialled included. The lead waits for that callback (an earlier one is
        moved to `at`)."""
        return self._to(S.CALLBACK, ScheduleCallback(at))

    @transition(log, _LOG_LEVEL, S.ABANDONED)
    def call_back(self, at: datetime) -> LeadStep:
        """An abandoned call is called back by the campaign's agents at `at` (CB-2), not retried."""
        return self._to(S.CALLBACK, ScheduleCallback(at))

    @transition(log, _LOG_LEVEL, *(state for state in S if state not in (*_ON_A_CALL, S.DNC_BLOCKED)))
    def block(self) -> LeadStep:
        """The number is on a DNC list or the blacklist: never dialled again."""
        return self._to(S.DNC_BLOCKED)
