"""Voicemail boxes and messages (IVR-4), on SQLite and PostgreSQL: greetings set by the CLI (TTS),
the box an overflow names, who is told of a message, each agent's unheard list over the API, and
marking heard (audited); every error one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient

import cli.main
from campaigns import inbound_store, voicemail_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from cli.queue import queue_app
from cli.voicemail import voicemail_app
from tests.db.importing import Run, cli_on
from tests.db.test_queue_store import add_agents, audit_actions
from web.voicemail_api import voicemail_routes

pytestmark = pytest.mark.db

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
PBX_DIR = "/pbx/prompts"


@pytest.fixture
def run(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The CLI with the queue and voicemail commands; agents li, wang and zhao; queue sales of li
    and wang."""
    run = cli_on(database, monkeypatch, tmp_path)
    monkeypatch.setenv("RINGCAST_PROMPTS__LOCAL_DIR", str(tmp_path / "prompts"))
    monkeypatch.setenv("RINGCAST_PROMPTS__PBX_DIR", PBX_DIR)
    app = typer.Typer(no_args_is_help=True)
    app.add_typer(queue_app, name="queue")
    app.add_typer(voicemail_app, name="voicemail")
    monkeypatch.setattr(cli.main, "app", app)
    add_agents(database, "li", "wang", "zhao")
    assert run("queue", "create", "sales") == 0
    assert run("queue", "member", "add", "sales", "li") == 0
    assert run("queue", "member", "add", "sales", "wang") == 0
    return run


def output(run: Run, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run("voicemail", *args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _call(database: Database, uniqueid: str) -> int:
    return inbound_store.open_call(
        database, uniqueid=uniqueid, linkedid=None, did="4008001000", caller="+8613800138000",
        region=None, arrived_at=AT,
    )  # fmt: skip


def test_a_text_greeting_is_rendered_and_played_for_the_box(
    run: Run, database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = output(run, capsys, "greeting", "set", "queue:sales", "--text", "您好，请留言。")
    assert code == 0 and out.startswith(f"voicemail box queue:sales: greets with {PBX_DIR}/")
    sound = out.split("greets with ")[1].strip()
    assert (tmp_path / "prompts" / f"{Path(sound).name}.wav").stat().st_size > 44
    assert voicemail_store.box_for(database, None, "sales") == (voicemail_store.Box("queue", "sales"), sound)
    assert voicemail_store.box_for(database, "agent", "li") == (voicemail_store.Box("agent", "li"), None)
    assert voicemail_store.box_for(database, None, "zhao")[0] == voicemail_store.Box("agent", "zhao")
    assert output(run, capsys, "greeting", "clear", "queue:sales")[0] == 0
    assert voicemail_store.box_for(database, None, "sales")[1] is None
    assert ("voicemail.greeting_set", "queue:sales") in audit_actions(database)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("greeting", "set", "sales", "--text", "hi"),
            "voicemail box 'sales': give agent:NAME or queue:NAME",
        ),
        (("greeting", "set", "queue:sales"), "give the greeting as --text or as --file, one of them"),
        (("greeting", "set", "agent:nobody", "--text", "hi"), "no agent named 'nobody'"),
        (("greeting", "set", "queue:sales", "--text", "hi", "--language", "fr"), "no TTS voice for language"),
        (("greeting", "clear", "agent:li"), "voicemail box agent:li has no greeting of its own"),
        (("mark-heard", "99"), "no voicemail message 99"),
    ],
)
def test_errors_are_one_line(
    run: Run, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], error: str
) -> None:
    code, _, err = output(run, capsys, *args)
    assert code == 2 and err.startswith(f"error: {error}") and "Traceback" not in err, err


def test_a_message_is_told_to_its_agents_listed_unheard_and_marked_heard(
    run: Run, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    queue_box, li_box = voicemail_store.Box("queue", "sales"), voicemail_store.Box("agent", "li")
    first = voicemail_store.message_left(database, _call(database, "1.1"), queue_box, "vm/sales/1.1", AT)
    assert first.agents == ("li", "wang")  # every member of the queue
    second = voicemail_store.message_left(database, _call(database, "1.2"), li_box, "vm/li/1.2", AT)
    assert second.agents == ("li",) and second.message["caller"] == "+8613800138000"
    assert [m["id"] for m in voicemail_store.unheard_for(database, "li")] == [
        second.message["id"],
        first.message["id"],
    ]
    assert voicemail_store.unheard_for(database, "zhao") == []

    client = _api(database)
    assert [m["box"] for m in client.get("/agents/wang/voicemail").json()] == ["queue:sales"]
    refused = client.post(f"/agents/zhao/voicemail/{first.message['id']}/heard")
    assert refused.status_code == 409 and "in zhao's boxes" in refused.json()["error"]
    heard = client.post(f"/agents/wang/voicemail/{first.message['id']}/heard").json()
    assert heard["heard_by"] == "agent:wang"
    assert [m["box"] for m in client.get("/agents/li/voicemail").json()] == ["agent:li"]

    code, out, _ = output(run, capsys, "list", "--box", "agent:li", "--unheard", "--json")
    assert code == 0 and [m["file"] for m in json.loads(out)] == ["vm/li/1.2"]
    assert output(run, capsys, "mark-heard", str(second.message["id"]), "--actor", "boss")[0] == 0
    assert voicemail_store.list_messages(database, unheard=True) == []
    assert ("voicemail.heard", str(second.message["id"])) in audit_actions(database)
    change = Change("again", AT)
    assert voicemail_store.mark_heard(database, second.message["id"], change)["heard_by"] == "boss"


def _api(database: Database) -> TestClient:
    """The voicemail routes over a stand-in engine whose database thread runs the work at once."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    from ringcast.errors import UserError

    class Engine:
        def __init__(self) -> None:
            self.db, self.database = self, database

        async def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return work(*args, **kwargs)

    app = FastAPI()

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=409)

    app.include_router(voicemail_routes(Engine()))  # type: ignore[arg-type]
    return TestClient(app)
