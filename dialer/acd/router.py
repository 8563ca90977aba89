"""The ACD's routing decisions (ACD-2, 3, 4, 6, 9): which call a ready agent gets, which agents a
waiting call goes to, and when it overflows. Pure: they read the board and `now`, take the
strategies' `Turns` and return a `Decision`, the commands for the engine and the turns after them.

* `agent_ready`: an agent became ready (or eligible again). It gets the best call of all those it
  may take, by `offer_order`: the call's priority, then the calls asking for this agent (dialled
  directly, caller memory), then the queue's priority, the agent's skill level in it, the arrival.
  It may take any call of its queues but those held for another agent (caller memory's wait).
* `route_call`: a call arrived, or time passed for it (`wake_at`). A direct call whose number
  falls back and whose time came (or whose agent cannot take it, `calls.falls_back`) first becomes
  its queue's (`FallBack`). The agent it asks for if that one is eligible; else it waits for that
  agent (a direct call until its fallback or overflow; caller memory for the queue's
  `memory_wait_s`); else the queue's strategy among its eligible ready members (`strategies`).
  With nobody to take it, the call overflows when its wait reached `max_wait_s` or nobody of the
  queue is logged in (for a direct call: its agent; a call taken back after a restart waits for
  them until its `patient_until`), and otherwise keeps waiting.
* `ring_no_answer`: ring-mode agents let the call ring out (ACD-6): each is set not ready and the
  call is routed again without them; a direct call its agent did not answer falls back at once
  if its number falls back, else overflows at once.

The engine takes a call off the board while it carries out an `Offer` or a `Ring`, and puts it
back (same arrival) when no agent took it and no new offer came. `route_call` reads the board
through `Floor`, which `baseline` also implements by scanning, so both apply one set of rules.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from dialer.acd.board import Board
from dialer.acd.calls import WaitingCall, asks_for, fallen_back, falls_back, held, memory_hold_ends
from dialer.acd.commands import RING_NO_ANSWER, Command, FallBack, Offer, Overflow, Ring, SetNotReady
from dialer.acd.queues import QueueConfig, QueueMember, Strategy
from dialer.acd.strategies import QueueCandidate, Turns, rank_for
from dialer.agents.selection import Candidate, eligible, first_eligible

OfferOrder = tuple[int, bool, int, int, datetime, str]


@dataclass(frozen=True, slots=True)
class Decision:
    commands: tuple[Command, ...]
    turns: Turns


class Floor(Protocol):
    """What `route_call` reads: `Board` from its indexes, `baseline.Scan` by scanning."""

    @property
    def queues(self) -> Mapping[str, QueueConfig]: ...

    def agent(self, agent_id: int) -> Candidate | None: ...

    def ready_members(self, queue: str) -> Iterable[QueueCandidate]: ...

    def anyone_logged_in(self, queue: str) -> bool: ...


def offer_order(call: WaitingCall, queue: QueueConfig, member: QueueMember | None) -> OfferOrder:
    """How an agent ranks a call it may take, smallest first; `member` is None for a call asking
    for that agent, else the agent's entry in the call's queue."""
    if member is None:
        return -call.priority, False, 0, 0, call.arrived, call.call_id
    return -call.priority, True, -queue.priority, -member.skill, call.arrived, call.call_id


def _offer(call: WaitingCall, queue: QueueConfig, agent_id: int, turns: Turns) -> Decision:
    return Decision((Offer(call.call_id, agent_id),), turns.offered(queue, agent_id))


def offer_first(
    options: Iterable[tuple[OfferOrder, WaitingCall]], board: Board, agent_id: int, turns: Turns
) -> Decision:
    """Offer the agent the first of the calls it may take in `offer_order`; nothing when none."""
    first = min(options, key=lambda option: option[0], default=None)
    if first is None:
        return Decision((), turns)
    call = first[1]
    return _offer(call, board.queues[call.queue], agent_id, turns)


def agent_ready(board: Board, agent_id: int, now: datetime, turns: Turns) -> Decision:
    """The call the agent gets now, if it is eligible and any call it may take waits."""
    agent = board.agent(agent_id)
    if agent is None or not eligible(agent, now):
        return Decision((), turns)
    options: list[tuple[OfferOrder, WaitingCall]] = []
    asking = board.asking(agent_id)
    if asking:
        call = board.calls[asking[0][2]]
        options.append((offer_order(call, board.queues[call.queue], None), call))
    for queue, member, _ in board.seats(agent_id):
        for *_, call_id in board.waiting(queue.name):
            call = board.calls[call_id]
            asked = board.asks(call_id)
            if asked is None or asked == agent_id or not held(call, queue, now, asked in board.agents):
                options.append((offer_order(call, queue, member), call))
                break
    return offer_first(options, board, agent_id, turns)


def route_call(
    floor: Floor, call: WaitingCall, now: datetime, turns: Turns, skip: Collection[int] = ()
) -> Decision:
    """Where the call goes now; `skip`: agents not to offer it to (they let it ring out)."""
    queue = floor.queues[call.queue]
    if call.direct_agent is not None:
        logged_in = floor.agent(call.direct_agent) is not None and call.direct_agent not in skip
        if falls_back(call, queue, logged_in, now):
            routed = route_call(floor, fallen_back(call), now, turns, skip)
            return Decision((FallBack(call.call_id), *routed.commands), routed.turns)
    asked = asks_for(call, queue)
    if asked is not None and asked not in skip:
        wanted = floor.agent(asked)
        if wanted is not None and eligible(wanted, now):
            return _offer(call, queue, asked, turns)
        if call.direct_agent is not None:
            return _wait(call, queue, now, turns, anyone_logged_in=wanted is not None)
        if held(call, queue, now, wanted is not None):
            return _wait(call, queue, now, turns, anyone_logged_in=True)
    elif call.direct_agent is not None:
        return _wait(call, queue, now, turns, anyone_logged_in=False)
    ready = [c for c in floor.ready_members(queue.name) if c.agent_id not in skip]
    rank = rank_for(queue, turns)
    if queue.strategy is Strategy.RING_ALL:
        ringing = sorted((c for c in ready if eligible(c, now)), key=rank)
        if ringing:
            return Decision((Ring(call.call_id, tuple(c.agent_id for c in ringing)),), turns)
    else:
        chosen = first_eligible(ready, now, rank)
        if chosen is not None:
            return _offer(call, queue, chosen.agent_id, turns)
    return _wait(call, queue, now, turns, anyone_logged_in=floor.anyone_logged_in(queue.name))


def ring_no_answer(
    floor: Floor, call: WaitingCall, agents: Collection[int], now: datetime, turns: Turns
) -> Decision:
    """The agents rung for the call did not answer within the queue's ring timeout."""
    paused = tuple(SetNotReady(agent, RING_NO_ANSWER) for agent in agents)
    rerouted = route_call(floor, call, now, turns, skip=agents)
    return Decision((*paused, *rerouted.commands), rerouted.turns)


