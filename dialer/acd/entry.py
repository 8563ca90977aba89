"""Where an inbound call starts waiting by the caller's region (ACD-5).

`AreaRoutes` chooses the queue from the caller's region (province), which the engine looks up
from the number (mobile prefixes included), with a default for unknown regions; a region is named
as the IVR's region tests name it (`in_region`: 广东 stands for 广东省). It is checked against the
queues there are. (Numbers dialled directly, an agent's or a queue's, are DID routes:
`dialer.ivr.direct`.)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ringcast.errors import UserError


@dataclass(frozen=True, slots=True)
class AreaRoutes:
    by_region: Mapping[str, str]
    default: str

    def queue_for(self, region: str | None) -> str:
        """The queue for callers from `region`: the one listed under its name, else under the first
        name it starts with; the default for an unknown or missing one."""
        if region is None:
            return self.default
        exact = self.by_region.get(region.strip())
        if exact is not None:
            return exact
        listed = (queue for name, queue in self.by_region.items() if in_region(region, name))
        return next(listed, self.default)

    def check(self, queues: Collection[str]) -> None:
        _check_queues("area routing", [self.default, *self.by_region.values()], queues)


def in_region(region: str | None, name: str) -> bool:
    """Whether the caller's `region` (e.g. 广东省) is the one `name` stands for: it starts with the
    name (广东), in any case."""
    found, named = (region or "").strip().casefold(), name.strip().casefold()
    return bool(found) and bool(named) and found.startswith(named)


def _check_queues(what: str, named: list[str], queues: Collection[str]) -> None:
    unknown = sorted(set(named) - set(queues))
    if unknown:
        raise UserError(f"{what}: no queue named {', '.join(map(repr, unknown))}")
