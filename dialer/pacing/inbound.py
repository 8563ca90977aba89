"""Blending: what inbound calls will take of a campaign's agents, so that outbound does not count on them.

Inbound calls have priority: a blended agent who frees takes a waiting inbound call before any
outbound answer, and an arriving inbound call takes a ready blended agent at once. So of the agents
the pacer could dial for, inbound claims:

* the `reserve`: the campaign's `inbound_reserve` ready blended agents kept free for inbound. They
  are listed in the decision (`kept`, the most recently ready ones), and the router gives them no
  outbound call: a reserve the router honours cannot be spent by the abandon feedback, which would
  otherwise dial into it as soon as it saw fewer abandons;
* the inbound calls waiting now, each of which takes the next blended agent free;
* the arrivals to come, at the rate inbound has been taking the campaign's agents (learned from
  `InboundTaken`, see `estimators.EventRate`): a Poisson count over the seconds ahead. Each takes a
  kept agent first, and the reserve is refilled from the next agent free.

Never more than the blended agents there are: ready ones for the agents dialed for now, ready,
talking or wrapping up ones for the forecast. Agents on an inbound call are not forecast to free
within the horizon (their handle time is not learned; the next free blended agent is the first
inbound takes anyway).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dialer.pacing.events import AgentId


@dataclass(frozen=True, slots=True)
class InboundClaim:
    """Inbound's claim on the agents, as of one decision.

    `held` is the reserve plus the calls waiting; `per_second` the learned rate of inbound takes;
    `ready` the blended agents ready (not resting) and `claimable` those ready, talking or wrapping
    up; `kept` the ready ones kept free for inbound.
    """

    kept: tuple[AgentId, ...]
    held: int
    per_second: float
    ready: int
    claimable: int

    def of_ready(self, ahead_s: float) -> int:
        """How many of the agents ready now inbound takes within `ahead_s` (the reserve, the calls
        waiting, the arrivals expected, rounded): the pacer does not dial for them."""
        return min(math.floor(self.held + self.per_second * ahead_s + 0.5), self.ready)

    def ahead(self, ahead_s: float) -> tuple[float, float]:
        """Mean and variance of the agents inbound takes within `ahead_s`, of those the forecast
        counts as free by then."""
        arrivals = self.per_second * ahead_s
        mean = self.held + arrivals
        if mean >= self.claimable:
            return float(self.claimable), 0.0
        return mean, arrivals
