"""The simulator's inbound stream: priority, the reserve, the queue, the metrics, the scenario fields."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from cli.simulate import simulate as simulate_command
from dialer.pacing import Pacer
from dialer.simulation.distributions import Fixed
from dialer.simulation.inbound import Callers, InboundModel, parse_inbound
from dialer.simulation.scenario import load_scenario
from dialer.simulation.simulator import campaign_config, simulate
from tests.unit.test_blending_effect import EXAMPLE
from tests.unit.test_simulator import _error, run, tiny

INBOUND_KEYS = [
    "inbound_offered",
    "inbound_answered",
    "inbound_abandoned",
    "inbound_short_abandons",
    "inbound_asa_s",
    "inbound_service_level",
    "agent_utilization",
]


def inbound(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"arrivals_per_hour": 0, "talk_s": 60, "patience_s": 30}
    raw.update(changes)
    return raw


def test_an_inbound_stream_that_never_rings_leaves_the_outbound_run_as_it_was() -> None:
    example = replace(load_scenario(EXAMPLE), duration_s=1200.0)  # 20 agents, AMD, predictive
    assert example.inbound is not None
    silent = replace(example, inbound=replace(example.inbound, rates=((0.0, 0.0),), reserve=0))
    outbound_only = replace(example, inbound=None)
    alone = simulate(outbound_only, Pacer(campaign_config(outbound_only)), 3).as_dict()
    blended = simulate(silent, Pacer(campaign_config(silent)), 3).as_dict()
    assert {key: blended[key] for key in alone} == alone
    assert alone["connects"] > 100
    assert [blended[key] for key in INBOUND_KEYS] == [0, 0, 0, 0, 0.0, 1.0, alone["utilization"]]


def test_an_agent_kept_free_for_inbound_gets_no_outbound_call() -> None:
    # two agents, one kept free: the other takes every call, as one agent alone would (dials at 0,
    # 35 and 70); which agent is kept changes as they free, not how many
    metrics = run(tiny(agents=2, inbound=inbound(reserve=1)))
    assert (metrics["calls_dialed"], metrics["connects"], metrics["abandoned"]) == (3, 3, 0)
    assert (metrics["utilization"], metrics["occupancy"]) == (0.3, 0.45)
    assert run(tiny(agents=2, inbound=inbound()))["calls_dialed"] == 6


def test_inbound_callers_come_before_outbound_answers() -> None:
    # ten callers a second for one agent: from its first caller (within a second) it always has one
    # waiting when it frees, so the call dialed at 0, ready at 5, is abandoned at 7 and no other
    # is dialed; the agent answers callers at about 0, 30, 60 and 90 (20 s talk, 10 s wrap-up)
    flood = inbound(arrivals_per_hour=36_000, talk_s=20, patience_s=10_000)
    metrics = run(tiny(inbound=flood))
    assert (metrics["calls_dialed"], metrics["connects"], metrics["abandoned"]) == (1, 0, 1)
    assert metrics["inbound_answered"] == 4
    assert metrics["inbound_offered"] == (
        metrics["inbound_answered"] + metrics["inbound_abandoned"] + metrics["inbound_short_abandons"]
    )
    assert metrics["agent_utilization"] == pytest.approx(0.8)


def test_inbound_alone_is_a_first_come_first_served_queue_with_impatient_callers() -> None:
    # the queues report's definitions: a caller hanging up within 8 s is a short abandon, left out
    # of the service level's calls offered (docs/metrics.md, "Queues")
    patience = {"dist": "exponential", "mean": 30}
    fields = inbound(
        arrivals_per_hour=150,
        talk_s=50,
        wrap_s=10,
        patience_s=patience,
        service_level_s=20,
        short_abandon_s=8,
    )
    metrics = run(tiny(duration_s=3600, agents=2, inbound=fields), "preview", seed=7)

    callers = Callers(parse_inbound(fields, 2, Fixed(0.0)), 7)  # the same callers, queued by hand
    free_at = [0.0, 0.0]  # both agents, each busy 60 s a caller
    waits: list[float] = []
    gave_up: list[float] = []
    at = callers.first_arrival()
    while at < 3600:
        caller, following = callers.arrive(at)
        start = max(at, min(free_at))
        if start - at > caller.patience_s or start > 3600:
            gave_up.append(caller.patience_s)
        else:
            waits.append(start - at)
            free_at[free_at.index(min(free_at))] = start + 60.0
        at = following
    offered, short = len(waits) + len(gave_up), sum(wait < 8 for wait in gave_up)
    assert short > 0 and len(gave_up) > short and any(waits)  # the case is not trivial
    assert (metrics["inbound_offered"], metrics["inbound_answered"]) == (offered, len(waits))
    assert (metrics["inbound_abandoned"], metrics["inbound_short_abandons"]) == (len(gave_up) - short, short)
    assert metrics["inbound_asa_s"] == pytest.approx(sum(waits) / len(waits))
    assert metrics["inbound_service_level"] == pytest.approx(sum(w <= 20 for w in waits) / (offered - short))
    assert metrics["agent_utilization"] == pytest.approx(50 * len(waits) / 7200)
    assert metrics["calls_dialed"] == 0


def test_a_profile_sets_the_rate_by_minute_ranges() -> None:
    raw = inbound(
        arrivals_per_hour=36,
        profile=[{"from_min": 0, "to_min": 1, "per_hour": 0}, {"from_min": 2, "to_min": 3, "per_hour": 7200}],
    )
    model = parse_inbound(raw, 1, Fixed(0.0))
    assert model.rates == ((0.0, 0.0), (60.0, 0.01), (120.0, 2.0), (180.0, 0.01))
    assert (model.wrap_s, model.agents, model.reserve) == (Fixed(0.0), 1, 0)
    assert (model.service_level_s, model.short_abandon_s) == (20.0, 5.0)  # a new queue's thresholds
    one = 1.0 - math.exp(-1.0)  # a draw worth one arrival's cumulative rate
    assert model.next_arrival(0.0, one) == pytest.approx(120.0 + (1.0 - 0.6) / 2.0)
    assert model.next_arrival(121.0, one) == pytest.approx(121.5)
    quiet = InboundModel(((0.0, 0.0),), Fixed(1), Fixed(1), Fixed(1), 1, 0, 20.0, 5.0)
    assert quiet.next_arrival(0.0, one) == math.inf


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("oops", "inbound: must be a mapping"),
        ({"talk_s": 60, "patience_s": 30}, "inbound.arrivals_per_hour: missing"),
        (inbound(arrivals_per_hour=-1), "inbound.arrivals_per_hour: must be non-negative"),
        ({"arrivals_per_hour": 10, "patience_s": 30}, "inbound.talk_s: missing"),
        (inbound(patience_s={"dist": "gamma"}), "inbound.patience_s.dist: unknown distribution 'gamma'"),
        (inbound(reserv=1), "inbound.reserv: unknown field"),
        (inbound(short_abandon_s=-1), "inbound.short_abandon_s: must be non-negative"),
        (inbound(agents=2), "inbound.agents: more than the 1 agents of the scenario"),
        (inbound(agents="some"), "inbound.agents: must be a whole number ≥ 1"),
        (inbound(reserve=2), "inbound.reserve: more than the 1 blended agents"),
        (inbound(profile={"from_min": 0}), "inbound.profile: must be a list"),
        (
            inbound(profile=[{"from_min": 5, "to_min": 5, "per_hour": 1}]),
            "inbound.profile[0].to_min: must be after from_min",
        ),
        (
            inbound(
                profile=[
                    {"from_min": 0, "to_min": 10, "per_hour": 1},
                    {"from_min": 5, "to_min": 20, "per_hour": 1},
                ]
            ),
            "inbound.profile[1].from_min: ranges must be sorted and must not overlap",
        ),
        (inbound(profile=[{"from_min": 0, "to_min": 10}]), "inbound.profile[0].per_hour: missing"),
    ],
)
def test_bad_inbound_fields_are_one_line_naming_the_field(
    field: object, expected: str, tmp_path: Path
) -> None:
    assert _error(tiny(inbound=field), tmp_path).startswith(expected)


def test_the_command_prints_the_inbound_metrics_after_the_others(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(simulate_command)
    path = tmp_path / "blended.yaml"
    path.write_text(yaml.safe_dump(tiny(agents=2, inbound=inbound(arrivals_per_hour=120))))
    result = CliRunner().invoke(app, [str(path), "--mode", "progressive", "--json"])
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.output))[-len(INBOUND_KEYS) :] == INBOUND_KEYS
    table = CliRunner().invoke(app, [str(path)])
    assert table.exit_code == 0 and all(key in table.output for key in INBOUND_KEYS)
