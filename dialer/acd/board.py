"""The ACD's board: the calls waiting and the agents' states, indexed so that a decision reads only
what concerns it.

The engine owns one `Board` and keeps it current: `update_agent` after every agent state change
(with its state log for the occupancy guard, AGT-7), `add_call` when a call starts waiting,
`remove_call` when it stops (connected, overflowed, abandoned). Decisions (`router`) only read it.

Indexes, all kept in step by those three methods, so that a decision costs what its queue holds
rather than what the whole floor holds:

* per queue, its ready members as `QueueCandidate`s (built once per state change, not per decision),
  the members logged in, and those staffed (logged in and not paused);
* per queue, the keys of its waiting calls in the queue's order (a sorted list: inserting or
  removing one of a few hundred keys is a short memory move, and a decision reads it in order,
  skipping the calls held for another agent, which a heap could not do without popping);
* per agent, the keys of the calls asking for it (dialled directly or sent by caller memory).

`calls`, `agents` and `queues` are the plain data; `baseline` decides from them alone.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence

from campaigns.persistence.models.enums import AgentState
from dialer.acd.calls import CallKey, WaitingCall, asks_for
from dialer.acd.queues import QueueConfig, QueueMember, check_overflow_chains
from dialer.acd.strategies import QueueCandidate
from dialer.agents.selection import Candidate
from ringcast.errors import UserError

_UNSTAFFED = (AgentState.LOGGED_OUT, AgentState.NOT_READY)


class Board:
    def __init__(self, queues: Iterable[QueueConfig]) -> None:
        self.queues = check_overflow_chains(queues)
        self.agents: dict[int, Candidate] = {}  # the logged-in agents
        self.calls: dict[str, WaitingCall] = {}
        self._seats: dict[int, list[tuple[QueueConfig, QueueMember, int]]] = {}
        for queue in self.queues.values():
            for position, member in enumerate(queue.members):
                self._seats.setdefault(member.agent_id, []).append((queue, member, position))
        self._ready: dict[str, dict[int, QueueCandidate]] = {name: {} for name in self.queues}
        self._logged_in: dict[str, set[int]] = {name: set() for name in self.queues}
        self._staffed: dict[str, set[int]] = {name: set() for name in self.queues}
        self._waiting: dict[str, list[CallKey]] = {name: [] for name in self.queues}
        self._asking: dict[int, list[CallKey]] = {}
        self._asks: dict[str, int | None] = {}

    # -- keeping it current ------------------------------------------------------------------------

    def update_agent(self, candidate: Candidate) -> bool:
        """The agent's new status (logged out removes it), state log and maximum occupancy; whether
        it became staffed or stopped being so (the estimated waits change, `announcements`)."""
        agent_id, state = candidate.status.agent_id, candidate.status.state
        before = self.agents.get(agent_id)
        was_staffed = before is not None and before.status.state not in _UNSTAFFED
        if state is AgentState.LOGGED_OUT:
            self.agents.pop(agent_id, None)
        else:
            self.agents[agent_id] = candidate
        for queue, member, position in self._seats.get(agent_id, ()):
            ready = self._ready[queue.name]
            if state is AgentState.READY:
                ready[agent_id] = QueueCandidate(
                    candidate.status,
                    candidate.recent,
                    candidate.max_occupancy,
                    member=member,
                    position=position,
                )
            else:
                ready.pop(agent_id, None)
            _put(self._logged_in[queue.name], agent_id, state is not AgentState.LOGGED_OUT)
            _put(self._staffed[queue.name], agent_id, state not in _UNSTAFFED)
        return was_staffed != (state not in _UNSTAFFED)

    def add_call(self, call: WaitingCall) -> None:
        queue = self.queues.get(call.queue)
        if queue is None:
            raise UserError(f"call {call.call_id}: no queue {call.queue!r}")
        if call.call_id in self.calls:
            raise UserError(f"call {call.call_id} is already waiting")
        asked = asks_for(call, queue)
        self.calls[call.call_id] = call
        self._asks[call.call_id] = asked
        if call.direct_agent is None:
            insort(self._waiting[call.queue], call.key)
        if asked is not None:
            insort(self._asking.setdefault(asked, []), call.key)

    def remove_call(self, call_id: str) -> WaitingCall:
        call = self.calls.pop(call_id)
        asked = self._asks.pop(call_id)
        if call.direct_agent is None:
            _discard(self._waiting[call.queue], call.key)
        if asked is not None:
            _discard(self._asking[asked], call.key)
        return call

    # -- what decisions read -----------------------------------------------------------------------

    def agent(self, agent_id: int) -> Candidate | None:
        return self.agents.get(agent_id)

    def ready_members(self, queue: str) -> Iterable[QueueCandidate]:
        return self._ready[queue].values()

    def anyone_logged_in(self, queue: str) -> bool:
        return bool(self._logged_in[queue])

    def staffed(self, call_id: str) -> int:
        """The agents the waiting call waits for, staffed (logged in, not paused): its queue's
        members, or its agent when it was dialled directly."""
        call = self.calls[call_id]
        if call.direct_agent is None:
            return len(self._staffed[call.queue])
        agent = self.agents.get(call.direct_agent)
        return int(agent is not None and agent.status.state not in _UNSTAFFED)

    def seats(self, agent_id: int) -> Sequence[tuple[QueueConfig, QueueMember, int]]:
        """The queues the agent is a member of: each with its member entry and place in the order."""
        return self._seats.get(agent_id, ())

    def waiting(self, queue: str) -> Sequence[CallKey]:
        """The keys of the calls waiting in the queue for any member, in the queue's order."""
        return self._waiting[queue]

    def asking(self, agent_id: int) -> Sequence[CallKey]:
        """The keys of the calls asking for the agent, in their order."""
        return self._asking.get(agent_id, ())

    def asks(self, call_id: str) -> int | None:
        """The agent the waiting call asks for (`calls.asks_for`, worked out when it was added)."""
        return self._asks[call_id]

    def position(self, call_id: str) -> int:
        """1 for the next call served: its place among those waiting in its queue, or among those
        asking for its agent when it was dialled directly."""
        call = self.calls[call_id]
        keys = self._waiting[call.queue] if call.direct_agent is None else self._asking[call.direct_agent]
        return bisect_left(keys, call.key) + 1


def _put(members: set[int], agent_id: int, present: bool) -> None:
    if present:
        members.add(agent_id)
    else:
        members.discard(agent_id)


def _discard(keys: list[CallKey], key: CallKey) -> None:
    del keys[bisect_left(keys, key)]
