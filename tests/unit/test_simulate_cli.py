"""`simulate` as a typer command: metrics table, exact JSON, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from cli.simulate import simulate
from dialer.pacing import Pacer
from dialer.simulation.scenario import load_scenario
from dialer.simulation.simulator import campaign_config
from dialer.simulation.simulator import simulate as run_simulation
from ringcast.errors import UserError

KEYS = [
    "utilization",
    "occupancy",
    "abandon_rate",
    "calls_dialed",
    "human_answers",
    "connects",
    "abandoned",
    "amd_false_positives",
    "connects_per_agent_hour",
    "agent_wait_s_mean",
]


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command()(simulate)
    return app


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    raw = {
        "name": "small",
        "duration_s": 900,
        "agents": 3,
        "max_lines": 20,
        "no_answer_timeout_s": 25,
        "outcomes": {
            "answer_human": 0.3,
            "answer_machine": 0.1,
            "busy": 0.1,
            "no_answer": 0.4,
            "invalid": 0.1,
        },
        "ring_to_answer_s": {"dist": "lognormal", "mean": 8, "cv": 0.5, "min": 2},
        "busy_after_s": {"dist": "uniform", "min": 2, "max": 5},
        "invalid_after_s": 2,
        "talk_s": {"dist": "exponential", "mean": 60},
        "machine_talk_s": 5,
        "wrap_s": 10,
        "amd": {"enabled": True, "detect_s": 2.5, "human_as_machine": 0.02, "machine_as_human": 0.1},
        "abandon": {"connect_within_s": 2, "cap": 0.03},
    }
    path.write_text(yaml.safe_dump(raw))
    return path


def test_json_is_exactly_the_metrics(app: typer.Typer, scenario: Path) -> None:
    result = CliRunner().invoke(app, [str(scenario), "--mode", "progressive", "--seed", "4", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert list(printed) == KEYS
    parsed = load_scenario(scenario)
    expected = run_simulation(parsed, Pacer(campaign_config(parsed, "progressive")), 4).as_dict()
    assert printed == expected


def test_table_by_default(app: typer.Typer, scenario: Path) -> None:
    result = CliRunner().invoke(app, [str(scenario)])
    assert result.exit_code == 0, result.output
    assert "small: predictive, seed 1" in result.output
    assert all(key in result.output for key in KEYS)


def test_ratio_option_reaches_the_pacer(app: typer.Typer, scenario: Path) -> None:
    def dialed(ratio: str) -> int:
        result = CliRunner().invoke(app, [str(scenario), "-m", "ratio", "--ratio", ratio, "--json"])
        return int(json.loads(result.output)["calls_dialed"])

    assert dialed("3") > dialed("1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "turbo"], "--mode: unknown mode 'turbo'"),
        (["--mode", "ratio", "--ratio", "0"], "--ratio: must be positive"),
    ],
)
def test_bad_options_are_user_errors(app: typer.Typer, scenario: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [str(scenario), *args])
    assert isinstance(result.exception, UserError)
    assert str(result.exception).startswith(message)


def test_bad_scenario_is_one_line_naming_the_field(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("duration_s: 10\nagents: 0\n")
    result = CliRunner().invoke(app, [str(path)])
    assert isinstance(result.exception, UserError)
    assert str(result.exception) == f"{path}: max_lines: missing"
