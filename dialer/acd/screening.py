"""Call filtering before a call queues (来电过滤, ACD-10): blacklisted callers are refused, known
malicious ones flagged on the agent's screen (恶意电话警示).

The engine looks the caller's number up (its lists, like caller memory, are data it holds) and
passes what it found; `screen` says what to do. A refused call never queues; the message or the
busy signal is the configured `Refusal`. A malicious caller who is not blacklisted is routed as
usual, with the flag for the screen pop.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.acd.commands import FlagMalicious, Refusal, Refuse


@dataclass(frozen=True, slots=True)
class CallerFlags:
    blacklisted: bool = False
    malicious: bool = False


def screen(call_id: str, flags: CallerFlags, refuse_with: Refusal) -> Refuse | FlagMalicious | None:
    """Refuse a blacklisted caller, flag a malicious one; None lets the call through unmarked."""
    if flags.blacklisted:
        return Refuse(call_id, refuse_with)
    if flags.malicious:
        return FlagMalicious(call_id)
    return None
