"""`ringcast campaign status [--watch]` and `ringcast campaign why`: a running campaign, seen live.

Both ask the running engine (`ringcast serve`) through its control API; `why` answers from the
database alone when no engine runs, and says so; `status` then says the engine is not running.
`status --watch` redraws every second until Ctrl-C:
dial level, lines in progress, answer rate, rolling abandon rate against the cap, agents by state
and their idle time, and the pacer's reasoning (DIAL-9).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from campaigns import campaign_store, hopper
from cli.campaign import JSON_HELP, open_database, print_json
from cli.engine_client import call_engine, engine_running
from dialer.live.why import DialingFacts, why_not_dialing
from ringcast.settings import load_settings

REFRESH_S = 1.0


def why(
    name: str = typer.Argument(..., help="The campaign's name."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Every reason the campaign is not dialing right now, with counts."""
    settings = load_settings()
    if engine_running(settings):
        answer: dict[str, Any] = call_engine(settings, "GET", f"/campaigns/{name}/why")
    else:
        with open_database() as database:
            config = campaign_store.load_campaign(database, name)
            counts = hopper.lead_counts(database, config, datetime.now(UTC))
        facts = DialingFacts(
            campaign=name,
            state=config.state.value,
            engine_running=False,
            due_leads=counts.due,
            later_leads=counts.later,
            next_due_at=counts.next_due_at,
        )
        answer = {"campaign": name, "reasons": why_not_dialing(facts), "leads": counts.by_state}
    if as_json:
        print_json(answer)
        return
    reasons = answer["reasons"] or ["nothing: it is dialing"]
    typer.echo(f"campaign {name} is not dialing because of:" if answer["reasons"] else f"campaign {name}:")
    for reason in reasons:
        typer.echo(f"  - {reason}")


def status(
    name: str = typer.Argument(..., help="The campaign's name."),
    watch: bool = typer.Option(False, "--watch", help="Redraw every second until Ctrl-C."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Live pacing of a running campaign: lines, rates, agents, the pacer's reasoning."""
    settings = load_settings()
    if as_json:
        print_json(call_engine(settings, "GET", f"/campaigns/{name}/status"))
        return
    if not watch:
        Console().print(_view(call_engine(settings, "GET", f"/campaigns/{name}/status")))
        return
    with Live(_view(call_engine(settings, "GET", f"/campaigns/{name}/status")), auto_refresh=False) as live:
        try:
            while True:
                time.sleep(REFRESH_S)
                live.update(_view(call_engine(settings, "GET", f"/campaigns/{name}/status")), refresh=True)
        except KeyboardInterrupt:
            pass


def _rate(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def _view(data: dict[str, Any]) -> Group | Table:
    if not data.get("running"):
        table = Table(title=f"campaign {data['campaign']}: not running in the engine")
        table.add_column("AMI")
        table.add_row("up" if data.get("ami_up") else "down")
        return table
    pacing = Table(title=f"campaign {data['campaign']} ({data['mode']})")
    for column in ("lines", "hopper", "dialed", "answer rate", "abandon rate", "cap", "free agents", "risk"):
        pacing.add_column(column, justify="right")
    free = data.get("expected_free_agents")
    risk, budget = data.get("risk"), data.get("risk_budget")
    pacing.add_row(
        str(data["lines"]),
        str(data["hopper"]),
        str(data["dialed"]),
        _rate(data.get("answer_rate")),
        _rate(data.get("abandon_rate")),
        _rate(data.get("abandon_cap")),
        "-" if free is None else f"{free:.1f}",
        "-" if risk is None else f"{risk:.3f} / {budget:.3f}",
    )
    agents = Table(title="agents")
    agents.add_column("state")
    agents.add_column("count", justify="right")
    for state, count in sorted(data.get("agents", {}).items()):
        agents.add_row(state, str(count))
    idle = Table(title="ready agents, idle seconds")
    idle.add_column("agent")
    idle.add_column("idle s", justify="right")
    for agent, seconds in sorted(data.get("agents_idle_s", {}).items(), key=lambda item: -item[1]):
        idle.add_row(agent, f"{seconds:.0f}")
    decision = Table(title="pacer")
    decision.add_column("last decision")
    decision.add_row(str(data.get("decision") or "-"))
    return Group(pacing, agents, idle, decision)
