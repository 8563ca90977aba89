"""How an unanswered dial ended, from what Asterisk reports: pure code shared by probe and dialer.

Over PJSIP, Asterisk 22's OriginateResponse says `Reason: 1` for every SIP rejection
(486 busy, 503 congestion, 404 invalid), so the Q.850 hang-up cause decides; the
originate reason only covers what has no cause (the ring timeout, reason 3).
"""

from __future__ import annotations

from enum import StrEnum


class DialOutcome(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    INVALID = "invalid"
    FAILED = "failed"


# Q.850 causes: 17 user busy; 18/19 no user responding / no answer; 1 unallocated, 3 no route,
# 28 invalid format; 34 no circuit, 38 network out of order, 41/42 temporary failure/congestion.
_BY_CAUSE = {
    17: DialOutcome.BUSY,
    18: DialOutcome.NO_ANSWER,
    19: DialOutcome.NO_ANSWER,
    1: DialOutcome.INVALID,
    3: DialOutcome.INVALID,
    28: DialOutcome.INVALID,
    34: DialOutcome.CONGESTION,
    38: DialOutcome.CONGESTION,
    41: DialOutcome.CONGESTION,
    42: DialOutcome.CONGESTION,
}
_BY_REASON = {3: DialOutcome.NO_ANSWER, 5: DialOutcome.BUSY, 8: DialOutcome.CONGESTION}


def unanswered_outcome(originate_reason: int, hangup_cause: int | None) -> DialOutcome:
    """The outcome of a dial that was not answered."""
    if hangup_cause is not None and hangup_cause in _BY_CAUSE:
        return _BY_CAUSE[hangup_cause]
    return _BY_REASON.get(originate_reason, DialOutcome.FAILED)
