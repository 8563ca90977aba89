"""A call waiting in a queue, and whom it asks for (ACD-3, ACD-4, ACD-9).

A queue serves its calls by `priority` (VIP callers jump the queue, ACD-3), then by arrival: that is
`WaitingCall.key`, which also breaks ties by call id so that every order is total.

A call may ask for one agent:

* dialled directly (`direct_agent`, ACD-9): only that agent takes it;
* caller memory (`remembered`, ACD-4): the agent who last served the number, looked up by the engine.
  It counts when that call was within the queue's `memory_days` of this one and the agent is a
  member of the queue. The call is offered to that agent first when it is eligible; otherwise it is
  held for it, kept from the other agents, while the agent is logged in and for the queue's
  `memory_wait_s` from the call's arrival; after that anyone may take it.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    @property
    def key(self) -> CallKey:
        """The queue's order: higher priority first, then the earliest arrival, then the call id."""
        return -self.priority, self.arrived, self.call_id


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
