"""`ringcast campaign ...`: create, update, show, list, attach and detach lists, start, pause, resume, stop.

Thin commands over `campaigns.campaign_store` (CMP-1, CMP-3, CMP-5). `create` and `update` take
the same options; each given option becomes a field of a `CampaignSpec`, so `update` changes only
what it is told. Loosening a compliance value below the preset needs `--override-reason`, and is
written to the audit log with the `--actor` (default: the OS user), like every other change.
`show` and `list` print tables, or JSON with `--json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from campaigns import campaign_store as store
from campaigns.compliance.blocklist_store import Change
from campaigns.compliance.presets import AbandonWindow
from campaigns.config import CampaignConfig, CampaignSpec, ListSpec
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import CompliancePreset, DialMode
from cli.blocklist import os_user
from ringcast.settings import load_settings

campaign_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`

ACTOR_HELP = "Who makes the change, for the audit log [default: OS user]."
JSON_HELP = "Print JSON instead of a table."


def open_database() -> Database:
    return Database.open_migrated(load_settings().database_url)


def change_by(actor: str | None) -> Change:
    """Who makes a change (`--actor`, else the OS user), now."""
    return Change(actor or os_user(), datetime.now(UTC))


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _spec_command(apply: Callable[..., CampaignConfig], done: str) -> Callable[..., None]:
    """The `create` or `update` command: the options given, as a spec, through `apply`."""

    def command(
        name: str = typer.Argument(..., help="The campaign's name."),
        mode: DialMode | None = typer.Option(
            None, "--mode", help="How calls are placed [create: progressive]."
        ),
        ratio: float | None = typer.Option(None, "--ratio", help="Calls per free agent, for --mode ratio."),
        lists: list[str] | None = typer.Option(
            None, "--list", help="Attach a list: NAME[:priority[:weight]] (repeatable)."
        ),
        caller_id: str | None = typer.Option(None, "--caller-id", help="The number callees see."),
        trunk: str | None = typer.Option(None, "--trunk", help="The trunk to dial on [create: the first]."),
        group: str | None = typer.Option(None, "--group", help="The agent group that takes the calls."),
        preset: CompliancePreset | None = typer.Option(
            None, "--preset", help="The compliance preset [create: cn]."
        ),
        time_zone: str | None = typer.Option(None, "--time-zone", help="IANA zone of the campaign's day."),
        window: str | None = typer.Option(
            None, "--window", help='Calling hours, callee\'s local time: "09:00-12:00,13:30-20:00".'
        ),
        abandon_cap: float | None = typer.Option(None, "--abandon-cap", help="Share, e.g. 0.03."),
        abandon_window: AbandonWindow | None = typer.Option(None, "--abandon-window", help="Over what."),
        amd_fp_share: float | None = typer.Option(
            None, "--amd-fp-share", help="Estimated share of humans AMD takes for machines (uk)."
        ),
        retry: str | None = typer.Option(None, "--retry", help="Retry delays: no_answer=2h,busy=10m,..."),
        max_attempts: int | None = typer.Option(None, "--max-attempts", help="Attempts per lead."),
        per_number_day: int | None = typer.Option(
            None, "--per-number-day", help="Attempts per number per day, across campaigns."
        ),
        amd: bool | None = typer.Option(None, "--amd/--no-amd", help="Answering-machine detection."),
        abandon_message: str | None = typer.Option(
            None, "--abandon-message", help="Sound played to a caller no agent is free for."
        ),
        announce: bool | None = typer.Option(
            None, "--announce-agent-number/--no-announce-agent-number", help="Announce the agent's number."
        ),
        announce_prompt: str | None = typer.Option(
            None, "--announce-prompt", help="Sound played before the agent's number, e.g. custom/gonghao."
        ),
        dispositions: list[str] | None = typer.Option(
            None, "--disposition", help="CODE:final or CODE:retry[=DELAY] (repeatable; replaces the set)."
        ),
        wrap_up: str | None = typer.Option(None, "--wrap-up", help="Wrap-up timer, e.g. 10s; none: agent."),
        min_wrap: str | None = typer.Option(None, "--min-wrap", help="Minimum wrap-up, e.g. 5s."),
        max_occupancy: float | None = typer.Option(None, "--max-occupancy", help="Per agent, e.g. 0.85."),
        inbound_reserve: int | None = typer.Option(
            None, "--inbound-reserve", help="Ready blended agents kept free for inbound calls [0]."
        ),
        max_lines: int | None = typer.Option(None, "--max-lines", help="Calls in progress at most."),
        calls_per_second: float | None = typer.Option(
            None, "--calls-per-second", help="Originates per second at most (broadcast pacing)."
        ),
        survey: str | None = typer.Option(
            None, "--survey", help="Survey for answered calls (broadcast) or after the agent (post-call)."
        ),
        broadcast_message: str | None = typer.Option(
            None, "--broadcast-message", help="Sound a broadcast campaign plays to answered calls."
        ),
        reach: str | None = typer.Option(
            None, "--reach", help="Widest calls allowed: local, national [default], international (DIAL-8)."
        ),
        whitelist_only: bool | None = typer.Option(
            None, "--whitelist-only/--any-number", help="Dial only numbers on the outbound whitelist."
        ),
        ring_timeout: str | None = typer.Option(None, "--ring-timeout", help="e.g. 25s [the minimum ring]."),
        abandoned_callback: str | None = typer.Option(
            None,
            "--abandoned-callback",
            help="Call abandoned calls back after e.g. 10m [never] (CB-2).",
        ),
        start_at: str | None = typer.Option(
            None, "--start-at", help="Start by itself then, e.g. 2026-12-01T09:00+08:00 (CB-3)."
        ),
        stop_at: str | None = typer.Option(None, "--stop-at", help="Stop by itself then (CB-3)."),
        dialing_hours: str | None = typer.Option(
            None, "--dialing-hours", help="The campaign's own hours, its zone: 09:00-12:00,13:30-18:00."
        ),
        holidays: str | None = typer.Option(
            None, "--holidays", help="Dates it does not dial, its zone: 2026-10-01,2026-10-02."
        ),
        retention_days: str | None = typer.Option(
            None,
            "--retention-days",
            help="Anonymise finished leads this many days after their last activity; forever: keep (CMPL-6).",
        ),
        override_reason: str | None = typer.Option(
            None, "--override-reason", help="Why a compliance value may be looser than the preset (audited)."
        ),
        actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print the campaign as JSON."),
    ) -> None:
        given = {
            "dial_mode": mode,
            "ratio": ratio,
            "lists": lists,
            "caller_id": caller_id,
            "trunk": trunk,
            "group": group,
            "preset": preset,
            "time_zone": time_zone,
            "calling_hours": window,
            "abandon_cap": abandon_cap,
            "abandon_window": abandon_window,
            "amd_false_positive_share": amd_fp_share,
            "retry": retry,
            "max_attempts": max_attempts,
            "attempts_per_number_day": per_number_day,
            "amd": amd,
            "abandon_message": abandon_message,
            "announce_agent_number": announce,
            "announce_prompt": announce_prompt,
            "dispositions": dispositions,
            "wrap_up_s": wrap_up,
            "min_wrap_s": min_wrap,
            "max_occupancy": max_occupancy,
            "inbound_reserve": inbound_reserve,
            "max_lines": max_lines,
            "calls_per_second": calls_per_second,
            "survey": survey,
            "broadcast_message": broadcast_message,
            "reach": reach,
            "whitelist_only": whitelist_only,
            "ring_timeout_s": ring_timeout,
            "abandoned_callback_s": abandoned_callback,
            "start_at": start_at,
            "stop_at": stop_at,
            "dialing_hours": dialing_hours,
            "holidays": holidays,
            "retention_days": retention_days,
        }
        spec = CampaignSpec.parse({key: value for key, value in given.items() if value not in (None, [])})
        trunks = load_settings().trunks
        with open_database() as database:
            config = apply(
                database, name, spec, change_by(actor), trunks=trunks, override_reason=override_reason
            )
        if as_json:
            print_json(config.describe())
        else:
            typer.echo(f"{done} campaign {config.name}: {_summary(config)}")

    return command


campaign_app.command("create", help="Create a draft campaign.")(_spec_command(store.create, "created"))
campaign_app.command("update", help="Change the given settings of a campaign.")(
    _spec_command(store.update, "updated")
)


@campaign_app.command("show")
def show(
    name: str = typer.Argument(..., help="The campaign's name."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Every setting of a campaign, its lists and its dialable leads."""
    with open_database() as database:
        view = store.show(database, name)
    if as_json:
        print_json(view.describe())
        return
    table = Table("setting", "value", title=f"campaign {name}")
    for key, value in view.describe().items():
        table.add_row(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    Console().print(table)


@campaign_app.command("list")
def list_all(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Every campaign with its state, mode, preset, group, lists and dialable leads."""
    with open_database() as database:
        views = store.list_campaigns(database)
    if as_json:
        print_json([view.describe() for view in views])
        return
    table = Table("campaign", "state", "mode", "preset", "group", "lists", "dialable leads")
    for view in views:
        config = view.config
        table.add_row(
            config.name,
            config.state.value,
            config.dial_mode.value,
            config.compliance.preset.value,
            view.group or "-",
            ", ".join(view.list_names[share.list_id] for share in config.lists) or "-",
            f"{view.dialable_leads:,}",
        )
    Console().print(table)


@campaign_app.command("attach")
def attach(
    name: str = typer.Argument(..., help="The campaign's name."),
    lists: list[str] = typer.Argument(..., help="Lists to attach: NAME[:priority[:weight]]."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Attach lists to a campaign, or change their priority and weight."""
    specs = CampaignSpec.parse({"lists": lists}).lists
    with open_database() as database:
        store.attach_lists(database, name, specs, change_by(actor))
    typer.echo(f"attached to campaign {name}: {', '.join(_share_text(spec) for spec in specs)}")


@campaign_app.command("detach")
def detach(
    name: str = typer.Argument(..., help="The campaign's name."),
    list_name: str = typer.Argument(..., help="The list to detach."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Detach a list from a campaign (its leads stay in the list)."""
    with open_database() as database:
        store.detach_list(database, name, list_name, change_by(actor))
    typer.echo(f"detached list {list_name} from campaign {name}")


def _state_command(event: store.CampaignEvent) -> Callable[..., None]:
    def command(
        name: str = typer.Argument(..., help="The campaign's name."),
        actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    ) -> None:
        with open_database() as database:
            move = store.change_state(database, name, event, change_by(actor), trunks=load_settings().trunks)
        state = move.config.state.value
        if move.changed:
            typer.echo(f"campaign {name}: {move.previous.value} -> {state}")
        else:
            typer.echo(f"campaign {name} is already {state}")

    return command


_STATE_HELP = {
    store.CampaignEvent.START: "Start dialing a draft campaign (after checking agents, leads, trunk, hours).",
    store.CampaignEvent.PAUSE: "Pause dialing; calls in progress finish.",
    store.CampaignEvent.RESUME: "Resume a paused campaign (with the same checks as start).",
    store.CampaignEvent.STOP: "Stop a campaign for good.",
}
for _event, _help in _STATE_HELP.items():
    campaign_app.command(_event.value, help=_help)(_state_command(_event))


def _summary(config: CampaignConfig) -> str:
    return f"{config.dial_mode.value}, {config.compliance.preset.value} preset, {config.state.value}"


def _share_text(spec: ListSpec) -> str:
    return f"{spec.name} (priority {spec.priority}, weight {spec.weight})"
