"""What an ended outbound call's attempt records (`dial_store.close_attempt`), from the call."""

from __future__ import annotations

from campaigns.dial_store import AttemptResult
from dialer.calls.outbound import OutboundCall
from dialer.live.instants import utc


def attempt_result(call: OutboundCall, cause_text: str = "") -> AttemptResult:
    """What an ended call's attempt records."""
    assert call.outcome is not None and call.ended_at is not None
    return AttemptResult(
        attempt_id=call.attempt_id,
        outcome=call.outcome,
        answered_at=utc(call.answered_at) if call.answered_at else None,
        bridged_at=utc(call.bridged_at) if call.bridged_at else None,
        ended_at=utc(call.ended_at),
        agent_id=call.agent_id if call.bridged_at else None,
        amd_result=call.amd_result.value if call.amd_result else None,
        amd_cause=call.amd_cause,
        hangup_cause=call.hangup_cause,
        hangup_cause_text=cause_text[:64] or None,
        connect_ms=call.connect_ms,
    )
