"""What an inbound queue (skill group, 技能组) is: its agents, strategy, limits and overflow (ACD-1, 2, 6, 8).

A `QueueConfig` is a frozen value checked when built (a bad setting is a one-line `UserError` naming
the queue and the setting). Its members are listed in order: that order is the linear strategy's
and round robin's. Each member has a skill level in this queue (1-10, higher first) and may be the
queue's supervisor; one agent may be a member of several queues, with a level in each.

Every call leaves a queue in the end: after `max_wait_s`, or at once when no member is logged in,
it overflows to another queue, an external or mobile number, or a voicemail box (the queue's own
unless another is named). `check_overflow_chains` refuses a set of queues in which following the
overflows from some queue comes back to it, which would let a call wait for ever.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ringcast.errors import UserError

MIN_SKILL, MAX_SKILL = 1, 10


class Strategy(StrEnum):
    """How a queue picks among its eligible agents (ACD-2); docs/acd.md gives each rule."""

    ROUND_ROBIN = "round_robin"  # 轮巡
    LONGEST_IDLE = "longest_idle"  # 空闲时间最长
    FEWEST_CALLS = "fewest_calls"  # 业务量均衡
    RING_ALL = "ring_all"  # 集体振铃
    LINEAR = "linear"  # fixed order
    SUPERVISOR_FIRST = "supervisor_first"  # 班长策略


class Announced(StrEnum):
    """What a waiting caller is told every `announce_every_s` (ACD-8)."""

    POSITION = "position"
    WAIT = "wait"
    BOTH = "both"


ANNOUNCE_LANGUAGES = ("zh", "en")  # the prompt library's TTS voices


@dataclass(frozen=True, slots=True)
class QueueMember:
    agent_id: int
    skill: int = 5
    supervisor: bool = False


@dataclass(frozen=True, slots=True)
class ToQueue:
    queue: str


@dataclass(frozen=True, slots=True)
class ToNumber:
    """An external or mobile number."""

    number: str


@dataclass(frozen=True, slots=True)
class ToVoicemail:
    box: str


OverflowTarget = ToQueue | ToNumber | ToVoicemail


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """`share` of the answered calls answered within `within_s` (80/20 by default)."""

    share: float = 0.8
    within_s: float = 20.0


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """One queue. `priority`: an agent in several queues takes calls of the higher one first;
    `overflow` None is the queue's own voicemail box; `announce_every_s` None: no announcements,
    else the caller hears `announced` (position, estimated wait or both) in `announce_language`;
    caller memory (ACD-4) counts a previous call within `memory_days` (0: off) and holds the call
    for that agent up to `memory_wait_s`; `survey_id`: the survey a caller answers after its agent
    ends the call (SRV-2), None: none."""

    name: str
    members: tuple[QueueMember, ...]
    strategy: Strategy = Strategy.LONGEST_IDLE
    priority: int = 0
    ring_timeout_s: float = 20.0
    max_wait_s: float = 300.0
    overflow: OverflowTarget | None = None
    short_abandon_s: float = 5.0
    service_level: ServiceLevel = ServiceLevel()
    music_class: str = "default"
    announce_every_s: float | None = None
    announced: Announced = Announced.BOTH
    announce_language: str = "zh"
    memory_days: int = 30
    memory_wait_s: float = 5.0
    survey_id: int | None = None
    _positions: Mapping[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        agents = [member.agent_id for member in self.members]
        repeated = sorted({agent for agent in agents if agents.count(agent) > 1})
        checks = (
            ("name", bool(self.name.strip()), "must not be empty"),
            ("members", not repeated, f"agent(s) {repeated} listed more than once"),
            (
                "skill",
                all(MIN_SKILL <= member.skill <= MAX_SKILL for member in self.members),
                f"every member's level must be {MIN_SKILL}-{MAX_SKILL}",
            ),
            ("ring_timeout_s", _positive(self.ring_timeout_s), "must be a positive number of seconds"),
            ("max_wait_s", _positive(self.max_wait_s), "must be a positive number of seconds"),
            ("short_abandon_s", 0 <= self.short_abandon_s < math.inf, "must not be negative"),
            ("service_level share", 0 < self.service_level.share <= 1, "must be in (0, 1]"),
            ("service_level within_s", _positive(self.service_level.within_s), "must be positive"),
            (
                "announce_every_s",
                self.announce_every_s is None or _positive(self.announce_every_s),
                "must be positive (or unset: no announcements)",
            ),
            (
                "announce_language",
                self.announce_language in ANNOUNCE_LANGUAGES,
                f"give {' or '.join(ANNOUNCE_LANGUAGES)}",
            ),
            ("memory_days", self.memory_days >= 0, "must not be negative (0 turns caller memory off)"),
            ("memory_wait_s", 0 <= self.memory_wait_s < math.inf, "must not be negative"),
        )
        for setting, ok, problem in checks:
            if not ok:
                raise UserError(f"queue {self.name!r} {setting}: {problem}")
        object.__setattr__(self, "_positions", {agent: index for index, agent in enumerate(agents)})

    @property
    def overflow_to(self) -> OverflowTarget:
        return ToVoicemail(self.name) if self.overflow is None else self.overflow

    def position(self, agent_id: int) -> int | None:
        """The member's place in the listed order (0 first), None for an agent not in the queue."""
        return self._positions.get(agent_id)

    def member(self, agent_id: int) -> QueueMember | None:
        position = self._positions.get(agent_id)
        return None if position is None else self.members[position]


def _positive(seconds: float) -> bool:
    return 0 < seconds < math.inf


def check_overflow_chains(queues: Iterable[QueueConfig]) -> dict[str, QueueConfig]:
    """The queues by name, once every overflow names a known queue and none leads back to where it
    started; otherwise a `UserError` showing the chain."""
    by_name: dict[str, QueueConfig] = {}
    for queue in queues:
        if queue.name in by_name:
            raise UserError(f"queue {queue.name!r} is defined twice")
        by_name[queue.name] = queue
    for start in by_name.values():
        chain = [start.name]
        target = start.overflow_to
        while isinstance(target, ToQueue):
            if target.queue not in by_name:
                raise UserError(f"queue {chain[-1]!r} overflows to unknown queue {target.queue!r}")
            if target.queue in chain:
                path = " -> ".join([*chain, target.queue])
                raise UserError(
                    f"queue overflow loops without end: {path} (end one at a number or voicemail)"
                )
            chain.append(target.queue)
            target = by_name[target.queue].overflow_to
    return by_name