def wake_at(board: Board, call_id: str, now: datetime) -> datetime:
    """When to route the waiting call again if nothing happens before: the end of caller memory's
    hold, a direct call's fallback, the end of a taken-back call's patience, or the moment it
    overflows, whichever comes first."""
    call = board.calls[call_id]
    queue = board.queues[call.queue]
    overflow_at = call.arrived + timedelta(seconds=queue.max_wait_s)
    asked = board.asks(call_id)
    hold_ends = None
    if call.direct_agent is None and asked is not None and asked in board.agents:
        hold_ends = memory_hold_ends(call, queue)
    sooner = [at for at in (hold_ends, call.fallback_at, call.patient_until) if at and now < at < overflow_at]
    return min(sooner, default=overflow_at)


def _wait(
    call: WaitingCall, queue: QueueConfig, now: datetime, turns: Turns, anyone_logged_in: bool
) -> Decision:
    """No agent for the call now: it overflows if nobody can come (a taken-back call is patient
    for a while) or its wait is over, else waits."""
    patient = call.patient_until is not None and now < call.patient_until
    if (not anyone_logged_in and not patient) or now - call.arrived >= timedelta(seconds=queue.max_wait_s):
        return Decision((Overflow(call.call_id, queue.overflow_to),), turns)
    return Decision((), turns)
