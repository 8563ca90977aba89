"""A blended scenario's inbound side (the optional `inbound:` field): its model, parsed, and its callers.

    inbound:
      arrivals_per_hour: 90          # Poisson arrivals, at this rate unless `profile` says otherwise
      profile:                       # optional: other rates over ranges of simulated minutes
        - {from_min: 60, to_min: 120, per_hour: 150}
      talk_s: {dist: lognormal, mean: 180, cv: 0.8, min: 20}
      wrap_s: 10                     # optional: the scenario's wrap_s
      patience_s: {dist: exponential, mean: 60}   # a caller waiting longer hangs up
      agents: 20                     # optional, default all: agents 0 .. N-1 are blended
      reserve: 2                     # optional, default 0: the pacer's `inbound_reserve`
      service_level_s: 20            # optional, default 20: the service level's threshold
      short_abandon_s: 5             # optional, default 5: a caller hanging up sooner is a short abandon

Distributions are the scenario's (see `distributions`). Callers draw from a stream of their own,
seeded from the run's seed, four draws each at arrival (talk, wrap, patience, then the gap to the
next arrival), so that the outbound calls' draws are the same with and without inbound.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

from dialer.acd.queues import QueueConfig
from dialer.simulation import fields
from dialer.simulation.distributions import Distribution, parse_distribution
from ringcast.errors import UserError

QUEUE = QueueConfig("simulated", ())  # a queue as created: its thresholds are the defaults here
_KEYS = (
    *("arrivals_per_hour", "profile", "talk_s", "wrap_s", "patience_s"),
    *("agents", "reserve", "service_level_s", "short_abandon_s"),
)


@dataclass(frozen=True, slots=True)
class InboundModel:
    """`rates`: (from second, arrivals per second) steps, sorted, the first from 0, the last for
    ever; `agents`: how many agents are blended (the first ones); `reserve`: the pacer's; the two
    thresholds are a queue's (`dialer.acd.queues.QueueConfig`: `service_level.within_s`,
    `short_abandon_s`), with its defaults."""

    rates: tuple[tuple[float, float], ...]
    talk_s: Distribution
    wrap_s: Distribution
    patience_s: Distribution
    agents: int
    reserve: int
    service_level_s: float
    short_abandon_s: float

    def next_arrival(self, after: float, u: float) -> float:
        """The arrival following one at `after`, for the uniform draw `u` (inverse of the cumulative
        rate); infinite when the rate stays 0."""
        hazard = -math.log1p(-u)
        rates = self.rates
        t = after
        for step in range(bisect_right(rates, after, key=lambda rate: rate[0]) - 1, len(rates)):
            per_second = rates[step][1]
            if step + 1 == len(rates):
                return t + hazard / per_second if per_second > 0.0 else math.inf
            end = rates[step + 1][0]
            if per_second * (end - t) >= hazard:
                return t + hazard / per_second
            hazard -= per_second * (end - t)
            t = end
        raise AssertionError("unreachable: the last step lasts for ever")


def parse_inbound(raw: object, agents: int, wrap_s: Distribution) -> InboundModel:
    """The `inbound` field of a scenario with `agents` agents whose outbound wrap-up is `wrap_s`."""
    mapping = fields.mapping(raw, "inbound")
    fields.known(mapping, "inbound", _KEYS)
    blended = mapping.get("agents", "all")
    blended = agents if blended == "all" else fields.count(blended, "inbound.agents", minimum=1)
    if blended > agents:
        raise UserError(f"inbound.agents: more than the {agents} agents of the scenario (got {blended})")
    reserve = fields.count(mapping.get("reserve", 0), "inbound.reserve", minimum=0)
    if reserve > blended:
        raise UserError(f"inbound.reserve: more than the {blended} blended agents (got {reserve})")
    per_hour = fields.number(fields.get(mapping, "arrivals_per_hour", "inbound"), "inbound.arrivals_per_hour")
    return InboundModel(
        rates=_rates(per_hour, mapping.get("profile", [])),
        talk_s=parse_distribution(fields.get(mapping, "talk_s", "inbound"), "inbound.talk_s"),
        wrap_s=parse_distribution(mapping["wrap_s"], "inbound.wrap_s") if "wrap_s" in mapping else wrap_s,
        patience_s=parse_distribution(fields.get(mapping, "patience_s", "inbound"), "inbound.patience_s"),
        agents=blended,
        reserve=reserve,
        service_level_s=fields.number(
            mapping.get("service_level_s", QUEUE.service_level.within_s), "inbound.service_level_s"
        ),
        short_abandon_s=fields.number(
            mapping.get("short_abandon_s", QUEUE.short_abandon_s), "inbound.short_abandon_s"
        ),
    )


def _rates(per_hour: float, raw: object) -> tuple[tuple[float, float], ...]:
    """Rate steps from the base rate and the profile's ranges (sorted, not overlapping)."""
    if not isinstance(raw, list):
        raise UserError(f"inbound.profile: must be a list (got {raw!r})")
    base = per_hour / 3600.0
    steps = [(0.0, base)]
    for i, item in enumerate(raw):
        field = f"inbound.profile[{i}]"
        entry: Mapping = fields.mapping(item, field)
        fields.known(entry, field, ("from_min", "to_min", "per_hour"))
        start = 60.0 * fields.number(fields.get(entry, "from_min", field), f"{field}.from_min")
        end = 60.0 * fields.number(fields.get(entry, "to_min", field), f"{field}.to_min")
        rate = fields.number(fields.get(entry, "per_hour", field), f"{field}.per_hour") / 3600.0
        if end <= start:
            raise UserError(f"{field}.to_min: must be after from_min")
        if start < steps[-1][0]:
            raise UserError(f"{field}.from_min: ranges must be sorted and must not overlap")
        steps += [(start, rate), (end, base)]
    # a range starting where the run or the range before ends replaces the step there
    return tuple({start: rate for start, rate in steps}.items())


@dataclass(slots=True)
class Caller:
    """An inbound caller: what it will do once it arrives (`waiting` while in the queue)."""

    arrived_at: float
    talk_s: float
    wrap_s: float
    patience_s: float
    waiting: bool = False


class Callers:
    """The inbound arrivals of one run, from their own random stream."""

    def __init__(self, model: InboundModel, seed: int) -> None:
        self.model = model
        self._draw = random.Random(f"{seed}/inbound").random

    def first_arrival(self) -> float:
        return self.model.next_arrival(0.0, self._draw())

    def arrive(self, at: float) -> tuple[Caller, float]:
        """The caller arriving at `at`, and when the next one arrives."""
        model, draw = self.model, self._draw
        caller = Caller(
            at, model.talk_s.sample(draw()), model.wrap_s.sample(draw()), model.patience_s.sample(draw())
        )
        return caller, model.next_arrival(at, draw())
