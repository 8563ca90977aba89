"""`ringcast ivr ...`: IVR flows as data (IVR-1..IVR-3, IVR-5), and which inbound number runs which flow.

`validate` checks a YAML or JSON flow and lists every problem, one line each with its place in
the document; `--sounds DIR` also checks audio prompts against the sound files the PBX has. Only a
flow with survey nodes needs the database: their surveys must be stored. `create` and `update`
store a flow (the document its name says); a flow with problems is kept as an inactive draft,
with its problems listed, and becomes active only once it has none (`--activate`, or `activate`
later). `test` walks a stored flow or a file with given key presses,
caller facts and time, and prints the actions and the path, without a phone. `did set` gives a
DID its flows by time of day (`--rule 'flow=night hours=18:00-09:00'`) and the message played
when none applies, or sends it straight to an agent or a queue (`--agent`, `--queue`: 直拨, ACD-9).
Thin over `campaigns.ivr_store` and `dialer.ivr`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from campaigns import ivr_store as store
from campaigns.config import NEVER, parse_duration
from campaigns.number_facts import number_facts
from campaigns.surveys.document import Prompt
from cli.campaign import ACTOR_HELP, JSON_HELP, change_by, open_database, print_json
from dialer.ivr.actions import spoken
from dialer.ivr.checks import flow_problems
from dialer.ivr.did_plan import flow_for, parse_plan, rule_from_text, rule_text
from dialer.ivr.facts import CallerFacts
from dialer.ivr.flow import Flow, parse_flow
from dialer.ivr.problems import FlowError
from dialer.ivr.run import FlowRun
from dialer.ivr.script import events_from_keys, walk
from dialer.ivr.windows import DEFAULT_ZONE
from ringcast.errors import UserError
from ringcast.settings import load_settings

ivr_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`
did_app = typer.Typer(no_args_is_help=True, help="Inbound numbers (呼入号码) and their flows.")
ivr_app.add_typer(did_app, name="did")
console = Console(highlight=False, soft_wrap=True)

FILE_HELP = "The flow, YAML or JSON."
SOUNDS_HELP = "A directory of the PBX's sound files: audio prompts must be there (repeatable)."
ACTIVATE_HELP = "Make it active too (only without problems)."


@ivr_app.command("validate")
def validate(
    file: Path = typer.Argument(..., help=FILE_HELP),
    sounds: list[Path] | None = typer.Option(None, "--sounds", help=SOUNDS_HELP),
) -> None:
    """Check a flow: shapes, DTMF keys, targets, unreachable nodes, loops without exit, sounds, surveys."""
    flow = _read(file)
    _listed(str(file), flow_problems(flow, _sound_finder(sounds), _survey_finder(flow)))
    console.print(f"{file}: flow {flow.name}, {len(flow.nodes)} nodes: valid", markup=False)


@ivr_app.command("create")
def create(
    file: Path = typer.Argument(..., help=FILE_HELP),
    activate: bool = typer.Option(False, "--activate", help=ACTIVATE_HELP),
    sounds: list[Path] | None = typer.Option(None, "--sounds", help=SOUNDS_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Store a new flow (version 1); inactive unless --activate."""
    _save(file, activate, sounds, actor, new=True)


