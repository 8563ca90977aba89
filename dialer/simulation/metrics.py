"""The metrics `simulate` reports, exactly as defined in ../shared/scenarios/README.md, and a blended
scenario's inbound ones (docs/pacing.md).

`Tally` is what the simulator counts while it runs; `Tally.metrics` turns it into `Metrics`:
utilization = human talk ÷ (agents × duration); occupancy = (human talk + machine talk + wrap) ÷
(agents × duration); abandon_rate = abandoned ÷ human answers (every answered human, whatever AMD
decided); connects = human calls bridged; connects_per_agent_hour = connects ÷ agent-hours;
agent_wait_s_mean = mean, over every call bridged (human or machine), of how long its agent had
been ready before.

With inbound calls (`InboundTally`, `InboundMetrics`): occupancy also counts inbound talk (and wrap
counts the wrap-ups after inbound calls); agent_utilization = (human talk + inbound talk) ÷
(agents × duration). The inbound figures are the queues report's (docs/metrics.md, "Queues"; the
differences a simulated queue cannot have are in docs/pacing.md): inbound_offered = callers
arrived = answered + abandoned + short abandons; inbound_answered = taken by an agent;
inbound_abandoned = hung up after waiting at least the short-abandon threshold;
inbound_short_abandons = hung up sooner; inbound_asa_s = mean wait of the answered;
inbound_service_level = answered within the threshold (wait ≤ threshold) ÷ (offered − short
abandons), 1 when that is 0 (the report leaves it empty). The outbound metrics keep their
definitions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class InboundMetrics:
    inbound_offered: int
    inbound_answered: int
    inbound_abandoned: int
    inbound_short_abandons: int
    inbound_asa_s: float
    inbound_service_level: float
    agent_utilization: float


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
    inbound: InboundMetrics | None = None

    def as_dict(self) -> dict[str, float | int]:
        """The metrics by name; the inbound ones follow the README's, in a blended scenario only."""
        values = asdict(self)
        inbound = values.pop("inbound")
        return values | (inbound or {})


@dataclass(slots=True)
class InboundTally:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0  # short abandons included
    short_abandons: int = 0  # hung up before the short-abandon threshold
    answered_in_time: int = 0  # within the service level's threshold
    wait_s: float = 0.0  # of the answered
    talk_s: float = 0.0


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
    inbound: InboundTally | None = None

    def metrics(self, agents: int, duration_s: float) -> Metrics:
        capacity = agents * duration_s
        occupied = self.human_talk_s + self.machine_talk_s + self.wrap_s
        inbound = self.inbound
        if inbound is not None:
            occupied += inbound.talk_s
        return Metrics(
            utilization=self.human_talk_s / capacity,
            occupancy=occupied / capacity,
            abandon_rate=self.abandoned / self.human_answers if self.human_answers else 0.0,
            calls_dialed=self.calls_dialed,
            human_answers=self.human_answers,
            connects=self.connects,
            abandoned=self.abandoned,
            amd_false_positives=self.amd_false_positives,
            connects_per_agent_hour=self.connects / (capacity / 3600.0),
            agent_wait_s_mean=self.agent_wait_s / self.bridges if self.bridges else 0.0,
            inbound=None if inbound is None else _inbound_metrics(inbound, self.human_talk_s, capacity),
        )


def _inbound_metrics(inbound: InboundTally, human_talk_s: float, capacity: float) -> InboundMetrics:
    counted = inbound.offered - inbound.short_abandons  # the service level's calls offered
    return InboundMetrics(
        inbound_offered=inbound.offered,
        inbound_answered=inbound.answered,
        inbound_abandoned=inbound.abandoned - inbound.short_abandons,
        inbound_short_abandons=inbound.short_abandons,
        inbound_asa_s=inbound.wait_s / inbound.answered if inbound.answered else 0.0,
        inbound_service_level=inbound.answered_in_time / counted if counted else 1.0,
        agent_utilization=(human_talk_s + inbound.talk_s) / capacity,
    )
