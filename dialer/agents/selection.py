"""Choosing the agent for a call, for the outbound dialer now and the inbound ACD later.

`choose_agent` takes the candidates (the agents of the call's group, with their status and their
recent state log) and returns the one to reserve, or None. Two steps, kept apart so the ACD can
add its own: who is eligible (ready, and under its maximum occupancy, AGT-7), then who comes first
by a `rank` key, smallest first. The dialer's rank is `longest_idle`: ready the longest, ties to
the lowest agent id. The ACD's skill-based strategies are other rank keys over richer candidates
(`dialer.acd.strategies`), through `first_eligible`, which returns the candidate itself.

Eligibility is checked lazily, in rank order: measuring occupancy walks the agent's state log, so
only the candidates ranked ahead of the one chosen pay for it.

Occupancy is the share of the recent window (default 30 minutes, the pacer's) the agent spent
reserved, on a call or in wrap-up, computed from the state log: paused and logged-out time count
as rest, like the pacer's own meter, so both see the same agents as resting. A ready agent resting
becomes eligible again as its busy spells slide out of the window, with no event to say so:
`rested_at` is when, so that the engine offers it a waiting call then.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import AgentStatus, StateChange

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

OCCUPANCY_WINDOW = timedelta(minutes=30)
_BUSY = frozenset({AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP})
_AFTER = timedelta(milliseconds=1)  # occupancy must fall under the maximum, not to it


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent of the call's group; `recent` is its state log over the occupancy window, in time order,
    with the last change before the window (earlier time counts in the first change's `from_state`)."""

    status: AgentStatus
    recent: Sequence[StateChange] = ()
    max_occupancy: float = 1.0  # AGT-7; 1.0 means no limit


Rank = Callable[[Candidate], "SupportsRichComparison"]
C = TypeVar("C", bound=Candidate)


def longest_idle(candidate: Candidate) -> tuple[datetime, int]:
    """Ready the longest first; the lowest agent id among equals."""
    return candidate.status.since, candidate.status.agent_id


def _busy_spans(
    changes: Sequence[StateChange], now: datetime, window: timedelta
) -> list[tuple[datetime, datetime]]:
    """The spans of [now - window, now] spent busy, in time order, from the agent's state log."""
    if not changes:
        return []
    start = now - window
    state, since = changes[0].from_state, start
    spans = []
    for change in changes:
        if change.at > now:
            break
        if change.at > start and state in _BUSY:
            spans.append((since, change.at))
        state, since = change.to_state, max(change.at, start)
    if state in _BUSY:
        spans.append((since, now))
    return spans


def occupancy(changes: Sequence[StateChange], now: datetime, window: timedelta = OCCUPANCY_WINDOW) -> float:
    """The share of [now - window, now] spent busy, from the agent's state log in time order."""
    return sum((end - start for start, end in _busy_spans(changes, now, window)), timedelta(0)) / window


def rested_at(candidate: Candidate, now: datetime, window: timedelta = OCCUPANCY_WINDOW) -> datetime | None:
    """When a ready agent resting now (at or over its maximum occupancy) becomes eligible again,
    should it stay ready: once enough of its busy time slid out of the window. None when it is not
    ready, not resting, or never eligible (a maximum of 0)."""
    if candidate.status.state is not AgentState.READY or not 0 < candidate.max_occupancy < 1.0:
        return None
    spans = _busy_spans(candidate.recent, now, window)
    excess = sum((end - start for start, end in spans), timedelta(0)) - candidate.max_occupancy * window
    if excess < timedelta(0):
        return None
    for start, end in spans:  # the window's start passes through them, earliest first
        if excess < end - start:
            return start + excess + window + _AFTER
        excess -= end - start
    return None  # not reached: with a maximum above 0 the excess is less than the busy time


def eligible(candidate: Candidate, now: datetime, window: timedelta = OCCUPANCY_WINDOW) -> bool:
    """Ready, and not resting after a busy spell (occupancy under the agent's maximum)."""
    if candidate.status.state is not AgentState.READY:
        return False
    return (
        candidate.max_occupancy >= 1.0 or occupancy(candidate.recent, now, window) < candidate.max_occupancy
    )


def first_eligible(
    candidates: Iterable[C],
    now: datetime,
    rank: Callable[[C], SupportsRichComparison],
    window: timedelta = OCCUPANCY_WINDOW,
) -> C | None:
    """The eligible candidate with the smallest `rank` (the first given among equals), or None."""
    ranked = [(rank(candidate), order, candidate) for order, candidate in enumerate(candidates)]
    heapq.heapify(ranked)
    while ranked:
        *_, candidate = heapq.heappop(ranked)
        if eligible(candidate, now, window):
            return candidate
    return None


def choose_agent(
    candidates: Iterable[Candidate],
    now: datetime,
    *,
    window: timedelta = OCCUPANCY_WINDOW,
    rank: Rank = longest_idle,
) -> AgentStatus | None:
    """The agent to reserve for a call answered at `now`, or None when no agent is eligible."""
    chosen = first_eligible(candidates, now, rank, window)
    return None if chosen is None else chosen.status
