"""Imports are scrubbed against DNC and blacklist entries and SMS opt-outs, and de-duplicated per campaign."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.persistence.db import Database
from campaigns.persistence.models import BlocklistEntry, CampaignList, Lead, SmsOptOut
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope
from imports.service import ImportRequest, run_import
from tests.db.importing import add_campaign, cli_on

pytestmark = pytest.mark.db

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROWS = [
    ("张三", "13800000001"),  # line 2: DNC, global
    ("李四", "+86 170 0000 0002"),  # line 3: blacklisted by prefix +86170
    ("王五", "13800000003"),  # line 4: DNC for campaign 秋季回访 only
    ("赵六", "13800000004"),  # line 5: DNC that expired yesterday
    ("钱七", "13800000005"),  # line 6: opted out of SMS
    ("孙八", "138-0000-0001"),  # line 7: DNC again (every row of a blocked number)
    ("周九", "13800000009"),  # line 8: already in the campaign's other list
]


def _file(tmp_path: Path, rows: list[tuple[str, str]], name: str = "list.csv") -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "手机号"])
        writer.writerows(rows)
    return path


def _block(kind: BlockKind, value: str, **fields: object) -> BlocklistEntry:
    return BlocklistEntry(kind=kind, value=value, added_by="test", added_at=NOW, **fields)


@pytest.fixture
def blocked(database: Database) -> int:
    """The entries of ROWS, and a campaign with a list holding 13800000009; the campaign's id."""
    campaign = add_campaign(database, "秋季回访", "老名单")
    with database.session() as session:
        session.add_all(
            [
                _block(BlockKind.DNC, "+8613800000001", reason="本人要求"),
                _block(BlockKind.BLACKLIST, "+86170", match=BlockMatch.PREFIX, reason="虚拟运营商"),
                _block(BlockKind.DNC, "+8613800000003", scope=BlockScope.CAMPAIGN, campaign_id=campaign),
                _block(BlockKind.DNC, "+8613800000004", expires_at=NOW - timedelta(days=1)),
                SmsOptOut(e164="+8613800000005", keyword="退订", source="sms_reply", at=NOW),
            ]
        )
    return campaign


def _import(
    database: Database, path: Path, list_name: str, campaign: str | None, rejects: Path
) -> dict[str, int]:
    request = ImportRequest(path, list_name, campaign=campaign, rejects=rejects)
    summary = run_import(database, request, now=NOW)
    return {"accepted": summary.accepted, **{k: v for k, v in summary.rejected.items() if v}}


def test_scrub_without_a_campaign(database: Database, blocked: int, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    counts = _import(database, _file(tmp_path, ROWS), "新名单", None, rejects)
    assert counts == {"accepted": 4, "dnc": 2, "blacklisted": 1}
    with rejects.open(encoding="utf-8-sig") as handle:
        details = {int(row["line"]): row["detail"] for row in csv.DictReader(handle)}
    assert details == {
        2: "dnc, exact +8613800000001, global, reason: 本人要求",
        3: "blacklist, prefix +86170, global, reason: 虚拟运营商",
        7: "dnc, exact +8613800000001, global, reason: 本人要求",
    }
    with database.session() as session:
        flags = dict(session.execute(select(Lead.e164, Lead.sms_opt_out)).all())
    assert flags == {
        "+8613800000003": False,
        "+8613800000004": False,
        "+8613800000005": True,
        "+8613800000009": False,
    }


def test_scrub_and_deduplicate_within_a_campaign(database: Database, blocked: int, tmp_path: Path) -> None:
    old = _import(
        database, _file(tmp_path, [("旧", "13800000009")], "old.csv"), "老名单", None, tmp_path / "r0"
    )
    assert old == {"accepted": 1}
    rejects = tmp_path / "rejects.csv"
    counts = _import(database, _file(tmp_path, ROWS), "新名单", "秋季回访", rejects)
    assert counts == {"accepted": 2, "dnc": 3, "blacklisted": 1, "duplicate": 1}
    with rejects.open(encoding="utf-8-sig") as handle:
        details = {int(row["line"]): row["detail"] for row in csv.DictReader(handle)}
    assert details[4] == f"dnc, exact +8613800000003, campaign {blocked}"
    assert details[8] == "already in list 老名单 of the same campaign (line 2)"
    with database.session() as session:
        attached = session.scalars(
            select(CampaignList.list_id).where(CampaignList.campaign_id == blocked)
        ).all()
    assert len(attached) == 2


def test_an_unknown_campaign_is_refused(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("import", _file(tmp_path, ROWS), "--list", "x", "--campaign", "没有") == 2
    err = capsys.readouterr().err
    assert err == "error: no campaign named '没有' (create it first, or leave out --campaign)\n"


def test_json_summary_through_the_cli(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli_on(database, monkeypatch, tmp_path)
    assert (
        run("import", _file(tmp_path, ROWS), "--list", "x", "--json", "--map", "phone=手机号,name=姓名") == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert (summary["total_rows"], summary["accepted"], summary["rejected"]["duplicate"]) == (7, 6, 1)
    with database.session() as session:
        assert session.scalars(select(Lead.attributes).where(Lead.source_line == 2)).one() == {"name": "张三"}
