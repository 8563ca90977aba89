"""The queue strategies (ACD-2) as rank keys over queue candidates, and the turns they keep.

A `QueueCandidate` is the dialer's `Candidate` (status, state log, maximum occupancy) with what the
agent is in one queue: its member entry (skill level, supervisor) and its place in the listed order.
`rank_for` gives the queue's key, smallest first; `dialer.agents.selection.first_eligible` takes the
first eligible agent in that order. Every key is total (it ends in something unique to the agent),
so the choice never depends on the order candidates come in. Skill levels lead every key but
supervisor-first's (supervisors lead there): a lower level only gets the call when no eligible agent
of a higher one is ready. Ring-all has no choice to make; its key only orders the `Ring` command.

`Turns` is the strategies' memory, a value the engine holds and passes in: round robin's last agent
offered a call per queue, and fewest-calls' count of calls each agent answered (across queues: the
balance is of the agent's whole inbound workload; the engine starts a new `Turns` to reset it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from dialer.acd.queues import QueueConfig, QueueMember, Strategy
from dialer.agents.selection import Candidate, longest_idle

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCandidate(Candidate):
    member: QueueMember
    position: int

    @property
    def agent_id(self) -> int:
        return self.status.agent_id


@dataclass(frozen=True, slots=True)
class Turns:
    last_offered: Mapping[str, int] = field(default_factory=dict)
    answered: Mapping[int, int] = field(default_factory=dict)

    def offered(self, queue: QueueConfig, agent_id: int) -> Turns:
        """After offering a call of `queue` to the agent: round robin goes on from it."""
        if queue.strategy is not Strategy.ROUND_ROBIN or self.last_offered.get(queue.name) == agent_id:
            return self
        return replace(self, last_offered={**self.last_offered, queue.name: agent_id})

    def answered_by(self, agent_id: int) -> Turns:
        """After the agent answered an inbound call."""
        return replace(self, answered={**self.answered, agent_id: self.answered.get(agent_id, 0) + 1})


QueueRank = Callable[[QueueCandidate], "SupportsRichComparison"]


def rank_for(queue: QueueConfig, turns: Turns) -> QueueRank:
    """The key ordering the queue's candidates, best first, under its strategy."""
    strategy = queue.strategy
    if strategy is Strategy.ROUND_ROBIN:
        return _round_robin(queue, turns)
    if strategy is Strategy.FEWEST_CALLS:
        answered = turns.answered
        return lambda c: (-c.member.skill, answered.get(c.agent_id, 0), longest_idle(c))
    if strategy is Strategy.LINEAR:
        return lambda c: (-c.member.skill, c.position)
    if strategy is Strategy.SUPERVISOR_FIRST:
        return lambda c: (not c.member.supervisor, -c.member.skill, longest_idle(c))
    return lambda c: (-c.member.skill, longest_idle(c))  # longest idle; ring-all's order


def _round_robin(queue: QueueConfig, turns: Turns) -> QueueRank:
    """The next member in the listed order after the last one offered a call, wrapping around."""
    last = turns.last_offered.get(queue.name)
    last_position = queue.position(last) if last is not None else None
    after = -1 if last_position is None else last_position
    size = len(queue.members)
    return lambda c: (-c.member.skill, (c.position - after - 1) % size)
