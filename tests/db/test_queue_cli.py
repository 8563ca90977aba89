"""`ringcast queue create|update|show|list|delete` and `queue member add|remove`: settings given as
options, one clear line per error, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

import cli.main
from campaigns.persistence.db import Database
from cli.queue import queue_app
from tests.db.importing import Run, cli_on
from tests.db.test_queue_store import add_agents

pytestmark = pytest.mark.db


@pytest.fixture
def run(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The CLI with the queue commands, on `database`, which has agents li and wang."""
    run = cli_on(database, monkeypatch, tmp_path)
    app = typer.Typer(no_args_is_help=True)
    app.add_typer(queue_app, name="queue")
    monkeypatch.setattr(cli.main, "app", app)
    add_agents(database, "li", "wang")
    return run


def output(run: Run, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command (what came before is dropped)."""
    capsys.readouterr()
    code = run("queue", *args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_create_and_update_take_the_settings_as_options(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    assert output(run, capsys, "create", "support") == (
        0,
        "created queue support: longest_idle, waits 300 s then voicemail:support, service level 80/20,"
        " 0 agent(s)\n",
        "",
    )
    options = [
        *("--strategy", "ring_all", "--priority", "2", "--max-wait", "120", "--overflow", "queue:support"),
        *("--ring-timeout", "15", "--short-abandon", "3", "--service-level", "90/30", "--music", "calm"),
        *("--announce-every", "45", "--announce", "position", "--announce-language", "en"),
        *("--memory-days", "7", "--memory-wait", "8"),
    ]
    code, out, _ = output(run, capsys, "create", "sales", *options, "--json")
    shown = json.loads(out)
    del shown["updated_at"]
    assert (code, shown) == (
        0,
        {
            "name": "sales",
            "strategy": "ring_all",
            "priority": 2,
            "ring_timeout_s": 15.0,
            "max_wait_s": 120.0,
            "overflow": "queue:support",
            "short_abandon_s": 3.0,
            "service_level": {"share": 0.9, "within_s": 30.0},
            "music_class": "calm",
            "announce_every_s": 45.0,
            "announced": "position",
            "announce_language": "en",
            "memory_days": 7,
            "memory_wait_s": 8.0,
            "survey_id": None,
            "survey": None,
            "members": [],
        },
    )
    assert output(run, capsys, "update", "sales", "--announce-every", "0", "--memory-days", "0") == (
        0,
        "updated queue sales: ring_all, waits 120 s then queue:support, service level 90/30, 0 agent(s)\n",
        "",
    )
    code, out, _ = output(run, capsys, "show", "sales")
    assert code == 0 and "announcements" in out and "never" in out and "caller memory" in out and "off" in out


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("create", "sales", "--overflow", "support"), "overflow 'support': give queue:NAME, number:"),
        (
            ("create", "sales", "--service-level", "80%"),
            "service level '80%': give PERCENT/SECONDS, e.g. 80/20",
        ),
        (
            ("create", "sales", "--max-wait", "-1"),
            "queue 'sales' max_wait_s: must be a positive number of seconds",
        ),
        (
            ("create", "sales", "--overflow", "queue:sales"),
            "queue overflow loops without end: sales -> sales",
        ),
        (("create", "sales", "--strategy", "random"), "Invalid value for '--strategy'"),
        (("update", "nope", "--priority", "1"), "no queue named 'nope' (`ringcast queue list` shows them)"),
        (("member", "add", "nope", "li"), "no queue named 'nope'"),
        (("show", "nope"), "no queue named 'nope'"),
        (("delete", "nope"), "no queue named 'nope'"),
    ],
)
def test_each_error_is_one_line(
    run: Run, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], error: str
) -> None:
    code, out, err = output(run, capsys, *args)
    assert code == 2 and out == "" and err.startswith(f"error: {error}") and err.count("\n") == 1, err


def test_members_are_added_in_order_changed_in_place_and_removed(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    run("queue", "create", "sales", "--strategy", "linear")
    assert output(run, capsys, "member", "add", "sales", "wang", "--skill", "8") == (
        0,
        "queue sales: wang (skill 8)\n",
        "",
    )
    assert output(run, capsys, "member", "add", "sales", "li", "--supervisor")[1] == (
        "queue sales: wang (skill 8), li (skill 5, supervisor)\n"
    )
    assert output(run, capsys, "member", "add", "sales", "wang", "--skill", "3")[1] == (
        "queue sales: wang (skill 3), li (skill 5, supervisor)\n"
    )
    code, out, _ = output(run, capsys, "show", "sales", "--json")
    assert (code, [(m["agent"], m["skill"], m["supervisor"]) for m in json.loads(out)["members"]]) == (
        0,
        [("wang", 3, False), ("li", 5, True)],
    )
    code, out, _ = output(run, capsys, "show", "sales")
    rows = [[cell.strip() for cell in line.split("│")[1:5]] for line in out.splitlines() if "│" in line]
    assert code == 0 and rows[-2:] == [["1", "wang", "3", "no"], ["2", "li", "5", "yes"]]
    assert output(run, capsys, "member", "add", "sales", "li", "--skill", "0")[2] == (
        "error: skill 0: give a level of 1-10 (higher gets calls first)\n"
    )
    assert output(run, capsys, "member", "add", "sales", "zhao")[2] == (
        "error: no agent named 'zhao' (`ringcast agent list` shows them)\n"
    )
    assert output(run, capsys, "member", "remove", "sales", "wang") == (
        0,
        "queue sales: li (skill 5, supervisor)\n",
        "",
    )
    assert output(run, capsys, "member", "remove", "sales", "wang")[2] == (
        "error: agent wang is not in queue sales (`ringcast queue show sales` lists them)\n"
    )


def test_list_and_delete(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    assert output(run, capsys, "list") == (
        0,
        "no queues yet (create one with `ringcast queue create NAME`)\n",
        "",
    )
    run("queue", "create", "support", "--max-wait", "60")
    run("queue", "create", "sales", "--overflow", "queue:support")
    run("queue", "member", "add", "sales", "li")
    code, out, _ = output(run, capsys, "list")
    rows = [[cell.strip() for cell in line.split("│")[1:5]] for line in out.splitlines() if "│" in line]
    assert (code, rows) == (
        0,
        [["sales", "longest_idle", "1", "300 s"], ["support", "longest_idle", "0", "60 s"]],
    )
    listed = json.loads(output(run, capsys, "list", "--json")[1])
    assert [(queue["name"], queue["overflow"]) for queue in listed] == [
        ("sales", "queue:support"),
        ("support", "voicemail:support"),
    ]
    assert output(run, capsys, "delete", "support")[2] == (
        "error: queue support is the overflow of queue sales "
        "(give them another --overflow with `ringcast queue update` first)\n"
    )
    assert output(run, capsys, "delete", "sales") == (0, "deleted queue sales\n", "")
    assert [queue["name"] for queue in json.loads(output(run, capsys, "list", "--json")[1])] == ["support"]
