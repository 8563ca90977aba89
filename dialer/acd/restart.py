"""Which inbound callers a restarted engine takes back (ACD-1, after kill -9 or a crash). Pure.

A previous run leaves its calls open in the records (`LeftOpen`, read by
`inbound_store.left_open`). A caller the pbx still holds in its queue's hold loop, whose record has
its wait open in a queue that still exists, waits again (`taken_back`) as it was: same queue,
first arrival (the visit's entry), priority, and agent when dialled straight to one (with its
fallback). Caller memory is not looked up again: its hold, a few seconds from the arrival, is over.
The agents were logged out with the previous run and log in again: for `RESTART_PATIENCE_S` the
call does not overflow because nobody is logged in (it still overflows when its wait is over).

Every other open call cannot be resumed and ends as the reconciliation says
(`inbound_store.close_stale`): its channel, when the pbx still has it, is hung up first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.acd.calls import WaitingCall
from dialer.acd.queues import QueueConfig

RESTART_PATIENCE_S = 120.0  # how long a taken-back caller waits for its agents to log in again


@dataclass(frozen=True, slots=True)
class LeftWaiting:
    """The wait a previous run left open: its queue visit."""

    queue: str
    entered_at: datetime
    priority: int
    direct_agent: int | None = None
    fallback_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LeftOpen:
    """An inbound call a previous run left open, as its records have it."""

    call_id: int
    uniqueid: str
    caller: str
    region: str | None
    arrived_at: datetime
    flags: tuple[str, ...] = ()
    waiting: LeftWaiting | None = None


def taken_back(
    left: LeftOpen, on_hold: bool, queues: Mapping[str, QueueConfig], now: datetime
) -> WaitingCall | None:
    """The call waiting again when its caller is still `on_hold` (in the queue hold loop) with its
    wait open in a queue that still exists; None: the call ends."""
    waiting = left.waiting
    if not on_hold or waiting is None or waiting.queue not in queues:
        return None
    return WaitingCall(
        left.uniqueid,
        waiting.queue,
        waiting.entered_at,
        left.caller,
        waiting.priority,
        left.region,
        direct_agent=waiting.direct_agent,
        fallback_at=waiting.fallback_at,
        patient_until=now + timedelta(seconds=RESTART_PATIENCE_S),
    )
