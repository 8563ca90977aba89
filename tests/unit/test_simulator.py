"""The simulator against hand-computed tiny campaigns, the metric definitions, scenario validation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialer.pacing import Mode, Pacer
from dialer.simulation.distributions import parse_distribution
from dialer.simulation.metrics import Tally
from dialer.simulation.scenario import load_scenario, parse_scenario
from dialer.simulation.simulator import AgentLimits, campaign_config, simulate

SHARED = Path(__file__).resolve().parents[3] / "shared" / "scenarios"
HUMAN = {"answer_human": 1.0, "answer_machine": 0.0, "busy": 0.0, "no_answer": 0.0, "invalid": 0.0}
MACHINE = {"answer_human": 0.0, "answer_machine": 1.0, "busy": 0.0, "no_answer": 0.0, "invalid": 0.0}


def tiny(**changes: Any) -> dict[str, Any]:
    """One agent, every number answers after exactly 5 s, talks 20 s, wraps 10 s; 100 s long."""
    raw: dict[str, Any] = {
        "name": "tiny",
        "duration_s": 100,
        "agents": 1,
        "leads": "unlimited",
        "max_lines": 10,
        "no_answer_timeout_s": 25,
        "outcomes": dict(HUMAN),
        "ring_to_answer_s": 5,
        "busy_after_s": 3,
        "invalid_after_s": 2,
        "talk_s": 20,
        "machine_talk_s": 4,
        "wrap_s": {"dist": "fixed", "value": 10},
        "amd": {"enabled": False},
        "abandon": {"connect_within_s": 2, "cap": 0.03},
    }
    raw.update(changes)
    return raw


def run(raw: dict[str, Any], mode: str = "progressive", seed: int = 1, **kw: Any) -> dict[str, Any]:
    scenario = parse_scenario(raw)
    return simulate(
        scenario, Pacer(campaign_config(scenario, mode, kw.pop("ratio", 2.0))), seed, **kw
    ).as_dict()


def test_one_agent_progressive_cycle() -> None:
    # dials at 0, 35, 70 (answer +5, talk 20, wrap 10); the call bridged at 75 counts in full
    assert run(tiny()) == {
        "utilization": 0.6,
        "occupancy": 0.9,
        "abandon_rate": 0.0,
        "calls_dialed": 3,
        "human_answers": 3,
        "connects": 3,
        "abandoned": 0,
        "amd_false_positives": 0,
        "connects_per_agent_hour": 108.0,
        "agent_wait_s_mean": 5.0,
    }


def test_second_call_for_one_agent_is_abandoned_after_the_grace_time() -> None:
    metrics = run(tiny(duration_s=30), mode="ratio", ratio=2.0)  # two calls at 0, both ready at 5
    assert (metrics["calls_dialed"], metrics["human_answers"], metrics["connects"]) == (2, 2, 1)
    assert (metrics["abandoned"], metrics["abandon_rate"]) == (1, 0.5)


def test_no_answer_at_the_timeout_and_busy_numbers() -> None:
    assert run(tiny(duration_s=60, ring_to_answer_s=30))["calls_dialed"] == 3  # at 0, 25, 50
    busy = {**HUMAN, "answer_human": 0.0, "busy": 1.0}
    metrics = run(tiny(duration_s=10, outcomes=busy))  # busy after 3 s: dials at 0, 3, 6, 9
    assert (metrics["calls_dialed"], metrics["human_answers"], metrics["utilization"]) == (4, 0, 0.0)


def test_machines_are_bridged_without_amd() -> None:
    metrics = run(tiny(duration_s=30, outcomes=MACHINE))  # bridged at 5, 4 s of machine talk, wrap 10
    assert (metrics["human_answers"], metrics["connects"], metrics["utilization"]) == (0, 0, 0.0)
    assert metrics["occupancy"] == pytest.approx(28 / 30)  # two machines: (4 + 10) × 2
    assert metrics["calls_dialed"] == 2


def test_amd_hangs_up_on_machines_and_delays_humans() -> None:
    amd = {"enabled": True, "detect_s": 2, "human_as_machine": 0.0, "machine_as_human": 0.0}
    machines = run(tiny(duration_s=30, outcomes=MACHINE, amd=amd))  # hung up at 7, 14, 21, 28
    assert (machines["calls_dialed"], machines["occupancy"]) == (5, 0.0)
    humans = run(tiny(duration_s=100, amd=amd))  # bridged at 7: cycle of 37 s
    assert (humans["connects"], humans["agent_wait_s_mean"]) == (3, 7.0)


def test_amd_false_positives_count_as_abandoned_only_when_the_scenario_says_so() -> None:
    amd = {"enabled": True, "detect_s": 2, "human_as_machine": 1.0, "machine_as_human": 0.0}
    metrics = run(tiny(duration_s=20, amd=amd))  # dials at 0, 7, 14: every human hung up on
    assert (metrics["amd_false_positives"], metrics["human_answers"], metrics["abandoned"]) == (3, 3, 0)
    counted = {"connect_within_s": 2, "cap": 0.03, "amd_false_positive_counts": True}
    metrics = run(tiny(duration_s=20, amd=amd, abandon=counted))
    assert (metrics["abandoned"], metrics["abandon_rate"]) == (3, 1.0)


def test_nothing_is_bridged_after_the_end() -> None:
    amd = {"enabled": True, "detect_s": 2, "human_as_machine": 0.0, "machine_as_human": 0.0}
    metrics = run(tiny(duration_s=10, ring_to_answer_s=9, amd=amd))  # answered at 9, ready at 11
    assert (metrics["human_answers"], metrics["connects"], metrics["abandoned"]) == (1, 0, 1)
    late = run(tiny(duration_s=10, ring_to_answer_s=12))  # answers after the end: never answered
    assert (late["calls_dialed"], late["human_answers"], late["abandoned"]) == (1, 0, 0)


def test_a_call_bridged_before_the_end_counts_its_whole_talk() -> None:
    metrics = run(tiny(duration_s=10, talk_s=100))
    assert (metrics["utilization"], metrics["occupancy"]) == (10.0, 11.0)


def test_outcome_schedule_applies_by_dial_time() -> None:
    no_answer = {**HUMAN, "answer_human": 0.0, "no_answer": 1.0}
    metrics = run(
        tiny(duration_s=60, outcomes=no_answer, outcomes_schedule=[{"at_s": 50, "outcomes": HUMAN}])
    )
    assert (metrics["calls_dialed"], metrics["human_answers"]) == (3, 1)  # at 0 and 25 no answer, at 50 human


def test_leads_are_dialed_at_most_once() -> None:
    metrics = run(tiny(leads=2))
    assert (metrics["calls_dialed"], metrics["connects"]) == (2, 2)


def test_agent_limits_lengthen_wrap_up() -> None:
    metrics = run(tiny(), limits=AgentLimits(min_wrap_s=30.0))  # cycle 5 + 20 + 30: dials at 0, 55
    assert (metrics["connects"], metrics["occupancy"]) == (2, pytest.approx(1.0))


def test_resting_agents_get_no_calls() -> None:
    limited = run(tiny(duration_s=3600), limits=AgentLimits(max_occupancy=0.3))
    free = run(tiny(duration_s=3600))
    assert limited["connects"] < free["connects"] / 2


def test_same_seed_same_run_and_seeds_differ() -> None:
    raw = tiny(
        duration_s=1800,
        agents=4,
        outcomes={"answer_human": 0.3, "answer_machine": 0.1, "busy": 0.1, "no_answer": 0.4, "invalid": 0.1},
        ring_to_answer_s={"dist": "lognormal", "mean": 8, "cv": 0.5, "min": 2},
        talk_s={"dist": "exponential", "mean": 60},
        wrap_s={"dist": "uniform", "min": 5, "max": 15},
    )
    assert run(raw, "predictive", seed=3) == run(raw, "predictive", seed=3)
    assert run(raw, "predictive", seed=3) != run(raw, "predictive", seed=4)


def test_metric_definitions() -> None:
    tally = Tally(
        calls_dialed=50,
        human_answers=20,
        connects=16,
        abandoned=1,
        amd_false_positives=2,
        bridges=18,
        human_talk_s=1800.0,
        machine_talk_s=20.0,
        wrap_s=180.0,
        agent_wait_s=90.0,
    )
    metrics = tally.metrics(agents=2, duration_s=3600.0)
    assert (metrics.utilization, metrics.occupancy, metrics.abandon_rate) == (0.25, 2000 / 7200, 0.05)
    assert (metrics.connects_per_agent_hour, metrics.agent_wait_s_mean) == (8.0, 5.0)
    assert Tally().metrics(agents=1, duration_s=10.0).abandon_rate == 0.0


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared scenarios not checked out")
def test_shared_scenarios_load() -> None:
    names = {load_scenario(path).name for path in SHARED.glob("*.yaml")}
    assert {"telesales-20", "collections-50", "small-team-5", "evening-drift-15"} <= names


def _error(raw: object, tmp_path: Path) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw) if not isinstance(raw, str) else raw)
    with pytest.raises(Exception) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message
    return message.removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"outcomes": {**HUMAN, "busy": 0.1}}, "outcomes: probabilities sum to 1.1, not 1"),
        ({"outcomes": {"answer_human": 1.0}}, "outcomes.answer_machine: missing"),
        ({"talk_s": {"dist": "gamma", "mean": 3}}, "talk_s.dist: unknown distribution 'gamma'"),
        ({"wrap_s": {"dist": "fixed", "value": -1}}, "wrap_s.value: must be non-negative"),
        ({"ring_to_answer_s": -2}, "ring_to_answer_s.value: must be non-negative"),
        ({"talk_s": {"dist": "uniform", "min": 5}}, "talk_s.max: missing"),
        ({"talk_s": {"dist": "lognormal", "mean": 60, "sd": 3}}, "talk_s.sd: not a parameter"),
        ({"duration_s": 0}, "duration_s: must be positive"),
        ({"agents": 2.5}, "agents: must be a whole number"),
        ({"leads": "lots"}, "leads: must be 'unlimited' or a whole number"),
        ({"agnets": 3}, "agnets: unknown field"),
        ({"abandon": {"connect_within_s": 2}}, "abandon.cap: missing"),
        ({"abandon": {"connect_within_s": 2, "cap": 3}}, "abandon.cap: must be a probability"),
        ({"amd": {"enabled": True, "detect_s": 2}}, "amd.human_as_machine: missing"),
        ({"amd": {"enabled": "yes"}}, "amd.enabled: must be true or false"),
        (
            {"outcomes_schedule": [{"at_s": 50, "outcomes": {**HUMAN, "invalid": 0.5}}]},
            "outcomes_schedule[0].outcomes: probabilities sum to 1.5, not 1",
        ),
        (
            {"outcomes_schedule": [{"at_s": 50, "outcomes": HUMAN}, {"at_s": 10, "outcomes": HUMAN}]},
            "outcomes_schedule[1].at_s: the schedule must be sorted",
        ),
    ],
)
def test_bad_scenarios_are_one_line_naming_the_field(
    changes: dict[str, Any], expected: str, tmp_path: Path
) -> None:
    assert _error(tiny(**changes), tmp_path).startswith(expected)


def test_missing_field_and_unreadable_files(tmp_path: Path) -> None:
    raw = tiny()
    del raw["talk_s"]
    assert _error(raw, tmp_path) == "talk_s: missing"
    assert _error("agents: [1,\n", tmp_path).startswith("not valid YAML")
    assert _error("- 1\n", tmp_path) == "the file must be a mapping of fields"
    with pytest.raises(Exception, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.yaml")


def test_every_mode_runs_the_same_scenario() -> None:
    dialed = {mode: run(tiny(), mode.value)["calls_dialed"] for mode in Mode}
    assert dialed == {Mode.PREVIEW: 0, Mode.PROGRESSIVE: 3, Mode.RATIO: 6, Mode.PREDICTIVE: 3}


def test_distributions_by_inverse_cdf() -> None:
    us = [(i + 0.5) / 20_000 for i in range(20_000)]
    lognormal = parse_distribution({"dist": "lognormal", "mean": 60, "cv": 1.0}, "talk_s")
    samples = [lognormal.sample(u) for u in us]
    mean = sum(samples) / len(samples)
    sd = (sum((x - mean) ** 2 for x in samples) / len(samples)) ** 0.5
    assert mean == pytest.approx(60, rel=0.01) and sd / mean == pytest.approx(1.0, rel=0.05)
    floored = parse_distribution({"dist": "lognormal", "mean": 60, "cv": 1.0, "min": 30}, "talk_s")
    assert floored.sample(0.01) == 30.0
    exponential = parse_distribution({"dist": "exponential", "mean": 10}, "wrap_s")
    assert exponential.sample(1 - math.exp(-1)) == pytest.approx(10.0)
    assert parse_distribution({"dist": "uniform", "min": 2, "max": 6}, "x").sample(0.25) == 3.0
    assert parse_distribution(7, "x").sample(0.9) == 7.0
