"""Voicemail boxes and messages (IVR-4), on SQLite and PostgreSQL: greetings set by the CLI (TTS),
the box an overflow names, who is told of a message, each agent's own unheard list over the API and
the CLI, marking heard per agent and for the box (audited), a call ending in a box as a message
only when its recording has sound (else abandoned); every error one line."""

from __future__ import annotations

import json
import wave
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import select

import cli.main
from campaigns import inbound_store, voicemail_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import InboundCall
from campaigns.persistence.models.enums import InboundOutcome
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
    assert client.get("/agents/wang/voicemail").json() == [], "off wang's own list"
    assert [m["box"] for m in client.get("/agents/li/voicemail").json()] == ["agent:li", "queue:sales"], (
        "li has not heard it: still on li's list"
    )

    code, out, _ = output(run, capsys, "list", "--box", "agent:li", "--unheard", "--json")
    assert code == 0 and [m["file"] for m in json.loads(out)] == ["vm/li/1.2"]
    assert output(run, capsys, "mark-heard", str(second.message["id"]), "--actor", "boss")[0] == 0
    assert voicemail_store.list_messages(database, unheard=True) == [], (
        "every box's message heard by somebody"
    )
    assert [m["id"] for m in voicemail_store.unheard_for(database, "li")] == [
        second.message["id"],
        first.message["id"],
    ], "a supervisor's hearing is the box's: li has heard neither"
    assert ("voicemail.heard", str(second.message["id"])) in audit_actions(database)
    change = Change("again", AT)
    assert voicemail_store.mark_heard(database, second.message["id"], change)["heard_by"] == "boss"


def test_each_agent_of_a_box_has_its_own_unheard_list_and_the_box_says_who_heard_what(
    run: Run, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    queue_box = voicemail_store.Box("queue", "sales")
    left = voicemail_store.message_left(database, _call(database, "1.1"), queue_box, "vm/sales/1.1", AT)
    message_id = str(left.message["id"])
    code, out, _ = output(run, capsys, "mark-heard", message_id, "--agent", "li")
    assert code == 0 and out.strip() == f"voicemail message {message_id} in queue:sales: heard by li"
    assert output(run, capsys, "mark-heard", message_id, "--agent", "li")[0] == 0  # again: kept as it was
    code, out, _ = output(run, capsys, "list", "--agent", "li", "--unheard", "--json")
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = output(run, capsys, "list", "--agent", "wang", "--unheard", "--json")
    assert [(m["id"], m["heard_by_agent"]) for m in json.loads(out)] == [(left.message["id"], None)]
    code, out, _ = output(run, capsys, "list", "--agent", "li", "--json")
    [mine] = json.loads(out)
    assert mine["heard_by_agent"] is not None and mine["heard_by"] == "agent:li"
    voicemail_store.mark_heard(database, left.message["id"], Change("agent:wang", AT), agent="wang")
    [boxed] = voicemail_store.list_messages(database, queue_box)
    assert (boxed["heard_by"], [h["agent"] for h in boxed["heard"]]) == ("agent:li", ["li", "wang"])
    assert [action for action in audit_actions(database) if action[0] == "voicemail.heard"] == [
        ("voicemail.heard", message_id),
        ("voicemail.heard", message_id),
    ], "once per agent"
    code, _, err = output(run, capsys, "mark-heard", message_id, "--agent", "zhao")
    assert code == 2 and err.startswith(f"error: no voicemail message {message_id} in zhao's boxes")
    code, _, err = output(run, capsys, "list", "--agent", "nobody")
    assert code == 2 and err.startswith("error: no agent named 'nobody'")


def _recording(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(8000)
        recording.writeframes(b"\x00\x01" * int(8000 * seconds))


def test_a_call_ended_in_a_box_is_a_message_only_when_its_recording_has_sound(
    run: Run, database: Database, tmp_path: Path
) -> None:
    box, spool = voicemail_store.Box("queue", "sales"), tmp_path / "spool"
    _recording(spool / "vm/sales/1.1.wav", 2.5)  # a message
    _recording(spool / "vm/sales/1.2.wav", 0)  # the caller gone at the tone: a header-only file
    _recording(spool / "vm/sales/1.3.wav", 0.5)  # under a second: a breath, not a message
    (spool / "vm/sales/1.4.wav").write_bytes(b"RIFF")  # cut short, not a WAV file
    ended = {}
    for n in range(1, 6):  # 1.5: hung up during the greeting, nothing recorded
        call_id = _call(database, f"1.{n}")
        inbound_store.overflow(database, call_id, AT, "voicemail:sales")
        ended[n] = voicemail_store.ended_in_box(
            database, spool, call_id, box, f"vm/sales/1.{n}", AT, InboundOutcome.OVERFLOWED_VOICEMAIL, 16
        )
    assert ended[1] is not None and ended[1].agents == ("li", "wang")
    assert [n for n, notice in ended.items() if notice is None] == [2, 3, 4, 5]
    with database.session() as session:
        calls = session.scalars(select(InboundCall).order_by(InboundCall.id)).all()
        rows = [(c.outcome, c.overflowed_to, c.voicemail, c.hangup_cause) for c in calls]
    assert rows == [
        (InboundOutcome.OVERFLOWED_VOICEMAIL, "voicemail:sales", "vm/sales/1.1", 16),
        *[(InboundOutcome.ABANDONED, "voicemail:sales", None, 16)] * 4,
    ]
    assert [m["file"] for m in voicemail_store.list_messages(database)] == ["vm/sales/1.1"]
    unchecked = _call(database, "1.6")  # the pbx's files out of reach here: a message, as told
    assert voicemail_store.ended_in_box(
        database, None, unchecked, box, "vm/sales/1.6", AT, InboundOutcome.IVR_ONLY, None
    )
    elsewhere = _call(database, "1.7")  # a spool directory this machine does not have: the same
    assert voicemail_store.ended_in_box(
        database, tmp_path / "no-lab", elsewhere, box, "vm/sales/1.7", AT, InboundOutcome.IVR_ONLY, None
    )


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
