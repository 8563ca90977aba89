"""`ringcast dnc ...` and `ringcast blacklist ...`: entries, checks, bulk files, and the audit trail."""

from __future__ import annotations

import csv
import getpass
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, BlocklistEntry
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope
from tests.db.importing import add_campaign, cli_on

pytestmark = pytest.mark.db


def _audit(database: Database) -> list[tuple[str, str, str | None]]:
    with database.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(row.actor, row.action, row.entity_id) for row in rows]


def test_add_check_remove_with_reasons_and_audit(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli_on(database, monkeypatch, tmp_path)
    add = ("dnc", "add", "138 0013 8000", "--reason", "客户投诉", "--source", "hotline", "--by", "alice")
    assert run(*add) == 0
    assert (
        capsys.readouterr().out
        == "added: dnc, exact +8613800138000, global, reason: 客户投诉, source: hotline\n"
    )

    assert run("dnc", "check", "+86 138-0013-8000") == 1
    out = capsys.readouterr().out
    assert (
        out
        == "+8613800138000 is blocked: dnc, exact +8613800138000, global, reason: 客户投诉, source: hotline\n"
    )
    assert run("dnc", "check", "13900139000") == 0
    assert capsys.readouterr().out == "+8613900139000 is not on the do-not-call list (免打扰)\n"
    assert run("blacklist", "check", "13800138000") == 0  # another list
    capsys.readouterr()

    assert run("dnc", "add", "13800138000", "--reason", "本人要求", "--by", "bob") == 0
    assert capsys.readouterr().out.startswith("updated: dnc, exact +8613800138000, global, reason: 本人要求")
    assert run("dnc", "remove", "13800138000", "--by", "carol") == 0
    assert run("dnc", "remove", "13800138000") == 2
    assert capsys.readouterr().err == "error: +8613800138000 is not on the dnc list (global)\n"
    assert run("dnc", "check", "13800138000") == 0
    assert _audit(database) == [
        ("alice", "dnc.add", "+8613800138000"),
        ("bob", "dnc.update", "+8613800138000"),
        ("carol", "dnc.remove", "+8613800138000"),
    ]


def test_prefix_campaign_and_expiry(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_campaign(database, "秋季回访")
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("blacklist", "add", "+86170", "--prefix", "--reason", "虚拟运营商") == 0
    assert run("blacklist", "add", "170", "--prefix") == 2
    assert "must be written in E.164 form" in capsys.readouterr().err
    assert run("blacklist", "check", "17012345678") == 1
    assert run("dnc", "add", "13900139000", "--campaign", "秋季回访", "--expires", "2099-12-31") == 0
    assert run("dnc", "check", "13900139000") == 0
    assert run("dnc", "check", "13900139000", "--campaign", "秋季回访") == 1
    assert run("dnc", "add", "13700137000", "--expires", "2020-01-01") == 0
    assert run("dnc", "check", "13700137000") == 0  # expired
    assert run("dnc", "add", "13700137000", "--expires", "someday") == 2
    assert run("dnc", "add", "12345", "--by", "x") == 2
    capsys.readouterr()
    with database.session() as session:
        entries = {(e.kind, e.value, e.match, e.scope) for e in session.scalars(select(BlocklistEntry))}
    assert entries == {
        (BlockKind.BLACKLIST, "+86170", BlockMatch.PREFIX, BlockScope.GLOBAL),
        (BlockKind.DNC, "+8613900139000", BlockMatch.EXACT, BlockScope.CAMPAIGN),
        (BlockKind.DNC, "+8613700137000", BlockMatch.EXACT, BlockScope.GLOBAL),
    }
    assert [actor for actor, _, _ in _audit(database)] == [getpass.getuser()] * 3


def test_bulk_import_is_idempotent_and_export_lists_everything(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text(
        "号码,来源\n13800138000,投诉\n+86 139 0013 9000,投诉\nabc,?\n13800138000,重复\n", "gbk"
    )
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("dnc", "import", registry, "--reason", "监管名单", "--by", "dora") == 0
    out = capsys.readouterr().out
    assert out.startswith("2 added, 1 already on the do-not-call list (免打扰), 1 not valid numbers\n")
    assert run("dnc", "import", registry, "--by", "dora") == 0
    assert capsys.readouterr().out.startswith("0 added, 3 already on the do-not-call list")

    exported = tmp_path / "dnc.csv"
    assert run("dnc", "export", "--out", exported) == 0
    with exported.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["value"], row["reason"], row["source"], row["added_by"]) for row in rows] == [
        ("+8613800138000", "监管名单", "import:registry.csv", "dora"),
        ("+8613900139000", "监管名单", "import:registry.csv", "dora"),
    ]
    assert _audit(database) == [("dora", "dnc.import", "registry.csv")] * 2
