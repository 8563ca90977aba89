"""The metrics `simulate` reports, exactly as defined in ../shared/scenarios/README.md.

`Tally` is what the simulator counts while it runs; `Tally.metrics` turns it into `Metrics`:
utilization = human talk ÷ (agents × duration); occupancy = (human talk + machine talk + wrap) ÷
(agents × duration); abandon_rate = abandoned ÷ human answers (every answered human, whatever AMD
decided); connects = human calls bridged; connects_per_agent_hour = connects ÷ agent-hours;
agent_wait_s_mean = mean, over every call bridged (human or machine), of how long its agent had
been ready before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Metrics:
    utilization: float
    occupancy: float
    abandon_rate: float
    calls_dialed: int
    human_answers: int
    connects: int
    abandoned: int
    amd_false_positives: int
    connects_per_agent_hour: float
    agent_wait_s_mean: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(slots=True)
class Tally:
    calls_dialed: int = 0
    human_answers: int = 0
    connects: int = 0
    abandoned: int = 0
    amd_false_positives: int = 0
    bridges: int = 0
    human_talk_s: float = 0.0
    machine_talk_s: float = 0.0
    wrap_s: float = 0.0
    agent_wait_s: float = 0.0

    def metrics(self, agents: int, duration_s: float) -> Metrics:
        capacity = agents * duration_s
        return Metrics(
            utilization=self.human_talk_s / capacity,
            occupancy=(self.human_talk_s + self.machine_talk_s + self.wrap_s) / capacity,
            abandon_rate=self.abandoned / self.human_answers if self.human_answers else 0.0,
            calls_dialed=self.calls_dialed,
            human_answers=self.human_answers,
            connects=self.connects,
            abandoned=self.abandoned,
            amd_false_positives=self.amd_false_positives,
            connects_per_agent_hour=self.connects / (capacity / 3600.0),
            agent_wait_s_mean=self.agent_wait_s / self.bridges if self.bridges else 0.0,
        )
