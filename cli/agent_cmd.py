"""`ringcast agent ...` and `ringcast group ...`: agents (座席) and their groups (技能组).

The administration commands here work on the database through `campaigns.agent_store`: create,
list, show, update and deactivate agents; create and list groups, add agents to them and take them
out. An agent is in ring mode (`--ring-mode`, ACD-6: its phone is called for each inbound call)
or, by default, on a persistent connection (its phone kept in its conference while logged in).
The desk commands (login, logout, ready, pause, hangup, disposition, callback, preview, call,
status) go to the running engine's control API (`ringcast serve`).
Every change is audited with `--actor` (default: the OS user). An agent's phone is a PJSIP
endpoint (`PJSIP/agent1`) or, for a remote agent (AGT-6), a number dialled through the trunk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from campaigns import agent_store as store
from cli.campaign import ACTOR_HELP, JSON_HELP, change_by, open_database, print_json
from cli.engine_client import call_engine
from ringcast.errors import UserError
from ringcast.settings import load_settings

agent_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`
RING_MODE_HELP = "Ring mode: the phone is called for each inbound call, not kept up (ACD-6)."
group_app = typer.Typer(no_args_is_help=True)


@agent_app.command("create")
def create(
    name: str = typer.Argument(..., help="The agent's login name."),
    phone: str = typer.Option(..., "--phone", help="PJSIP/agent1, or a number for a remote agent."),
    display_name: str | None = typer.Option(None, "--display-name", help="Shown name [default: NAME]."),
    number: str | None = typer.Option(None, "--number", help="Agent number (工号) announced to callees."),
    groups: list[str] | None = typer.Option(None, "--group", help="A group to join (repeatable)."),
    ring_mode: bool = typer.Option(False, "--ring-mode", help=RING_MODE_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Create an agent (logged out)."""
    with open_database() as database:
        change = change_by(actor)
        agent = store.create_agent(
            database,
            name,
            display_name=display_name,
            dial_string=phone,
            agent_number=number,
            groups=groups or [],
            change=change,
            ring_mode=ring_mode,
        )
    mode = ", ring mode" if ring_mode else ""
    groups_text = ", ".join(agent.groups) or "-"
    typer.echo(f"created agent {agent.name} ({agent.dial_string}{mode}), groups: {groups_text}")


