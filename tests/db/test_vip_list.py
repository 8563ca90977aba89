"""The VIP list (贵宾名单, ACD-3): `ringcast vip add|remove|import|export|check`, audited, global only;
an inbound caller on it is tagged vip when the call arrives, customer record or not; it blocks no
call. And the other list that blocks nothing, the outbound whitelist, is found by `check`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import select

import cli.main
from campaigns.compliance import blocklist_store
from campaigns.compliance.blocklist import BlockEntry
from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry
from campaigns.persistence.models.enums import BlockKind, BlockMatch
from cli.blocklist import blacklist_app, dnc_app, vip_app, whitelist_app
from dialer.live.flow_cache import FlowCache
from dialer.live.inbound_lookup import look_up
from tests.db.importing import Run, add_campaign, cli_on
from tests.db.test_ivr_store import CHANGE

pytestmark = pytest.mark.db

TITLE = "VIP list (贵宾名单): inbound callers served first"


@pytest.fixture
def run(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The CLI with the number lists' commands, on `database`."""
    run = cli_on(database, monkeypatch, tmp_path)
    app = typer.Typer(no_args_is_help=True)
    for name, lists in (("dnc", dnc_app), ("blacklist", blacklist_app), ("whitelist", whitelist_app)):
        app.add_typer(lists, name=name)
    app.add_typer(vip_app, name="vip")
    monkeypatch.setattr(cli.main, "app", app)
    return run


def _audit(database: Database) -> list[tuple[str, str, str | None]]:
    with database.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(row.actor, row.action, row.entity_id) for row in rows]


def test_vip_add_check_remove_with_reasons_and_audit(
    database: Database, run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("vip", "add", "135 0123 4567", "--reason", "大客户", "--source", "crm", "--by", "alice") == 0
    assert (
        capsys.readouterr().out == "added: vip, exact +8613501234567, global, reason: 大客户, source: crm\n"
    )
    assert run("vip", "add", "+86139", "--prefix", "--expires", "30d", "--by", "alice") == 0
    capsys.readouterr()

    assert run("vip", "check", "13501234567") == 1
    assert capsys.readouterr().out == (
        "+8613501234567 is listed: vip, exact +8613501234567, global, reason: 大客户, source: crm\n"
    )
    assert run("vip", "check", "13900139000") == 1
    assert capsys.readouterr().out.startswith("+8613900139000 is listed: vip, prefix +86139, global, until ")
    assert run("vip", "check", "13800138000") == 0
    assert capsys.readouterr().out == f"+8613800138000 is not on the {TITLE}\n"
    assert run("dnc", "check", "13501234567") == 0, "a VIP is no DNC entry"
    assert run("blacklist", "check", "13501234567") == 0
    capsys.readouterr()

    assert run("vip", "remove", "13501234567", "--by", "bob") == 0
    assert capsys.readouterr().out == f"removed: +8613501234567 from the {TITLE}\n"
    assert run("vip", "check", "13501234567") == 0
    assert _audit(database) == [
        ("alice", "vip.add", "+8613501234567"),
        ("alice", "vip.add", "+86139"),
        ("bob", "vip.remove", "+8613501234567"),
    ]


def test_the_vip_list_is_global_and_refuses_a_campaign(
    database: Database, run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    add_campaign(database, "秋季回访")
    capsys.readouterr()
    for command in (("add", "13501234567"), ("remove", "13501234567"), ("check", "13501234567")):
        assert run("vip", *command, "--campaign", "秋季回访") == 2
        assert capsys.readouterr().err == "error: --campaign: the vip list has global entries only\n"
    assert run("vip", "--help") == 0
    assert "--campaign" not in capsys.readouterr().out
    assert run("vip", "add", "--help") == 0
    assert "--campaign" not in capsys.readouterr().out
    assert _audit(database) == []


def test_vip_import_and_export(
    database: Database, run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    customers = tmp_path / "vip.csv"
    customers.write_text("号码,姓名\n13501234567,王芳\n13601234567,李雷\nabc,?\n", "utf-8")
    assert run("vip", "import", customers, "--reason", "年度大客户", "--by", "dora") == 0
    assert capsys.readouterr().out.startswith(f"2 added, 0 already on the {TITLE}, 1 not valid numbers\n")
    exported = tmp_path / "out.csv"
    assert run("vip", "export", "--out", exported) == 0
    assert [line.split(",")[:5] for line in exported.read_text("utf-8-sig").splitlines()[1:]] == [
        ["+8613501234567", "exact", "global", "", "年度大客户"],
        ["+8613601234567", "exact", "global", "", "年度大客户"],
    ]
    assert _audit(database) == [("dora", "vip.import", "vip.csv")]


def test_whitelist_check_finds_its_entries(
    database: Database, run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("whitelist", "add", "+44", "--prefix", "--reason", "UK office") == 0
    capsys.readouterr()
    assert run("whitelist", "check", "+442079460018") == 1
    assert (
        capsys.readouterr().out
        == "+442079460018 is listed: whitelist, prefix +44, global, reason: UK office\n"
    )


def test_a_caller_on_the_vip_list_arrives_tagged_vip_while_the_entry_is_in_force(database: Database) -> None:
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    listed = BlockEntry(BlockKind.VIP, "+86135", BlockMatch.PREFIX, expires_at=now + timedelta(hours=1))
    blocklist_store.add(database, listed, CHANGE)

    def tags(caller: str, at: datetime) -> frozenset[str]:
        return look_up(database, FlowCache(), "4008001000", caller, at, "CN").caller.tags

    assert tags("13501234567", now) == frozenset({"vip"})
    assert tags("13601234567", now) == frozenset()
    assert tags("13501234567", now + timedelta(hours=1)) == frozenset(), "expired"
    arrival = look_up(database, FlowCache(), "4008001000", "13501234567", now, "CN")
    assert (arrival.caller.customer, arrival.blacklisted) == ({}, False), "no customer record needed"
