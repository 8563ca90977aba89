"""`ringcast campaign|agent|group ...`: administration end to end; one-line errors that write nothing."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select

import cli.main
from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, Campaign
from campaigns.persistence.models.enums import LeadState
from cli.agent_cmd import agent_app, group_app
from dialer.asterisk.ports import free_tcp_port
from tests.db.importing import Run, cli_on
from tests.db.test_campaign_store import SHANGHAI_AND_NEW_YORK, add_list

pytestmark = pytest.mark.db

READY = ("--caller-id", "+862088881234", "--group", "sales", "--abandon-message", "sorry", "--list", "leads")


@pytest.fixture
def run(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The CLI with the administration commands, on `database`."""
    run = cli_on(database, monkeypatch, tmp_path)
    app = typer.Typer(no_args_is_help=True)
    app.add_typer(cli.main.campaign_commands(), name="campaign")
    app.add_typer(agent_app, name="agent")
    app.add_typer(group_app, name="group")
    monkeypatch.setattr(cli.main, "app", app)
    return run


def output(run: Run, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command (what came before is dropped)."""
    capsys.readouterr()
    code = run(*args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_of(run: Run, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = output(run, capsys, *args, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def team(run: Run, *agents: str) -> None:
    assert run("group", "create", "sales", "--description", "销售一组") == 0
    for number, agent in enumerate(agents, start=1):
        assert run("agent", "create", agent, "--phone", f"PJSIP/{agent}", "--number", f"100{number}") == 0
        assert run("group", "add", "sales", agent) == 0


def audit(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        return [
            (row.actor, row.action) for row in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_agents_and_groups(run: Run, database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    team(run, "agent1")
    create = ("agent", "create", "remote7", "--phone", "+8613700137000", "--display-name", "王芳")
    assert output(run, capsys, *create, "--group", "sales", "--actor", "boss") == (
        0,
        "created agent remote7 (+8613700137000), groups: sales\n",
        "",
    )
    agents = json_of(run, capsys, "agent", "list")
    assert [(a["name"], a["remote"], a["groups"], a["state"]) for a in agents] == [
        ("agent1", False, ["sales"], "logged_out"),
        ("remote7", True, ["sales"], "logged_out"),
    ]
    assert json_of(run, capsys, "agent", "show", "agent1")["agent_number"] == "1001"
    assert json_of(run, capsys, "group", "list") == [
        {"name": "sales", "description": "销售一组", "agents": ["agent1", "remote7"]}
    ]
    assert output(run, capsys, "group", "remove", "sales", "remote7")[1] == "group sales: removed remote7\n"
    assert output(run, capsys, "agent", "deactivate", "remote7")[1] == "deactivated agent remote7\n"
    assert [a["name"] for a in json_of(run, capsys, "agent", "list")] == ["agent1"]

    for args, error in [
        (("agent", "create", "agent1", "--phone", "PJSIP/x"), "error: agent agent1 already exists\n"),
        (
            ("agent", "create", "x", "--phone", "call me"),
            "error: agent phone 'call me': give an endpoint like",
        ),
        (("agent", "create", "x", "--phone", "PJSIP/x", "--number", "1001"), "error: agent number 1001 is"),
        (
            ("agent", "create", "x", "--phone", "PJSIP/x", "--group", "nope"),
            "error: no agent group named 'nope'",
        ),
        (("group", "add", "sales", "ghost"), "error: no agent named 'ghost'"),
        (("group", "create", "sales"), "error: agent group sales already exists\n"),
    ]:
        code, out, err = output(run, capsys, *args)
        assert (code, out) == (2, "") and err.startswith(error) and err.count("\n") == 1
    assert [action for _, action in audit(database)] == [
        "group.create",
        "agent.create",
        "group.add",
        "agent.create",
        "group.remove",
        "agent.deactivate",
    ]
    assert audit(database)[3] == ("boss", "agent.create")


def test_campaign_from_create_to_stop(
    run: Run, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    team(run, "agent1")
    add_list(database, "leads", ("+8613800138000", LeadState.NEW, ["Asia/Shanghai"]))
    create = (
        *(
            "campaign",
            "create",
            "秋季回访",
            *READY,
            "--mode",
            "predictive",
            "--window",
            "09:00-12:00,13:30-20:00",
        ),
        *("--abandon-cap", "0.02", "--abandon-window", "day", "--retry", "no_answer=2h,busy=10m"),
        *(
            "--max-attempts",
            "4",
            "--per-number-day",
            "2",
            "--amd",
            "--wrap-up",
            "10s",
            "--time-zone",
            "Asia/Shanghai",
        ),
        *(
            "--disposition",
            "sale:final",
            "--disposition",
            "call_back_later:retry=1h",
            "--ring-timeout",
            "20s",
        ),
    )
    assert output(run, capsys, *create) == (
        0,
        "created campaign 秋季回访: predictive, cn preset, draft\n",
        "",
    )
    shown = json_of(run, capsys, "campaign", "show", "秋季回访")
    assert (shown["dial_mode"], shown["amd"], shown["wrap_up_s"], shown["ring_timeout_s"]) == (
        "predictive",
        True,
        10.0,
        20.0,
    )
    assert shown["compliance"]["calling_hours"] == "09:00-12:00, 13:30-20:00 every day"
    assert (shown["compliance"]["abandon_cap"], shown["compliance"]["attempts_per_number_day"]) == (0.02, 2)
    assert (shown["retry"]["no_answer"], shown["retry"]["busy"], shown["retry"]["max_attempts"]) == (
        7200,
        600,
        4,
    )
    assert shown["dispositions"] == [
        {"code": "sale", "final": True, "retry_after_s": None},
        {"code": "call_back_later", "final": False, "retry_after_s": 3600.0},
    ]
    assert (shown["group"], shown["lists"][0]["name"], shown["dialable_leads"]) == ("sales", "leads", 1)

    assert run("campaign", "update", "秋季回访", "--no-amd", "--max-lines", "30") == 0
    listed = json_of(run, capsys, "campaign", "list")
    assert [(c["name"], c["amd"], c["max_lines"], c["wrap_up_s"]) for c in listed] == [
        ("秋季回访", False, 30, 10.0)
    ]

    outputs = [
        output(run, capsys, "campaign", verb, "秋季回访")[1] for verb in ("start", "start", "pause", "resume")
    ]
    assert outputs == [
        "campaign 秋季回访: draft -> running\n",
        "campaign 秋季回访 is already running\n",
        "campaign 秋季回访: running -> paused\n",
        "campaign 秋季回访: paused -> running\n",
    ]
    assert run("campaign", "stop", "秋季回访", "--actor", "boss") == 0
    assert output(run, capsys, "campaign", "resume", "秋季回访") == (
        2,
        "",
        "error: campaign 秋季回访 is finished: cannot resume"
        " (a stopped campaign stays stopped; create a new one)\n",
    )
    campaign_audit = [entry for entry in audit(database) if entry[1].startswith("campaign.")]
    assert campaign_audit == [
        (getpass.getuser(), "campaign.create"),
        (getpass.getuser(), "campaign.attach"),
        (getpass.getuser(), "campaign.update"),
        (getpass.getuser(), "campaign.start"),
        (getpass.getuser(), "campaign.pause"),
        (getpass.getuser(), "campaign.resume"),
        ("boss", "campaign.stop"),
    ]


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("no agents", "no agents in group sales (`ringcast group add sales AGENT`)"),
        ("no leads", "no dialable leads in its lists (none new or to retry, no pending callback)"),
        ("unknown trunk", "trunk carrier is not configured (configured: sip9)"),
        ("window never opens", "calling hours 09:00-11:00 every day never open in all the time zones of any"),
    ],
)
def test_start_refusals_are_one_line(
    case: str,
    error: str,
    run: Run,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    team(run, *(() if case == "no agents" else ("agent1",)))
    state, zones = {
        "no leads": (LeadState.EXHAUSTED, ["Asia/Shanghai"]),
        "window never opens": (LeadState.NEW, SHANGHAI_AND_NEW_YORK),
    }.get(case, (LeadState.NEW, ["Asia/Shanghai"]))
    add_list(database, "leads", ("+8613800138000", state, zones))
    assert run("campaign", "create", "秋季回访", *READY, "--window", "09:00-11:00") == 0
    if case == "unknown trunk":
        monkeypatch.setenv("RINGCAST_TRUNKS", '["sip9"]')
    assert output(run, capsys, "campaign", "start", "秋季回访") == (
        2,
        "",
        f"error: cannot start campaign 秋季回访: {error}"
        + (" dialable lead\n" if "window" in case else "\n"),
    )
    with database.session() as session:
        assert session.scalar(select(Campaign.state)) == "draft"
    assert "campaign.start" not in [action for _, action in audit(database)]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--abandon-cap", "0"), "campaign abandon_cap: must be above 0 and at most 1, e.g. 0.03 for 3 %"),
        (("--window", "10:00-10:00"), "campaign calling_hours: 10:00-10:00 never opens"),
        (("--trunk", "sip9"), "trunk sip9 is not configured (configured: carrier) (add it to `trunks`"),
        (("--retry", "no_answer=soon"), "campaign retry.no_answer: not a duration"),
        (("--disposition", "sale"), "campaign dispositions: sale: give CODE:final or CODE:retry[=DELAY]"),
        (("--list", "nope"), "no list named 'nope'"),
        (("--mode", "magic"), "Invalid value for '--mode'"),
        (
            ("--window", "08:00-22:00"),
            "compliance calling_hours: 08:00-22:00 every day is looser than 09:00-21:00",
        ),
    ],
)
def test_bad_settings_are_one_line_and_write_nothing(
    args: tuple[str, ...], error: str, run: Run, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = output(run, capsys, "campaign", "create", "秋季回访", *args)
    assert (code, out) == (2, "")
    assert error in err and err.count("\n") == 1
    assert audit(database) == []
    with database.session() as session:
        assert session.scalar(select(Campaign.id)) is None


def test_loosening_with_an_override_is_audited(
    run: Run, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("campaign", "create", "x", "--preset", "us") == 0
    loosen = ("campaign", "update", "x", "--per-number-day", "5")
    code, _, err = output(run, capsys, *loosen)
    assert code == 2 and err.endswith("(give an override reason; it is audited)\n")
    assert run(*loosen, "--override-reason", "客户同意", "--actor", "boss") == 0
    with database.session() as session:
        note = session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.override")).one()
    assert (note.actor, note.entity_id, note.details["setting"], note.details["reason"]) == (
        "boss",
        "x",
        "attempts_per_number_day",
        "客户同意",
    )
    assert json_of(run, capsys, "campaign", "show", "x")["compliance"]["attempts_per_number_day"] == 5


def test_attach_and_detach_lists(run: Run, database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    add_list(database, "a")
    add_list(database, "b")
    assert run("campaign", "create", "x") == 0
    assert output(run, capsys, "campaign", "attach", "x", "a:5", "b:1:3")[1] == (
        "attached to campaign x: a (priority 5, weight 1), b (priority 1, weight 3)\n"
    )
    assert output(run, capsys, "campaign", "detach", "x", "a")[1] == "detached list a from campaign x\n"
    assert [share["name"] for share in json_of(run, capsys, "campaign", "show", "x")["lists"]] == ["b"]
    assert output(run, capsys, "campaign", "show", "nope")[2] == (
        "error: no campaign named 'nope' (`ringcast campaign list` shows them)\n"
    )


def test_why_without_an_engine_answers_from_the_database(
    run: Run, database: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RINGCAST_API__PORT", str(free_tcp_port()))  # nobody listens there
    team(run, "alice")
    add_list(database, "leads", ("+8613800138000", LeadState.NEW, ["Asia/Shanghai"]))
    assert run("campaign", "create", "spring", *READY) == 0
    answer = json_of(run, capsys, "campaign", "why", "spring")
    assert answer["reasons"] == [
        "campaign spring is draft, not running (`ringcast campaign start`)",
        "the engine is not running (`ringcast serve`)",
    ]
    assert answer["leads"] == {"new": 1}


@pytest.mark.parametrize(
    "command",
    [("agent", "login", "alice"), ("agent", "status"), ("campaign", "status", "spring")],
)
def test_live_commands_without_an_engine_say_so_in_one_line(
    run: Run, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    port = free_tcp_port()
    monkeypatch.setenv("RINGCAST_API__PORT", str(port))
    code, out, err = output(run, capsys, *command)
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"error: the engine is not running at http://127.0.0.1:{port} (start it with `ringcast serve`)"
    )
