"""The effect of blending, on docs/examples/blended-20.yaml (telesales-20 with inbound calls), seed 1.

A pacer fed the inbound events holds the outbound abandon rate under the cap while blended agents
take inbound calls; one blind to them dials for agents on inbound calls. The reserve (2 agents kept
free) cuts the inbound waits and the outbound abandons (fewer calls at the rate the feedback holds),
and costs outbound utilisation.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dialer.pacing import Pacer
from dialer.pacing.events import InboundTaken, InboundWaiting, PacingEvent
from dialer.simulation.scenario import Scenario, load_scenario
from dialer.simulation.simulator import campaign_config, simulate

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "blended-20.yaml"
Run = dict[str, float | int]


class InboundBlindPacer(Pacer):
    """A pacer never told about inbound: agents on inbound calls look ready to it."""

    def observe(self, event: PacingEvent) -> None:
        if not isinstance(event, InboundTaken | InboundWaiting):
            super().observe(event)


def _run(scenario: Scenario, pacer_type: type[Pacer] = Pacer) -> Run:
    return simulate(scenario, pacer_type(campaign_config(scenario)), seed=1).as_dict()


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    reserved = load_scenario(EXAMPLE)
    assert reserved.inbound is not None and reserved.inbound.reserve == 2
    unreserved = replace(reserved, inbound=replace(reserved.inbound, reserve=0))
    return {
        "reserve 2": _run(reserved),
        "reserve 0": _run(unreserved),
        "blind": _run(unreserved, InboundBlindPacer),
    }


def test_a_pacer_that_sees_inbound_keeps_blended_agents_from_causing_abandons(runs: dict[str, Run]) -> None:
    seeing, blind = runs["reserve 0"], runs["blind"]
    assert seeing["abandon_rate"] <= 0.03
    assert blind["abandon_rate"] > 10 * seeing["abandon_rate"]  # about 58 % against 2.6 %
    assert blind["inbound_asa_s"] > 2 * seeing["inbound_asa_s"]


def test_the_reserve_cuts_inbound_waits_and_outbound_abandons(runs: dict[str, Run]) -> None:
    reserved, unreserved = runs["reserve 2"], runs["reserve 0"]
    assert reserved["inbound_offered"] == unreserved["inbound_offered"]  # the same callers
    assert reserved["inbound_asa_s"] < unreserved["inbound_asa_s"] / 4  # about 0.0 s against 1.1 s
    assert reserved["inbound_service_level"] >= unreserved["inbound_service_level"] + 0.02
    assert reserved["inbound_abandoned"] < unreserved["inbound_abandoned"]
    assert reserved["abandoned"] <= 0.8 * float(unreserved["abandoned"])
    assert reserved["abandon_rate"] <= 0.03
    assert reserved["utilization"] < unreserved["utilization"] - 0.05  # the price, in outbound talk
