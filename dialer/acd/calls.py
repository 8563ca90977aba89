"""A call waiting in a queue, and whom it asks for (ACD-3, ACD-4, ACD-9).

A queue serves its calls by `priority` (VIP callers jump the queue, ACD-3), then by arrival: that is
`WaitingCall.key`, which also breaks ties by call id so that every order is total.

A call may ask for one agent:

* dialled directly (`direct_agent`, ACD-9): only that agent takes it, unless its number falls back
  (`fallback_at`): from then on, or at once while that agent is logged out or not a member of the
  queue, the call is the queue's like any other, with its first arrival (`fallen_back`);
* caller memory (`remembered`, ACD-4): the agent who last served the number, looked up by the engine.
  It counts when that call was within the queue's `memory_days` of this one and the agent is a
  member of the queue. The call is offered to that agent first when it is eligible; otherwise it is
  held for it, kept from the other agents, while the agent is logged in and for the queue's
  `memory_wait_s` from the call's arrival; after that anyone may take it.

A call a restarted engine took back (`restart`) waits `patient_until` for its agents to log in
again: until then, nobody logged in does not make it overflow (its wait limit still does).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dialer.acd.queues import QueueConfig

CallKey = tuple[int, datetime, str]


@dataclass(frozen=True, slots=True)
class RememberedAgent:
    """The agent who last served the caller's number, and when."""

    agent_id: int
    served_at: datetime


@dataclass(frozen=True, slots=True)
class WaitingCall:
    """`arrived`: when it entered this queue (an overflow into another queue is a new arrival there)."""

    call_id: str
    queue: str
    arrived: datetime
    caller: str
    priority: int = 0
    region: str | None = None
    remembered: RememberedAgent | None = None
    direct_agent: int | None = None
    fallback_at: datetime | None = None
    patient_until: datetime | None = None

    @property
    def key(self) -> CallKey:
        """The queue's order: higher priority first, then the earliest arrival, then the call id."""
        return -self.priority, self.arrived, self.call_id


def fallen_back(call: WaitingCall) -> WaitingCall:
    """A direct call once it falls back: any agent's of its queue, same arrival and priority."""
    return replace(call, direct_agent=None, fallback_at=None)


def falls_back(call: WaitingCall, queue: QueueConfig, logged_in: bool, now: datetime) -> bool:
    """Whether a direct call goes to its queue's other agents now: its number falls back, and its
    time came, or its agent is not a member of the queue, or logged out (once a restarted
    engine's patience is over: its agents log in again meanwhile)."""
    if call.direct_agent is None or call.fallback_at is None:
        return False
    patient = call.patient_until is not None and now < call.patient_until
    return (
        now >= call.fallback_at
        or (not logged_in and not patient)
        or queue.position(call.direct_agent) is None
    )


def asks_for(call: WaitingCall, queue: QueueConfig) -> int | None:
    """The agent the call asks for: the one dialled, or the one caller memory names (within the
    queue's window, and a member of it); None for any agent of the queue."""
    if call.direct_agent is not None:
        return call.direct_agent
    remembered = call.remembered
    if (
        remembered is None
        or queue.memory_days == 0
        or call.arrived - remembered.served_at > timedelta(days=queue.memory_days)
        or queue.position(remembered.agent_id) is None
    ):
        return None
    return remembered.agent_id


def memory_hold_ends(call: WaitingCall, queue: QueueConfig) -> datetime:
    return call.arrived + timedelta(seconds=queue.memory_wait_s)


def held(call: WaitingCall, queue: QueueConfig, now: datetime, asked_is_logged_in: bool) -> bool:
    """Whether a call that caller memory sends to one agent is still kept from the others."""
    return asked_is_logged_in and now < memory_hold_ends(call, queue)
