"""`ringcast demo`: what the product does today, end to end on the lab.

First one call per carrier behaviour through the real pbx → carrier trunk, with what Asterisk
reported for each; then the main job (`demo_campaign`): a predictive campaign over the imported
sample list with five simulated agents, live progress, and its report.
"""

from __future__ import annotations

import asyncio
import sys

import typer
from rich.console import Console
from rich.table import Table

from cli.demo_campaign import run_demo_campaign
from dialer.asterisk.ami import AmiLink, endpoint_from_settings
from dialer.asterisk.carrier_plan import behaviour_for
from dialer.asterisk.probe import CallProbe, ProbeResult
from ringcast.settings import load_settings

# One lab number per customer behaviour (see docs/lab.md for the digit scheme).
DEMO_NUMBERS = [
    "13800137020",  # human, sends 7
    "13800135131",  # human, sends 5
    "13800130124",  # answering machine
    "13800130016",  # busy
    "13800130207",  # no answer
    "13800130018",  # congestion
    "13800130019",  # invalid number
]


def demo(
    seconds: float = typer.Option(120.0, "--seconds", help="How long the demo campaign dials."),
) -> None:
    # its help: `cli.main.COMMANDS`
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print("[bold]ringcast demo[/]: calls through the lab's pbx → carrier trunk")
    with console.status("calling…"):
        results = asyncio.run(_place_calls())
    table = Table("number", "carrier plays", "outcome", "AMD", "DTMF", "talk s", "hang-up cause")
    for column in table.columns:
        column.no_wrap = column.header != "carrier plays"
    for result in results:
        table.add_row(
            result.number,
            behaviour_for(result.number).describe(),
            result.outcome,
            f"{result.amd_status} {result.amd_cause}".strip() or "-",
            result.digits or "-",
            f"{result.talk_s:.1f}" if result.talk_s is not None else "-",
            f"{result.hangup_cause} {result.hangup_cause_text}" if result.hangup_cause is not None else "-",
        )
    console.print(table)
    run_demo_campaign(load_settings(), console, seconds)


async def _place_calls() -> list[ProbeResult]:
    link = AmiLink(endpoint_from_settings(load_settings()))
    await link.connect()
    try:
        return await CallProbe(link, caller_id="ringcast <4008001234>").run(DEMO_NUMBERS, ring_timeout_s=8.0)
    finally:
        await link.close()
