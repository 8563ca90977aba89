"""`ringcast queue ...`: inbound queues (skill groups, 技能组, ACD-1) and the agents who serve them.

`create` and `update` take the same options; `update` changes only those given. `--survey NAME`
gives the queue a post-call survey (SRV-2: the caller answers it after the agent ends the call),
`--survey none` takes it away. A setting is
checked as the router will read it (`dialer.acd.queues.QueueConfig`), and the overflows of all
queues together may not loop. `member add` puts an agent last in the queue's order, or changes a
member's skill level or supervisor flag in its place; `member remove` takes it out. `show` and
`list` print tables, or JSON with `--json`. Every change is audited with `--actor` (default: the
OS user). Thin over `campaigns.queue_store`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from campaigns import queue_store as store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from cli.campaign import ACTOR_HELP, JSON_HELP, change_by, open_database, print_json
from dialer.acd.queues import Announced, Strategy

queue_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`
member_app = typer.Typer(no_args_is_help=True, help="The agents of a queue, in order.")
queue_app.add_typer(member_app, name="member")

NAME_HELP = "The queue's name."
NO_SURVEY = "none"
Apply = Callable[[Database, str, Mapping[str, Any], Change], store.StoredQueue]


def _settings_command(apply: Apply, done: str) -> Callable[..., None]:
    """The `create` or `update` command: the options given, as `QueueConfig` settings, through `apply`."""

    def command(
        name: str = typer.Argument(..., help=NAME_HELP),
        strategy: Strategy | None = typer.Option(
            None, "--strategy", help="Which ready agent gets a call [longest_idle]."
        ),
        priority: int | None = typer.Option(
            None, "--priority", help="Agents in several queues serve the higher first [0]."
        ),
        max_wait: float | None = typer.Option(
            None, "--max-wait", help="Seconds a call waits before it overflows [300]."
        ),
        overflow: str | None = typer.Option(
            None, "--overflow", help="queue:NAME, number:+86... or voicemail:BOX [voicemail:NAME]."
        ),
        ring_timeout: float | None = typer.Option(
            None, "--ring-timeout", help="Seconds a ring-mode agent's phone rings [20]."
        ),
        short_abandon: float | None = typer.Option(
            None, "--short-abandon", help="Callers who hang up sooner (s) are short abandons [5]."
        ),
        service_level: str | None = typer.Option(
            None, "--service-level", help="PERCENT/SECONDS: the share to answer within [80/20]."
        ),
        music: str | None = typer.Option(None, "--music", help="The hold music (MOH class) [default]."),
        announce_every: float | None = typer.Option(
            None, "--announce-every", help="Seconds between position announcements; 0: never [never]."
        ),
        announced: Announced | None = typer.Option(
            None, "--announce", help="What the announcements say: position, wait or both [both]."
        ),
        announce_language: str | None = typer.Option(
            None, "--announce-language", help="The announcements' language: zh or en [zh]."
        ),
        memory_days: int | None = typer.Option(
            None, "--memory-days", help="Caller memory: days a repeat caller's agent is kept; 0: off [30]."
        ),
        memory_wait: float | None = typer.Option(
            None, "--memory-wait", help="Seconds a repeat caller waits for that agent [5]."
        ),
        survey: str | None = typer.Option(
            None,
            "--survey",
            help="The survey callers answer after the agent hangs up; none: no survey [none].",
        ),
        actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print the queue as JSON."),
    ) -> None:
        given = {
            "strategy": strategy,
            "priority": priority,
            "max_wait_s": max_wait,
            "overflow": None if overflow is None else store.parse_overflow(overflow),
            "ring_timeout_s": ring_timeout,
            "short_abandon_s": short_abandon,
            "service_level": None if service_level is None else store.parse_service_level(service_level),
            "music_class": music,
            "announce_every_s": announce_every or None,
            "announced": announced,
            "announce_language": announce_language,
            "memory_days": memory_days,
            "memory_wait_s": memory_wait,
        }
        settings: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
        if announce_every == 0:
            settings["announce_every_s"] = None
        if survey is not None:
            settings["survey"] = None if survey.lower() == NO_SURVEY else survey
        with open_database() as database:
            stored = apply(database, name, settings, change_by(actor))
        if as_json:
            print_json(stored.describe())
        else:
            typer.echo(f"{done} queue {stored.config.name}: {_summary(stored)}")

    return command


queue_app.command("create", help="Create a queue (without agents: add them with `member add`).")(
    _settings_command(store.create_queue, "created")
)
queue_app.command("update", help="Change the given settings of a queue.")(
    _settings_command(store.update_queue, "updated")
)


@queue_app.command("show")
def show(
    name: str = typer.Argument(..., help=NAME_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the queue as JSON."),
) -> None:
    """A queue's settings and its agents in order."""
    with open_database() as database:
        stored = store.get_queue(database, name)
    if as_json:
        print_json(stored.describe())
        return
    settings = Table("queue", name, show_header=True)
    for setting, value in _settings(stored):
        settings.add_row(setting, value)
    console = Console()
    console.print(settings)
    if not stored.config.members:
        typer.echo(f"no agents yet (add one with `ringcast queue member add {name} AGENT`)")
        return
    members = Table("#", "agent", "skill", "supervisor", title="agents, in order")
    for place, member in enumerate(stored.config.members, start=1):
        supervisor = "yes" if member.supervisor else "no"
        members.add_row(str(place), stored.agents[member.agent_id], str(member.skill), supervisor)
    console.print(members)


