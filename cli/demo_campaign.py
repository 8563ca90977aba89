"""The demo's main act: a predictive campaign on the lab with five simulated agents, then its report.

It dials the imported sample list (`demo-sample`) through the real pbx and carrier: the engine runs
in this process (its control API on a free local port), five bot agents (`dialer.live.bot_agents`)
log in over that API on the carrier's auto-answering phones, and live progress is redrawn every
second until the time is up; the campaign is then paused, the last calls end, and the report
(`reports.campaign_summary`) is printed. The lab's customers answer at any hour, so the demo
campaign opens its calling hours to the whole day, an audited override of the preset.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from campaigns import campaign_store, dial_store
from campaigns.campaign_store import CampaignEvent
from campaigns.compliance.blocklist_store import Change
from campaigns.config import CampaignConfig, CampaignSpec
from campaigns.persistence.db import Database
from dialer.engine import running_engine
from dialer.live.bot_agents import BotAgents, create_lab_agents
from reports.campaign_summary import CampaignSummary, summarise
from ringcast.errors import UserError
from ringcast.settings import Settings

DEMO_LIST = "demo-sample"
GROUP = "demo"
AGENTS = [f"demo{n}" for n in range(1, 6)]
ACTOR = "demo"
CALLS_END_S = 60.0


def run_demo_campaign(settings: Settings, console: Console, seconds: float) -> None:
    database = Database.open_migrated(settings.database_url)
    try:
        config = _prepare(database, settings)
        console.print(
            f"[bold]campaign {config.name}[/]: predictive, AMD on, {len(AGENTS)} simulated agents, "
            f"list {DEMO_LIST}, {seconds:.0f} s"
        )
        started = datetime.now(UTC)
        asyncio.run(_run(database, settings, config, console, seconds))
        console.print()
        console.print(_report(summarise(database, config.id, started, datetime.now(UTC))))
    finally:
        database.dispose()


def _change() -> Change:
    return Change(ACTOR, datetime.now(UTC))


def _prepare(database: Database, settings: Settings) -> CampaignConfig:
    change = _change()
    create_lab_agents(database, GROUP, AGENTS, change, numbered=True)
    spec = CampaignSpec.parse(
        {
            "dial_mode": "predictive",
            "caller_id": "4008001234",
            "group": GROUP,
            "preset": "cn",
            "calling_hours": "00:00-24:00",
            "amd": True,
            "abandon_message": "vm-goodbye",
            "wrap_up_s": 5,
            "max_lines": 30,
            "lists": [{"name": DEMO_LIST}],
        }
    )
    name = f"demo-{change.at.astimezone():%Y%m%d-%H%M%S}"
    reason = "lab demo: the lab's simulated customers answer at any hour"
    trunks = settings.trunks
    campaign_store.create(database, name, spec, change, trunks=trunks, override_reason=reason)
    return campaign_store.change_state(database, name, CampaignEvent.START, change, trunks=trunks).config


async def _run(
    database: Database, settings: Settings, config: CampaignConfig, console: Console, seconds: float
) -> None:
    async with running_engine(database, settings) as client:
        bots = BotAgents(client, AGENTS, config.name, wrap_s=2.0)
        await bots.start()
        await _watch(client, config.name, console, seconds)
        pause = CampaignEvent.PAUSE
        await asyncio.to_thread(campaign_store.change_state, database, config.name, pause, _change())
        with console.status("campaign paused: waiting for the last calls to end"):
            await _calls_end(database, config)
            await asyncio.sleep(3.0)  # the last dispositions
        await bots.stop()


async def _watch(client: httpx.AsyncClient, name: str, console: Console, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    with Live(console=console, auto_refresh=False) as live:
        while (left := deadline - time.monotonic()) > 0:
            status = (await client.get(f"/campaigns/{name}/status")).json()
            live.update(_progress(status, left), refresh=True)
            await asyncio.sleep(min(1.0, left))


def _progress(status: dict[str, object], left: float) -> Table:
    table = Table(title=f"live: {timedelta(seconds=round(left))} left")
    for column in ("lines", "dialed", "answer rate", "abandon rate", "agents", "pacer"):
        table.add_column(column)
    agents = status.get("agents") or {}
    assert isinstance(agents, dict)
    answer, abandon = status.get("answer_rate"), status.get("abandon_rate")
    table.add_row(
        str(status.get("lines", 0)),
        str(status.get("dialed", 0)),
        f"{answer:.0%}" if isinstance(answer, float) else "-",
        f"{abandon:.1%}" if isinstance(abandon, float) else "-",
        ", ".join(f"{n} {state}" for state, n in sorted(agents.items())) or "-",
        str(status.get("decision") or "-"),
    )
    return table


async def _calls_end(database: Database, config: CampaignConfig) -> None:
    deadline = time.monotonic() + CALLS_END_S
    while time.monotonic() < deadline:
        if not await asyncio.to_thread(dial_store.calls_in_progress, database, config.id):
            return
        await asyncio.sleep(0.5)
    raise UserError(f"calls of campaign {config.name} still up {CALLS_END_S:.0f} s after it was paused")


def _report(summary: CampaignSummary) -> Table:
    table = Table("figure", "value", title="campaign report")
    median, worst = summary.connect_ms_median, summary.connect_ms_max
    delay = "-" if median is None else f"{median} / {worst}"
    utilization = "-" if summary.agent_utilization is None else f"{summary.agent_utilization:.0%}"
    for figure, value in (
        ("attempts", str(summary.attempts)),
        ("answer rate", f"{summary.answer_rate:.0%} ({summary.answered})"),
        ("human / machine answers", f"{summary.human} / {summary.machine}"),
        ("connects to agents", str(summary.connects)),
        ("abandon rate", f"{summary.abandon_rate:.1%} ({summary.abandoned})"),
        ("connection delay ms (median / max)", delay),
        ("agent utilization", utilization),
    ):
        table.add_row(figure, value)
    return table
