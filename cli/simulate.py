"""`ringcast simulate SCENARIO.yaml`: run a pacing scenario through the simulator and print its metrics.

The pacer is built from the scenario's campaign settings only (cap, grace, AMD on/off, max lines);
what it knows of answer rates and call times it learns during the run, as it would live.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dialer.pacing import Mode, Pacer
from dialer.simulation import simulator
from dialer.simulation.scenario import load_scenario
from ringcast.errors import UserError

_FRACTIONS = ("utilization", "occupancy", "abandon_rate", "inbound_service_level", "agent_utilization")


def simulate(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML, see shared/scenarios/README.md)."),
    mode: str = typer.Option("predictive", "--mode", "-m", help="preview, progressive, ratio or predictive."),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives the same run."),
    json_out: bool = typer.Option(False, "--json", help="Print the metrics as JSON only."),
    ratio: float = typer.Option(2.0, "--ratio", help="Calls in progress per ready agent, for --mode ratio."),
) -> None:
    # its help: `cli.main.COMMANDS`
    modes = [m.value for m in Mode]
    if mode not in modes:
        raise UserError(f"--mode: unknown mode {mode!r} (expected one of {', '.join(modes)})")
    if ratio <= 0:
        raise UserError(f"--ratio: must be positive (got {ratio:g})")
    parsed = load_scenario(scenario)
    pacer = Pacer(simulator.campaign_config(parsed, mode, ratio))
    metrics = simulator.simulate(parsed, pacer, seed).as_dict()
    if json_out:
        typer.echo(json.dumps(metrics, indent=2))
        return
    table = Table(title=f"{parsed.name}: {mode}, seed {seed}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(
            name,
            f"{value:.4f}"
            if name in _FRACTIONS
            else f"{value:.2f}"
            if isinstance(value, float)
            else str(value),
        )
    Console(highlight=False).print(table)