@ivr_app.command("update")
def update(
    file: Path = typer.Argument(..., help="The flow, YAML or JSON: its name says which flow it replaces."),
    activate: bool = typer.Option(False, "--activate", help=ACTIVATE_HELP),
    sounds: list[Path] | None = typer.Option(None, "--sounds", help=SOUNDS_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Replace a flow's document, as its next version; an active flow stays active."""
    _save(file, activate, sounds, actor, new=False)


@ivr_app.command("activate")
def activate(
    name: str = typer.Argument(..., help="The flow's name."),
    sounds: list[Path] | None = typer.Option(None, "--sounds", help=SOUNDS_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Put a flow without problems in service (inbound numbers may then use it)."""
    with open_database() as database:
        stored = _problems_listed(
            name, lambda: store.activate_flow(database, name, change_by(actor), _sound_finder(sounds))
        )
    typer.echo(f"IVR flow {name}, version {stored.version}: active")


@ivr_app.command("deactivate")
def deactivate(
    name: str = typer.Argument(..., help="The flow's name."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Take a flow out of service (refused while an inbound number uses it)."""
    with open_database() as database:
        stored = store.deactivate_flow(database, name, change_by(actor))
    typer.echo(f"IVR flow {name}, version {stored.version}: inactive")


@ivr_app.command("show")
def show(
    name: str = typer.Argument(..., help="The flow's name."),
    as_json: bool = typer.Option(False, "--json", help="Print the parsed flow as JSON."),
) -> None:
    """Print a stored flow's document as written (what update takes), with its version and state."""
    with open_database() as database:
        stored = store.get_flow(database, name)
    if as_json:
        flow = stored.flow.model_dump(mode="json", exclude_none=True)
        state = {"name": stored.name, "version": stored.version, "active": stored.active}
        print_json({**state, "updated_at": stored.updated_at.isoformat(), "flow": flow})
        return
    typer.echo(f"# IVR flow {stored.name}, version {stored.version}, {_state(stored.active)}")
    typer.echo(stored.document, nl=not stored.document.endswith("\n"))


@ivr_app.command("list")
def list_all() -> None:
    """Every stored flow with its version, state and number of nodes."""
    with open_database() as database:
        flows = store.list_flows(database)
    if not flows:
        typer.echo("no IVR flows yet (store one with `ringcast ivr create FILE`)")
        return
    table = Table("flow", "version", "state", "nodes", "updated")
    for stored in flows:
        updated = f"{stored.updated_at:%Y-%m-%d %H:%M} UTC"
        table.add_row(
            stored.name, str(stored.version), _state(stored.active), str(len(stored.flow.nodes)), updated
        )
    Console().print(table)


@ivr_app.command("test")
def test(
    flow_ref: str = typer.Argument(..., metavar="NAME|FILE", help="A stored flow's name, or a flow file."),
    keys: str = typer.Option("", "--keys", help="The caller's inputs: 1,2,8005551234# (empty: a timeout)."),
    caller: str = typer.Option("", "--caller", help="The caller's number (its province is looked up)."),
    region: str | None = typer.Option(None, "--region", help="The caller's province [default: looked up]."),
    tags: list[str] | None = typer.Option(None, "--tag", help="A tag of the caller: vip (repeatable)."),
    fields: list[str] | None = typer.Option(None, "--field", help="A customer record field: level=gold."),
    at: str | None = typer.Option(None, "--at", help="The call's time: 2026-12-01T10:00+08:00 [now]."),
) -> None:
    """Walk a flow with given key presses and print the actions and the path, without a phone."""
    flow = _flow_to_test(flow_ref)
    facts = CallerFacts(caller, region or _province(caller), frozenset(tags or ()), _record(fields or []))
    run = FlowRun(flow, facts, _instant(at))
    who = f"caller {caller or '-'} ({facts.region or 'region unknown'})"
    typer.echo(f"flow {flow.name}, {who}, at {run.at.isoformat()}")
    for line in walk(run, events_from_keys(keys)):
        typer.echo(line)
    trail = run.trail
    typer.echo(f"path: {' > '.join(trail.path)}")
    typer.echo(f"variables: {', '.join(f'{k}={v}' for k, v in trail.variables.items()) or '-'}")


@did_app.command("set")
def did_set(
    did: str = typer.Argument(..., help="The inbound number: +864001234567, or a short number."),
    flow: str | None = typer.Option(
        None, "--flow", help="The flow when no rule applies [none: the message]."
    ),
    rules: list[str] | None = typer.Option(
        None,
        "--rule",
        help="'flow=F hours=09:00-18:00 days=mon-fri dates=... holidays=...' (repeatable, in order).",
    ),
    zone: str | None = typer.Option(None, "--zone", help=f"The rules' time zone [{DEFAULT_ZONE}]."),
    agent: str | None = typer.Option(
        None, "--agent", help="Instead of flows: straight to this agent (login name or number, 工号)."
    ),
    queue: str | None = typer.Option(
        None,
        "--queue",
        help="Instead of flows: straight to this queue; with --agent, the queue its calls wait in"
        " [the agent's first].",
    ),
    vip_priority: int | None = typer.Option(
        None, "--vip-priority", help="With --agent/--queue: added to a VIP caller's priority, 0-100 [0]."
    ),
    fallback_after: str | None = typer.Option(
        None,
        "--fallback-after",
        help="With --agent: after this long (e.g. 30s), or at once when the agent is logged out or not"
        " in the queue, any agent of its queue takes the call [never].",
    ),
    blacklisted: str | None = typer.Option(
        None,
        "--blacklisted",
        help="With --agent/--queue: how a blacklisted caller is refused, message or busy [message].",
    ),
    message: str | None = typer.Option(None, "--message", help="Said when no flow applies (TTS text)."),
    message_audio: str | None = typer.Option(None, "--message-audio", help="... or a sound file instead."),
    missed_callback: str | None = typer.Option(
        None,
        "--missed-callback",
        help="The campaign whose agents call back the number's missed calls ('none': nobody) [as before].",
    ),
    missed_callback_after: str = typer.Option(
        "0s", "--missed-callback-after", help="How long after the missed call, e.g. 5m."
    ),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Give an inbound number its flow and time rules, or the agent or queue it goes straight to
    (replacing its plan), its default message and who calls back the calls it misses (CB-2)."""
    direct = {
        "agent": agent,
        "queue": queue,
        "vip_priority": vip_priority,
        "blacklisted": blacklisted,
        "fallback_after_s": _seconds("--fallback-after", fallback_after),
    }
    plan = parse_plan(_plan_data(flow, rules or [], zone, direct), f"DID {did}")
    spoken_message = _message(message, message_audio)
    callback = _missed_callback(missed_callback, missed_callback_after)
    with open_database() as database:
        number = store.set_number(database, did, plan, change_by(actor), spoken_message, callback)
    typer.echo(f"DID {number.did}: {_plan_text(number)}")


def _plan_data(
    flow: str | None, rules: list[str], zone: str | None, direct: Mapping[str, object]
) -> dict[str, Any]:
    """The plan the options give: flows by time, or (`--agent`, `--queue`) the direct route."""
    given = {key: value for key, value in direct.items() if value is not None}
    if "agent" not in given and "queue" not in given:
        if given:
            raise UserError(
                "--vip-priority, --blacklisted and --fallback-after go with --agent or --queue:"
                " a flow has its own settings"
            )
        plan: dict[str, Any] = {"flow": flow, "rules": [rule_from_text(rule) for rule in rules]}
        return plan | ({"zone": zone} if zone else {})
    if flow is not None or rules or zone is not None:
        raise UserError(
            "--agent/--queue: a number goes straight there or runs flows (--flow, --rule, --zone), not both"
        )
    return {"direct": given}


def _missed_callback(campaign: str | None, after: str) -> store.MissedCallback | store.KeepSetting | None:
    if campaign is None:
        return store.KEEP
    if campaign.strip().lower() in NEVER:
        return None
    seconds = _seconds("--missed-callback-after", after)
    assert seconds is not None
    return store.MissedCallback(campaign, round(seconds))


def _seconds(option: str, duration: str | None) -> float | None:
    """The option's duration (`30s`, `5m`) in seconds; None when not given."""
    if duration is None:
        return None
    try:
        return parse_duration(duration)
    except ValueError as error:
        raise UserError(f"{option} {duration!r}: {error}") from None


@did_app.command("list")
def did_list(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Every inbound number with its flows and the one it runs now."""
    with open_database() as database:
        numbers = store.list_numbers(database)
    now = datetime.now(UTC)
    if as_json:
        print_json([_number_json(number, now) for number in numbers])
        return
    if not numbers:
        typer.echo("no inbound numbers yet (add one with `ringcast ivr did set DID --flow F`)")
        return
    table = Table("DID", "plan", "now", "default message")
    for number in numbers:
        now_flow = flow_for(number.plan, now) or ("(direct)" if number.plan.direct else "(message)")
        table.add_row(number.did, _plan_text(number), now_flow, spoken(number.default_message))
    Console().print(table)


@did_app.command("remove")
def did_remove(
    did: str = typer.Argument(..., help="The inbound number."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Forget an inbound number's flows and message."""
    with open_database() as database:
        store.remove_number(database, did, change_by(actor))
    typer.echo(f"DID {did}: removed")


def _save(file: Path, activate: bool, sounds: list[Path] | None, actor: str | None, *, new: bool) -> None:
    """Store the flow in `file` (a `new` one, or its next version); a draft's problems are listed."""
    document, known_sound, change = _text(file), _sound_finder(sounds), change_by(actor)
    with open_database() as database:
        stored = _problems_listed(
            str(file),
            lambda: store.save_flow(
                database,
                document,
                change,
                new=new,
                source=str(file),
                activate=activate,
                known_sound=known_sound,
            ),
        )
    problems = [] if stored.active else flow_problems(stored.flow, known_sound, _survey_finder(stored.flow))
    for problem in problems:
        console.print(f"{file}: {problem}", markup=False)
    state = _state(stored.active)
    if problems:
        state += (
            f", {len(problems)} problem(s) listed above to fix before `ringcast ivr activate {stored.name}`"
        )
    console.print(
        f"{'created' if new else 'updated'} IVR flow {stored.name}, version {stored.version}: {state}",
        markup=False,
    )


def _problems_listed(where: str, work: Callable[[], store.StoredFlow]) -> store.StoredFlow:
    """`work()`; a `FlowError`'s problems printed one a line, and a one-line `UserError`."""
    try:
        return work()
    except FlowError as error:
        _fail(where, error.problems)


def _listed(where: str, problems: list[str]) -> None:
    if problems:
        _fail(where, problems)


def _fail(where: str, problems: list[str]) -> NoReturn:
    """Every problem on a line of its own, then a one-line `UserError`."""
    for problem in problems:
        console.print(f"{where}: {problem}", markup=False)
    raise UserError(f"IVR flow {where}: {len(problems)} problem(s), listed above")


def _text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(
            f"IVR flow {file}: cannot be read as UTF-8 text ({error.__class__.__name__})"
        ) from None


def _read(file: Path) -> Flow:
    """The flow in `file`; else every problem of its shape listed, and a `UserError`."""
    text = _text(file)
    try:
        return parse_flow(text, str(file))
    except FlowError as error:
        _fail(str(file), error.problems)


def _flow_to_test(flow_ref: str) -> Flow:
    """The flow in the file `flow_ref`, else the stored flow of that name; without problems."""
    if Path(flow_ref).is_file():
        flow = _read(Path(flow_ref))
    else:
        with open_database() as database:
            flow = store.get_flow(database, flow_ref).flow
    _listed(flow_ref, flow_problems(flow))
    return flow


def _survey_finder(flow: Flow) -> Callable[[str], bool] | None:
    """Whether a survey is stored, for a flow with survey nodes; None (not checked) for another."""
    if next(flow.placed_surveys(), None) is None:
        return None
    with open_database() as database:
        return store.known_surveys(database)


def _sound_finder(directories: list[Path] | None) -> Callable[[str], bool] | None:
    """Whether a sound is in one of `directories` (with any extension); None: not checked.
    An absolute sound name is also looked for under each directory (a chrooted PBX's root)."""
    if not directories:
        return None

    def known(name: str) -> bool:
        places = [directory / name.lstrip("/") for directory in directories]
        places += [Path(name)] if name.startswith("/") else []
        return any(next(place.parent.glob(f"{place.name}.*"), None) for place in places)

    return known


def _province(number: str) -> str | None:
    """The province (号码归属地) of `number`, a national number read in the `default_region` setting,
    as the engine reads a caller ID; None for no number or one phonenumbers does not place."""
    if not number:
        return None
    facts = number_facts(number, load_settings().default_region)
    return facts.place.region_zh if facts is not None else None


def _record(fields: list[str]) -> dict[str, object]:
    record: dict[str, object] = {}
    for item in fields:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise UserError(f"--field {item!r}: give a customer record field as NAME=VALUE, e.g. level=gold")
        record[name] = value
    return record


def _instant(at: str | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    try:
        instant = datetime.fromisoformat(at)
    except ValueError:
        instant = None
    if instant is None or instant.utcoffset() is None:
        raise UserError(f"--at {at!r}: give the time with its offset, e.g. 2026-12-01T10:00+08:00")
    return instant


def _message(text: str | None, audio: str | None) -> Prompt | None:
    if text is None and audio is None:
        return None
    try:
        return Prompt(text=text, audio=audio)
    except ValidationError as error:
        message = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        raise UserError(f"--message / --message-audio: {message}") from None


def _state(active: bool) -> str:
    return "active" if active else "inactive"


def _plan_text(number: store.StoredNumber) -> str:
    direct = number.plan.direct
    if direct is not None:
        text = "straight to " + ", ".join(f"{key} {name}" for key, name in direct.target().items())
        if direct.fallback_after_s is not None:
            text += f", then any agent of its queue after {direct.fallback_after_s:g} s"
    else:
        rules = [f"{rule.flow} when {rule_text(rule)}" for rule in number.plan.rules]
        text = "; ".join([*rules, f"otherwise {number.plan.flow or 'the default message'}"])
    callback = number.missed_callback
    if callback is None:
        return text
    return f"{text}; missed calls called back by {callback.campaign} after {callback.after_s} s"


def _number_json(number: store.StoredNumber, now: datetime) -> dict[str, object]:
    return {
        "did": number.did,
        "plan": number.plan.model_dump(mode="json", exclude_defaults=True),
        "flow_now": flow_for(number.plan, now),
        "default_message": number.default_message.model_dump(exclude_none=True),
        "missed_callback": None if number.missed_callback is None else asdict(number.missed_callback),
    }
