"""Where an inbound call starts waiting: by the number dialled (ACD-9) or the caller's region (ACD-5).

`Directory` resolves numbers dialled directly (分机号码接入): an agent's number puts the call in the
directory's `agent_queue` (whose music, wait limit and overflow apply) asking for that agent alone;
a group number puts it in that group's queue. `AreaRoutes` chooses the queue from the caller's
region (province), which the engine looks up from the number (mobile prefixes included), with a
default for unknown regions. Both are checked against the queues there are.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ringcast.errors import UserError


@dataclass(frozen=True, slots=True)
class Entry:
    """A queue, and the agent the call asks for (None: any member)."""

    queue: str
    agent: int | None = None


@dataclass(frozen=True, slots=True)
class Directory:
    agents: Mapping[str, int]
    groups: Mapping[str, str]
    agent_queue: str

    def entry(self, dialled: str) -> Entry | None:
        """The entry for a number dialled directly, None when it is no agent's or group's."""
        number = dialled.strip()
        if number in self.agents:
            return Entry(self.agent_queue, self.agents[number])
        if number in self.groups:
            return Entry(self.groups[number])
        return None

    def check(self, queues: Collection[str]) -> None:
        _check_queues("directory", [self.agent_queue, *self.groups.values()], queues)
        shared = sorted(set(self.agents) & set(self.groups))
        if shared:
            raise UserError(f"directory: number(s) {shared} are both an agent's and a group's")


@dataclass(frozen=True, slots=True)
class AreaRoutes:
    by_region: Mapping[str, str]
    default: str

    def queue_for(self, region: str | None) -> str:
        """The queue for callers from `region`; the default for an unknown or missing one."""
        return self.default if region is None else self.by_region.get(region.strip(), self.default)

    def check(self, queues: Collection[str]) -> None:
        _check_queues("area routing", [self.default, *self.by_region.values()], queues)


def _check_queues(what: str, named: list[str], queues: Collection[str]) -> None:
    unknown = sorted(set(named) - set(queues))
    if unknown:
        raise UserError(f"{what}: no queue named {', '.join(map(repr, unknown))}")
