"""`ringcast voicemail ...`: voicemail boxes' greetings and the messages left (IVR-4).

A box is `agent:NAME` or `queue:NAME`. `greeting set BOX --text ...` renders the text by TTS now
(in `--language`, zh or en) and `--file F` installs a recording (converted to 8 kHz mono WAV under
the prompt directory's `custom/voicemail/`); the box then greets callers with it instead of the
stock `vm-intro`. `greeting clear` goes back to the stock one. `list` prints the messages (of one
box with `--box`, the unheard ones with `--unheard`: nobody heard them), with who heard each; with
`--agent NAME`, the messages of that agent's boxes as it sees them (`--unheard`: those it has not
heard). `mark-heard ID --agent NAME` marks one heard by that agent (off its own unheard list);
without `--agent`, heard for the box (a supervisor's). Changes are audited with `--actor`. Thin
over `campaigns.voicemail_store`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from campaigns import voicemail_store as store
from campaigns.surveys.document import Prompt
from cli.campaign import ACTOR_HELP, JSON_HELP, change_by, open_database, print_json
from dialer.asterisk.prompts import Message, PromptLibrary
from ringcast.errors import UserError
from ringcast.settings import load_settings

voicemail_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`
greeting_app = typer.Typer(no_args_is_help=True, help="A box's greeting, played before the message.")
voicemail_app.add_typer(greeting_app, name="greeting")

BOX_HELP = "The box: agent:NAME or queue:NAME."
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _greeting_file(box: store.Box) -> str:
    """The recording's name: readable, and unique per box (names differing only in characters a
    file name cannot hold, li.wei and li_wei, 销售 and 客服, get different files)."""
    digest = hashlib.sha256(str(box).encode()).hexdigest()[:12]
    return f"voicemail/{box.owner}-{_UNSAFE.sub('_', box.name)}-{digest}"


@greeting_app.command("set")
def greeting_set(
    box: str = typer.Argument(..., help=BOX_HELP),
    text: str | None = typer.Option(None, "--text", help="The greeting, spoken by TTS."),
    file: Path | None = typer.Option(None, "--file", help="A recording (WAV, or a format sox reads)."),
    language: str = typer.Option("zh", "--language", help="The text's language: zh or en."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Greet the box's callers with a text (TTS) or a recording instead of the stock greeting."""
    parsed = store.parse_box(box)
    if (text is None) == (file is None):
        raise UserError("give the greeting as --text or as --file, one of them")
    library = PromptLibrary.from_settings(load_settings())
    if text is not None:
        message = Message(Prompt(text=text), language)
        library.render_missing(message)
        sound = library.sound(message.prompt, language)
    else:
        assert file is not None
        sound = library.install_audio(file, _greeting_file(parsed))
    with open_database() as database:
        store.set_greeting(
            database,
            parsed,
            sound,
            change_by(actor),
            language=language,
            text=text,
            audio=None if file is None else str(file),
        )
    typer.echo(f"voicemail box {parsed}: greets with {sound}")


@greeting_app.command("clear")
def greeting_clear(
    box: str = typer.Argument(..., help=BOX_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Back to the stock greeting (vm-intro)."""
    parsed = store.parse_box(box)
    with open_database() as database:
        store.clear_greeting(database, parsed, change_by(actor))
    typer.echo(f"voicemail box {parsed}: greets with the stock vm-intro")


@greeting_app.command("list")
def greeting_list(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """The boxes with a greeting of their own."""
    with open_database() as database:
        greetings = store.greetings(database)
    if as_json:
        print_json(greetings)
        return
    if not greetings:
        typer.echo("no box has a greeting of its own (every box plays vm-intro)")
        return
    table = Table("box", "greeting", "language")
    for greeting in greetings:
        table.add_row(
            greeting["box"], greeting["text"] or f"recording {greeting['audio']}", greeting["language"]
        )
    Console().print(table)


@voicemail_app.command("list")
def list_messages(
    box: str | None = typer.Option(None, "--box", help=BOX_HELP + " [every box]"),
    agent: str | None = typer.Option(
        None, "--agent", help="The messages of this agent's boxes, as it sees them."
    ),
    unheard: bool = typer.Option(False, "--unheard", help="Only the messages nobody (or --agent) has heard."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The messages left, newest first."""
    if box is not None and agent is not None:
        raise UserError("give --box or --agent, not both")
    parsed = None if box is None else store.parse_box(box)
    with open_database() as database:
        if agent is not None:
            messages = store.messages_for(database, agent, unheard=unheard)
        else:
            messages = store.list_messages(database, parsed, unheard=unheard)
    if as_json:
        print_json(messages)
        return
    if not messages:
        typer.echo("no messages")
        return
    table = Table("id", "box", "caller", "left at", "heard" if agent is None else f"heard by {agent}", "file")
    for message in messages:
        table.add_row(
            str(message["id"]),
            message["box"],
            message["caller"],
            message["left_at"],
            _heard(message, agent),
            message["file"],
        )
    Console().print(table)


def _heard(message: dict[str, Any], agent: str | None) -> str:
    if agent is not None:
        return message["heard_by_agent"] or "no"
    if message["heard_at"] is None:
        return "no"
    agents = ", ".join(hearing["agent"] for hearing in message["heard"])
    return f"{message['heard_at']} by {message['heard_by']}" + (f" (agents: {agents})" if agents else "")


@voicemail_app.command("mark-heard")
def mark_heard(
    message_id: int = typer.Argument(..., help="The message's id (`ringcast voicemail list`)."),
    agent: str | None = typer.Option(None, "--agent", help="Heard by this agent: off its unheard list."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Mark a message heard: by --agent (one of its boxes' messages), else for the box (by --actor)."""
    change = change_by(actor or (f"agent:{agent}" if agent is not None else None))
    with open_database() as database:
        message = store.mark_heard(database, message_id, change, agent=agent)
    by = agent if agent is not None else message["heard_by"]
    typer.echo(f"voicemail message {message_id} in {message['box']}: heard by {by}")
