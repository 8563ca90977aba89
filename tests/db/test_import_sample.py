"""The shared sample (1,000 messy GBK rows) through `ringcast import`, `list export`, and again."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, Lead, ListImport
from campaigns.persistence.models.enums import LeadState, NumberType
from campaigns.place_store import place_of
from tests.db.importing import SAMPLE, cli_on

pytestmark = pytest.mark.db

EXPECTED = {
    "total_rows": 1000,
    "accepted": 748,
    "rejected": {
        "malformed_row": 0,
        "missing_number": 39,
        "invalid_number": 44,
        "dnc": 0,
        "blacklisted": 0,
        "duplicate": 169,
    },
}


def _summary(out: str) -> dict[str, object]:
    summary = json.loads(out)
    assert set(summary) == {"total_rows", "accepted", "rejected", "elapsed_s", "rows_per_s"}
    return {key: summary[key] for key in ("total_rows", "accepted", "rejected")}


def _rejects(path: Path) -> dict[int, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {int(row["line"]): row for row in csv.DictReader(handle)}


def test_every_row_is_a_lead_or_a_reject(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli_on(database, monkeypatch, tmp_path)
    rejects = tmp_path / "rejects.csv"
    assert run("import", SAMPLE, "--list", "样本", "--json", "--rejects", rejects, "--by", "alice") == 0
    assert _summary(capsys.readouterr().out) == EXPECTED

    with database.session() as session:
        leads = {lead.source_line: lead for lead in session.scalars(select(Lead))}
        audit = session.scalars(select(AuditEntry)).one()
        first_place = place_of(session, leads[2])
    rejected = _rejects(rejects)
    assert len(leads) == 748 and len(rejected) == 252
    assert sorted([*leads, *rejected]) == list(range(2, 1002))  # the header is line 1

    first = leads[2]  # 黄芳娟,+86-15060181590,北京,老客户
    assert (first.e164, first.raw_input, first.number_type, first.state) == (
        "+8615060181590",
        "+86-15060181590",
        NumberType.MOBILE,
        LeadState.NEW,
    )
    assert first_place == ("福建省", "福州市", "中国移动", "Fujian", "Fuzhou", "China Mobile")
    assert first.time_zones == ["Asia/Shanghai"]
    assert first.attributes == {"姓名": "黄芳娟", "城市": "北京", "备注": "老客户"}
    assert first.next_attempt_at is not None and not first.sms_opt_out

    assert rejected[7] == {
        "line": "7",
        "raw": "'+86-15060181590",
        "reason": "duplicate",
        "detail": "same number as line 2",
    }
    assert rejected[12] == {
        "line": "12",
        "raw": "无",
        "reason": "missing_number",
        "detail": "no number in the cell",
    }
    assert rejected[28]["reason"] == "invalid_number"
    assert rejected[28]["detail"] == "not a valid number (no such number range): +868714372616"

    assert (audit.actor, audit.action, audit.entity, audit.entity_id) == (
        "alice",
        "list.import",
        "contact_list",
        "样本",
    )
    assert audit.details["accepted"] == 748


def test_reimporting_the_same_file_is_idempotent(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("import", SAMPLE, "--list", "样本", "--json") == 0
    first = _summary(capsys.readouterr().out)
    with database.session() as session:
        before = sorted(session.execute(select(Lead.id, Lead.e164, Lead.source_line)).all())

    assert run("import", SAMPLE, "--list", "样本", "--json") == 0
    assert _summary(capsys.readouterr().out) == first == EXPECTED
    with database.session() as session:
        after = sorted(session.execute(select(Lead.id, Lead.e164, Lead.source_line)).all())
        imports = session.scalars(select(ListImport)).all()
    assert after == before
    assert len(imports) == 1 and imports[0].accepted == 748 and imports[0].finished_at is not None


def test_another_file_with_the_same_numbers_adds_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("import", SAMPLE, "--list", "样本", "--json") == 0
    capsys.readouterr()
    again = tmp_path / "again.csv"
    again.write_bytes(SAMPLE.read_bytes() + "新客户,13700137000,北京,\r\n".encode("gbk"))
    assert run("import", again, "--list", "样本", "--json") == 0
    summary = _summary(capsys.readouterr().out)
    assert summary["accepted"] == 1
    assert summary["rejected"]["duplicate"] == 169 + 748  # type: ignore[index]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 749


def test_export_neutralises_formulas_and_keeps_e164_exact(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("import", SAMPLE, "--list", "样本") == 0
    out = tmp_path / "样本.csv"
    assert run("list", "export", "样本", "--out", out) == 0
    assert capsys.readouterr().out.endswith(f"748 leads written to {out}\n")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "source_line",
        "e164",
        "type",
        "region",
        "city",
        "carrier",
        "region_en",
        "city_en",
        "carrier_en",
        "time_zones",
        "extension",
        "sms_opt_out",
        "姓名",
        "城市",
        "备注",
    ]
    assert len(rows) == 748
    assert rows[0]["source_line"] == "2" and rows[0]["e164"] == "+8615060181590"
    place = [rows[0][name] for name in ("region", "city", "carrier", "region_en", "city_en", "carrier_en")]
    assert place == ["福建省", "福州市", "中国移动", "Fujian", "Fuzhou", "China Mobile"]
    formulas = [row for row in rows if "SUM" in row["备注"]]
    assert formulas and all(row["备注"] == "'=SUM(A1:A2)" for row in formulas)
    assert all(row["e164"].startswith("+") for row in rows)

    book = tmp_path / "样本.xlsx"
    assert run("list", "export", "样本", "--out", book) == 0
    sheet = load_workbook(book, read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][:2] == (2, "+8615060181590")
    notes = {row[14] for row in values[1:]}
    assert "'=SUM(A1:A2)" in notes and "=SUM(A1:A2)" not in notes


def test_list_show_counts_the_leads_of_the_top_regions(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("import", SAMPLE, "--list", "样本") == 0
    capsys.readouterr()
    assert run("list", "show", "样本") == 0
    lines = capsys.readouterr().out.splitlines()
    with database.session() as session:
        regions = Counter(place_of(session, lead).region for lead in session.scalars(select(Lead)))
    [(top, count)] = regions.most_common(1)
    assert top is not None and any(top in line and f"{count:,}" in line for line in lines), lines


def test_export_of_an_unknown_list_or_format_is_one_line(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("list", "export", "nope", "--out", tmp_path / "x.csv") == 2
    assert capsys.readouterr().err == "error: no list named 'nope' (`ringcast list ls` shows the lists)\n"
    assert run("list", "export", "nope", "--out", tmp_path / "x.txt") == 2
    assert "must end in .csv or .xlsx" in capsys.readouterr().err