@queue_app.command("list")
def list_all(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Every queue with its strategy, agents, wait limit, overflow and service level."""
    with open_database() as database:
        queues = store.list_queues(database)
    if as_json:
        print_json([stored.describe() for stored in queues])
        return
    if not queues:
        typer.echo("no queues yet (create one with `ringcast queue create NAME`)")
        return
    table = Table("queue", "strategy", "agents", "max wait", "overflow", "service level")
    for stored in queues:
        config = stored.config
        table.add_row(
            config.name,
            config.strategy.value,
            str(len(config.members)),
            f"{config.max_wait_s:g} s",
            store.overflow_text(config.overflow_to),
            store.service_level_text(config.service_level),
        )
    Console().print(table)


@queue_app.command("delete")
def delete(
    name: str = typer.Argument(..., help=NAME_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Delete a queue that no queue overflows to and that has no calls recorded."""
    with open_database() as database:
        store.delete_queue(database, name, change_by(actor))
    typer.echo(f"deleted queue {name}")


@member_app.command("add")
def member_add(
    name: str = typer.Argument(..., help=NAME_HELP),
    agent: str = typer.Argument(..., help="The agent's login name."),
    skill: int | None = typer.Option(None, "--skill", help="Level 1-10 in this queue, higher first [5]."),
    supervisor: bool | None = typer.Option(
        None, "--supervisor/--no-supervisor", help="The queue's supervisor (supervisor_first) [no]."
    ),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Put an agent last in a queue, or change a member's level or supervisor flag in its place."""
    with open_database() as database:
        stored = store.add_member(database, name, agent, change_by(actor), skill=skill, supervisor=supervisor)
    typer.echo(f"queue {name}: {_members(stored)}")


@member_app.command("remove")
def member_remove(
    name: str = typer.Argument(..., help=NAME_HELP),
    agent: str = typer.Argument(..., help="The agent's login name."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Take an agent out of a queue."""
    with open_database() as database:
        stored = store.remove_member(database, name, agent, change_by(actor))
    typer.echo(f"queue {name}: {_members(stored)}")


def _summary(stored: store.StoredQueue) -> str:
    config = stored.config
    overflow = store.overflow_text(config.overflow_to)
    level = store.service_level_text(config.service_level)
    survey = f", survey {stored.survey}" if stored.survey is not None else ""
    return (
        f"{config.strategy.value}, waits {config.max_wait_s:g} s then {overflow}, service level {level},"
        f" {len(config.members)} agent(s){survey}"
    )


def _settings(stored: store.StoredQueue) -> list[tuple[str, str]]:
    config = stored.config
    announce = (
        "never"
        if config.announce_every_s is None
        else f"{config.announced.value} every {config.announce_every_s:g} s, in {config.announce_language}"
    )
    memory = (
        "off" if config.memory_days == 0 else f"{config.memory_days} days, waits {config.memory_wait_s:g} s"
    )
    return [
        ("strategy", config.strategy.value),
        ("priority", str(config.priority)),
        ("max wait", f"{config.max_wait_s:g} s"),
        ("overflow", store.overflow_text(config.overflow_to)),
        ("ring timeout", f"{config.ring_timeout_s:g} s"),
        ("short abandon", f"{config.short_abandon_s:g} s"),
        ("service level", store.service_level_text(config.service_level)),
        ("music", config.music_class),
        ("announcements", announce),
        ("caller memory", memory),
        ("post-call survey", stored.survey or NO_SURVEY),
        ("settings updated", f"{stored.updated_at:%Y-%m-%d %H:%M} UTC"),
    ]


def _members(stored: store.StoredQueue) -> str:
    """`agent1 (skill 7, supervisor), agent2 (skill 5)`, in order."""
    described = [
        f"{stored.agents[m.agent_id]} (skill {m.skill}{', supervisor' if m.supervisor else ''})"
        for m in stored.config.members
    ]
    return ", ".join(described) or "no agents"
