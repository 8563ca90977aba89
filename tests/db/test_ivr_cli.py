"""`ringcast ivr create|update|activate|deactivate|show|list|test NAME` and `ivr did set|list|remove`:
flows stored as written, drafts with their problems listed, numbers given active flows only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from freezegun import freeze_time

import cli.main
from campaigns.persistence.db import Database
from cli.ivr import ivr_app
from tests.db.importing import Run, cli_on
from tests.db.test_ivr_store import DRAFT, GOOD, NIGHT

pytestmark = pytest.mark.db


@pytest.fixture
def run(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The CLI with the ivr commands, on `database`."""
    run = cli_on(database, monkeypatch, tmp_path)
    app = typer.Typer(no_args_is_help=True)
    app.add_typer(ivr_app, name="ivr")
    monkeypatch.setattr(cli.main, "app", app)
    return run


def output(run: Run, capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command (what came before is dropped)."""
    capsys.readouterr()
    code = run("ivr", *args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def document(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_draft_is_stored_with_its_problems_listed_and_activated_once_fixed(
    run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    draft = document(tmp_path, DRAFT, "draft.yaml")
    assert output(run, capsys, "create", draft) == (
        0,
        f"{draft}: nodes.menu.keys.2: no node support\n"
        "created IVR flow day, version 1: inactive, 1 problem(s) listed above to fix before "
        "`ringcast ivr activate day`\n",
        "",
    )
    assert output(run, capsys, "activate", "day") == (
        2,
        "day: nodes.menu.keys.2: no node support\n",
        "error: IVR flow day: 1 problem(s), listed above\n",
    )
    good = document(tmp_path, GOOD, "day.yaml")
    assert output(run, capsys, "update", good, "--activate") == (
        0,
        "updated IVR flow day, version 2: active\n",
        "",
    )
    code, _, err = output(run, capsys, "create", good)
    assert (code, err) == (
        2,
        "error: IVR flow day already exists (change it with `ringcast ivr update FILE`)\n",
    )
    code, out, err = output(run, capsys, "update", draft)  # an active flow keeps a good document
    assert (code, out, err) == (
        2,
        f"{draft}: nodes.menu.keys.2: no node support\n",
        f"error: IVR flow {draft}: 1 problem(s), listed above\n",
    )


def test_show_prints_the_document_as_written_or_json_and_list_every_flow(
    run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run("ivr", "create", document(tmp_path, GOOD, "day.yaml"), "--activate")
    run("ivr", "create", document(tmp_path, NIGHT, "night.yaml"))
    assert output(run, capsys, "show", "day") == (0, f"# IVR flow day, version 1, active\n{GOOD}", "")
    code, out, _ = output(run, capsys, "show", "night", "--json")
    shown = json.loads(out)
    assert (code, shown["version"], shown["active"], shown["flow"]["start"]) == (0, 1, False, "bye")
    assert yaml.safe_load(output(run, capsys, "show", "day")[1]) == yaml.safe_load(GOOD)  # update takes it
    code, out, _ = output(run, capsys, "list")
    rows = [[cell.strip() for cell in line.split("│")[1:5]] for line in out.splitlines() if "│" in line]
    assert (code, rows) == (0, [["day", "1", "active", "2"], ["night", "1", "inactive", "1"]])
    assert output(run, capsys, "show", "evening")[2] == (
        "error: no IVR flow named 'evening' (`ringcast ivr list` shows them)\n"
    )


def test_test_walks_a_stored_flow_and_refuses_one_with_problems(
    run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run("ivr", "create", document(tmp_path, GOOD, "day.yaml"))
    code, out, _ = output(run, capsys, "test", "day", "--keys", "1")
    assert code == 0 and out.splitlines()[1:] == [
        "collect at menu: audio custom/menu, up to 1 key(s)",
        "> 1",
        "queue sales",
        "path: menu > sales",
        "variables: -",
    ]
    run("ivr", "update", document(tmp_path, DRAFT, "draft.yaml"))
    assert output(run, capsys, "test", "day", "--keys", "1") == (
        2,
        "day: nodes.menu.keys.2: no node support\n",
        "error: IVR flow day: 1 problem(s), listed above\n",
    )


def test_did_set_list_and_remove(run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run("ivr", "create", document(tmp_path, GOOD, "day.yaml"), "--activate")
    run("ivr", "create", document(tmp_path, NIGHT, "night.yaml"))
    rule = "flow=day hours=09:00-18:00 days=mon-fri"
    code, _, err = output(run, capsys, "did", "set", "+864001234567", "--flow", "night", "--rule", rule)
    assert (code, err) == (2, "error: IVR flow night is not active (`ringcast ivr activate night` first)\n")
    run("ivr", "activate", "night")
    assert output(run, capsys, "did", "set", "+864001234567", "--flow", "night", "--rule", rule) == (
        0,
        "DID +864001234567: day when hours=09:00-18:00 days=mon,tue,wed,thu,fri; otherwise night\n",
        "",
    )
    assert output(run, capsys, "did", "set", "95555", "--message", "本号码已停用")[0] == 0
    with freeze_time("2026-12-01T02:00:00Z"):  # a Tuesday, 10:00 in Shanghai
        code, out, _ = output(run, capsys, "did", "list", "--json")
    assert code == 0 and json.loads(out) == [
        {
            "did": "+864001234567",
            "plan": {
                "flow": "night",
                "rules": [{"hours": "09:00-18:00", "days": [1, 2, 3, 4, 5], "flow": "day"}],
            },
            "flow_now": "day",
            "default_message": {"text": "您好，您拨打的号码暂时无法接通，请稍后再拨。"},
            "missed_callback": None,
        },
        {
            "did": "95555",
            "plan": {},
            "flow_now": None,
            "default_message": {"text": "本号码已停用"},
            "missed_callback": None,
        },
    ]
    code, _, err = output(run, capsys, "deactivate", "night")
    assert (code, err.startswith("error: IVR flow night is in use by DID +864001234567")) == (2, True)
    assert output(run, capsys, "did", "remove", "+864001234567") == (0, "DID +864001234567: removed\n", "")
    assert output(run, capsys, "deactivate", "night") == (0, "IVR flow night, version 1: inactive\n", "")


def test_bad_did_input_is_one_line(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    assert output(run, capsys, "did", "set", "95555", "--rule", "flow=day hours=9-5") == (
        2,
        "",
        "error: DID 95555: 1 problem(s): rules[0].hours: 9-5: give times as HH:MM, e.g. 09:00-21:00\n",
    )
    code, _, err = output(run, capsys, "did", "set", "95555", "--message", "hi", "--message-audio", "x")
    assert (code, err) == (
        2,
        "error: --message / --message-audio: give either text (spoken by TTS) or audio (a sound file), "
        "not both or neither\n",
    )
    assert output(run, capsys, "did", "remove", "95555")[2] == (
        "error: no inbound number 95555 (`ringcast ivr did list` shows them)\n"
    )
    assert output(run, capsys, "did", "list") == (
        0,
        "no inbound numbers yet (add one with `ringcast ivr did set DID --flow F`)\n",
        "",
    )