@agent_app.command("update")
def update(
    name: str = typer.Argument(..., help="The agent's login name."),
    ring_mode: bool = typer.Option(
        ..., "--ring-mode/--persistent", help=f"{RING_MODE_HELP} --persistent: phone kept up while logged in."
    ),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Change how a logged-out agent's phone takes calls."""
    with open_database() as database:
        changed = store.set_ring_mode(database, name, ring_mode, change_by(actor))
    mode = "in ring mode" if ring_mode else "on a persistent connection"
    typer.echo(f"agent {name} is {'now' if changed else 'already'} {mode}")


@agent_app.command("list")
def list_agents(
    include_inactive: bool = typer.Option(False, "--all", help="Deactivated agents too."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Every active agent, with its phone, number, state and groups."""
    with open_database() as database:
        agents = store.list_agents(database, include_inactive=include_inactive)
    if as_json:
        print_json([agent.describe() for agent in agents])
        return
    table = Table("agent", "name", "phone", "mode", "number", "state", "groups", "active")
    for agent in agents:
        table.add_row(
            agent.name,
            agent.display_name,
            agent.dial_string,
            "ring" if agent.ring_mode else "persistent",
            agent.agent_number or "-",
            agent.state.value,
            ", ".join(agent.groups) or "-",
            "yes" if agent.active else "no",
        )
    Console().print(table)


@agent_app.command("show")
def show(
    name: str = typer.Argument(..., help="The agent's login name."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """One agent's settings and current state."""
    with open_database() as database:
        described = store.load_agent(database, name).describe()
    if as_json:
        print_json(described)
        return
    table = Table("setting", "value", title=f"agent {name}")
    for key, value in described.items():
        table.add_row(key, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
    Console().print(table)


@agent_app.command("deactivate")
def deactivate(
    name: str = typer.Argument(..., help="The agent's login name."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Deactivate a logged-out agent (kept for the call records)."""
    with open_database() as database:
        changed = store.deactivate_agent(database, name, change_by(actor))
    typer.echo(f"deactivated agent {name}" if changed else f"agent {name} is already inactive")


# ---- the engine's agent operations (AGT-1, AGT-4): through the control API of `ringcast serve`


def _agent_call(path: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
    return call_engine(load_settings(), method, path, body)


def _print_state(status: dict[str, Any]) -> None:
    extra = f" ({status['reason']})" if status.get("reason") else ""
    call = f", call {status['call']}" if status.get("call") else ""
    typer.echo(f"agent {status.get('agent', '?')}: {status['state']}{extra}{call}")


@agent_app.command("login")
def login(
    name: str = typer.Argument(..., help="The agent's login name."),
    campaign: str | None = typer.Option(None, "--campaign", help="Campaign to work [default: the group's]."),
    inbound_only: bool = typer.Option(
        False, "--inbound-only", help="No campaign: take the calls of the agent's queues only."
    ),
) -> None:
    """Call the agent's phone and keep it in the agent's conference; ready once it answers (AGT-2).
    An agent in ring mode is ready at once: its phone is called for each inbound call."""
    body = {"campaign": campaign, "inbound_only": inbound_only}
    _print_state(_agent_call(f"/agents/{name}/login", body))


@agent_app.command("logout")
def logout(name: str = typer.Argument(..., help="The agent's login name.")) -> None:
    """Log out: the phone leg is hung up."""
    _print_state(_agent_call(f"/agents/{name}/logout"))


@agent_app.command("ready")
def ready(name: str = typer.Argument(..., help="The agent's login name.")) -> None:
    """Ready for calls (示闲); ends wrap-up or a pause."""
    _print_state(_agent_call(f"/agents/{name}/ready"))


@agent_app.command("pause")
def pause(
    name: str = typer.Argument(..., help="The agent's login name."),
    reason: str = typer.Option(..., "--reason", help="Why: break, meeting, training..."),
) -> None:
    """Not ready (示忙), with a reason."""
    _print_state(_agent_call(f"/agents/{name}/pause", {"reason": reason}))


@agent_app.command("hangup")
def hangup(name: str = typer.Argument(..., help="The agent's login name.")) -> None:
    """End the customer's call."""
    _print_state(_agent_call(f"/agents/{name}/hangup"))


_CONTROLS = {  # in-call controls without an argument (AGT-4): command -> what its help says
    "hold": "Put the customer on hold (music); the agent stays in its conference.",
    "resume": "Bring the held customer back to the agent.",
    "conference": "Three-way: the held customer joins the agent and the party consulted.",
    "complete": "Attended transfer: the customer goes to the party brought in; the agent leaves.",
    "cancel": "Let the party brought in go; the customer is back with the agent.",
    "mute": "Mute the agent toward the customer (and any party brought in).",
    "unmute": "The customer hears the agent again.",
}


def _control_command(control: str, help_text: str) -> None:
    def command(name: str = typer.Argument(..., help="The agent's login name.")) -> None:
        _print_legs(_agent_call(f"/agents/{name}/{control}"))

    agent_app.command(control, help=help_text)(command)


for _control, _help in _CONTROLS.items():
    _control_command(_control, _help)


def _print_legs(status: dict[str, Any]) -> None:
    _print_state(status)
    typer.echo(f"legs: {status['legs'] or 'off the call'}")


@agent_app.command("transfer")
def transfer(
    name: str = typer.Argument(..., help="The agent's login name."),
    to: str = typer.Argument(..., help="agent:NAME, queue:NAME, flow:NAME or number:NUMBER."),
) -> None:
    """Blind transfer (转接) of the customer; the agent goes to wrap-up."""
    _print_legs(_agent_call(f"/agents/{name}/transfer", {"to": to}))


@agent_app.command("consult")
def consult(
    name: str = typer.Argument(..., help="The agent's login name."),
    to: str = typer.Argument(..., help="A number to dial in, or agent:NAME (a ready agent) to bring in."),
    three_way: bool = typer.Option(
        False, "--three-way", help="Keep the customer in the call (三方通话) instead of holding it."
    ),
) -> None:
    """Bring a third party (a number, another agent) into the agent's call, the customer on hold (or
    with --three-way, in); then `conference`, `complete` (attended transfer) or `cancel`."""
    control = "add" if three_way else "consult"
    target = to if ":" in to else f"number:{to}"
    _print_legs(_agent_call(f"/agents/{name}/{control}", {"to": target}))


@agent_app.command("disposition")
def disposition(
    name: str = typer.Argument(..., help="The agent's login name."),
    code: str = typer.Argument(..., help="One of the campaign's disposition codes."),
    stay: bool = typer.Option(False, "--stay", help="Stay in wrap-up instead of becoming ready."),
) -> None:
    """The result of the agent's last call (CMP-5); then ready."""
    status = _agent_call(f"/agents/{name}/disposition", {"code": code, "ready": not stay})
    _print_state(status)
    typer.echo(f"lead: {status['lead_state']}")


@agent_app.command("sms")
def sms(
    name: str = typer.Argument(..., help="The agent's login name."),
    text: str = typer.Argument(..., help="The message to the customer on the agent's screen."),
) -> None:
    """Send an SMS to the customer of the agent's call (or of the call awaiting its disposition)."""
    sent = _agent_call(f"/agents/{name}/sms", {"text": text})
    typer.echo(f"SMS {sent['sms_id']} to {sent['to']} {sent['state']}, {sent['segments']} part(s)")


@agent_app.command("callback")
def callback(
    name: str = typer.Argument(..., help="The agent's login name."),
    at: datetime = typer.Option(..., "--at", help="When, e.g. 2026-12-01T10:30+08:00 (the customer's time)."),
    code: str = typer.Option("call_back_later", "--code", help="A retryable disposition code."),
    mine: bool = typer.Option(False, "--mine", help="This agent calls back (else any agent)."),
) -> None:
    """The customer asked to be called back at a time (AGT-4, CB-1)."""
    if at.tzinfo is None:
        raise UserError(f"callback --at {at.isoformat()}: give the UTC offset, e.g. {at.isoformat()}+08:00")
    body = {"code": code, "callback_at": at.isoformat(), "mine": mine}
    status = _agent_call(f"/agents/{name}/disposition", body)
    _print_state(status)
    typer.echo(f"lead: {status['lead_state']}, callback at {at.isoformat()}")


@agent_app.command("preview")
def preview(
    name: str = typer.Argument(..., help="The agent's login name."),
    dial: bool = typer.Option(False, "--dial", help="Dial the lead being previewed."),
    skip: bool = typer.Option(False, "--skip", help="Skip it: it comes back later."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Preview dialing (DIAL-1): show the next lead (the agent waits, paused), then --dial or --skip it."""
    if dial and skip:
        raise UserError("agent preview: give --dial or --skip, not both")
    path = "/preview/dial" if dial else "/preview/skip" if skip else "/preview"
    result = _agent_call(f"/agents/{name}{path}")
    if as_json or path == "/preview":
        print_json(result)
    else:
        _print_state(result)


@agent_app.command("call")
def call(
    name: str = typer.Argument(..., help="The agent's login name."),
    number: str = typer.Argument(..., help="E.164, or a national number of the default region."),
) -> None:
    """Click-to-call (DIAL-2): dial a number for the agent, checked like every dial."""
    _print_state(_agent_call(f"/agents/{name}/call", {"number": number}))


@agent_app.command("status")
def status(
    name: str | None = typer.Argument(None, help="One agent [default: every logged-in agent]."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Agents' live states as the engine sees them."""
    rows: list[dict[str, Any]] = (
        [_agent_call(f"/agents/{name}", method="GET")] if name else _agent_call("/agents", method="GET")
    )
    if as_json:
        print_json(rows)
        return
    for row in rows:
        _print_state(row)


@group_app.command("create")
def create_group(
    name: str = typer.Argument(..., help="The group's name."),
    description: str | None = typer.Option(None, "--description", help="What the group is for."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Create an agent group."""
    with open_database() as database:
        store.create_group(database, name, description, change_by(actor))
    typer.echo(f"created agent group {name}")


@group_app.command("list")
def list_groups(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Every group with its active agents."""
    with open_database() as database:
        groups = store.list_groups(database)
    if as_json:
        print_json([{"name": g.name, "description": g.description, "agents": list(g.agents)} for g in groups])
        return
    table = Table("group", "description", "agents")
    for group in groups:
        table.add_row(group.name, group.description or "", ", ".join(group.agents) or "-")
    Console().print(table)


@group_app.command("add")
def add(
    group: str = typer.Argument(..., help="The group's name."),
    agents: list[str] = typer.Argument(..., help="Agents to add."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Add agents to a group."""
    with open_database() as database:
        added = store.add_to_group(database, group, agents, change_by(actor))
    typer.echo(f"group {group}: added {', '.join(added) or 'nobody new'}")


@group_app.command("remove")
def remove(
    group: str = typer.Argument(..., help="The group's name."),
    agents: list[str] = typer.Argument(..., help="Agents to take out."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Take agents out of a group."""
    with open_database() as database:
        removed = store.remove_from_group(database, group, agents, change_by(actor))
    typer.echo(f"group {group}: removed {', '.join(removed) or 'nobody (none was in it)'}")
