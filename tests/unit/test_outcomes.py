"""Unanswered dials are classified by hang-up cause first, originate reason second."""

from __future__ import annotations

import pytest

from dialer.outcomes import DialOutcome, unanswered_outcome


@pytest.mark.parametrize(
    ("reason", "cause", "expected"),
    [
        (1, 17, DialOutcome.BUSY),  # PJSIP 486: Asterisk 22 says reason 1, the cause says busy
        (1, 34, DialOutcome.CONGESTION),
        (1, 1, DialOutcome.INVALID),
        (3, None, DialOutcome.NO_ANSWER),  # ring timeout, no channel cause
        (3, 0, DialOutcome.NO_ANSWER),
        (5, None, DialOutcome.BUSY),
        (8, 127, DialOutcome.CONGESTION),
        (0, None, DialOutcome.FAILED),
        (1, 16, DialOutcome.FAILED),
    ],
)
def test_unanswered_outcome(reason: int, cause: int | None, expected: DialOutcome) -> None:
    assert unanswered_outcome(reason, cause) is expected
