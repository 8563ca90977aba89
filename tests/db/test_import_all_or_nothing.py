"""An import is one transaction: bad input and failures leave nothing; row problems never stop it."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, ContactList, Lead, ListImport, NumberPlace
from imports import service
from imports.decisions import Decision
from imports.service import ImportRequest, run_import
from imports.store import ImportWriter
from ringcast.errors import UserError
from tests.db.importing import SAMPLE, cli_on

pytestmark = pytest.mark.db


def _nothing_written(database: Database) -> None:
    with database.session() as session:
        for model in (ContactList, ListImport, Lead, AuditEntry):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model.__name__


@pytest.mark.parametrize("parallel", [False, True], ids=["inline", "worker"])
def test_a_failure_mid_import_leaves_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel: bool
) -> None:
    inserted = ImportWriter.insert
    calls = []

    def insert_then_fail(self: ImportWriter, *args: object) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        inserted(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ImportWriter, "insert", insert_then_fail)
    reports = tmp_path / "reports"
    reports.mkdir()
    request = ImportRequest(SAMPLE, "样本", rejects=reports / "rejects.csv")
    with pytest.raises(OSError, match="disk full"):
        run_import(database, request, chunk_rows=100, parallel=parallel)
    _nothing_written(database)
    assert list(reports.iterdir()) == []  # no rejects file, not even a partial one


def test_the_worker_process_gives_what_the_inline_stage_gives(database: Database) -> None:
    inline = run_import(database, ImportRequest(SAMPLE, "inline"), chunk_rows=64, parallel=False)
    worker = run_import(database, ImportRequest(SAMPLE, "worker"), chunk_rows=64, parallel=True)
    assert worker.as_json() | {"elapsed_s": 0, "rows_per_s": 0} == inline.as_json() | {
        "elapsed_s": 0,
        "rows_per_s": 0,
    }
    with database.session() as session:
        by_list = {
            name: sorted(
                session.execute(
                    select(Lead.source_line, Lead.e164, NumberPlace.region, Lead.attributes)
                    .join(ContactList, ContactList.id == Lead.list_id)
                    .outerjoin(NumberPlace, NumberPlace.id == Lead.place_id)
                    .where(ContactList.name == name)
                ).all()
            )
            for name in ("inline", "worker")
        }
    assert by_list["inline"] == by_list["worker"] and len(by_list["inline"]) == 748


def _xlsx(path: Path, rows: list[list[object]], sheet: str = "客户") -> Path:
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    workbook.save(path)
    return path


BAD_INPUTS = {
    "empty": (b"", "is empty"),
    "binary": (bytes(range(256)) * 64, "looks like a binary file"),
    "utf16": ("姓名,手机号\n张三,13800138000\n".encode("utf-16"), "UTF-16 text"),
    "encoding": (b"name,phone\n" + b"\x80\xff\x81,13800138000\n" * 20, "cannot tell the text encoding"),
    "no phone column": ("姓名,城市\n张三,北京\n".encode(), "no phone column found among: 姓名, 城市"),
    "no rows": ("姓名,手机号\n".encode(), "has a header but no data rows"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    data, message = BAD_INPUTS[case]
    path = tmp_path / "list.csv"
    path.write_bytes(data)
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("import", path, "--list", "x", "--rejects", tmp_path / "rejects.csv") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and message in captured.err and captured.err.count("\n") == 1
    _nothing_written(database)
    assert not (tmp_path / "rejects.csv").exists()


def test_a_missing_sheet_and_an_unknown_region_are_refused(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = _xlsx(tmp_path / "list.xlsx", [["姓名", "手机号"], ["张三", 13800138000]])
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("import", book, "--list", "x", "--sheet", "客服") == 2
    assert "has no sheet named '客服' (its sheets: 客户)" in capsys.readouterr().err
    assert run("import", book, "--list", "x", "--region", "ZZ") == 2
    assert "unknown region 'ZZ'" in capsys.readouterr().err
    _nothing_written(database)


def test_row_problems_never_stop_the_import(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(
        "姓名,手机号,城市\n张三,13800138000,北京\n李四,13900139000\n王五,13700137000,上海,多余\n".encode()
        + "赵六,13600136000,广".encode()
        + b"\xff\n"
        + "钱七,,深圳\n孙八,abc,杭州\n周九,13500135000,南京\n".encode()
    )
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("import", path, "--list", "x", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["total_rows"], summary["accepted"]) == (7, 2)
    assert summary["rejected"] | {} == {
        "malformed_row": 3,
        "missing_number": 1,
        "invalid_number": 1,
        "dnc": 0,
        "blacklisted": 0,
        "duplicate": 0,
    }


def test_xlsx_import(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = _xlsx(
        tmp_path / "list.xlsx",
        [
            ["姓名", "手机号", "备注"],
            ["张三", 13800138000, "=1+1"],
            ["李四", "+86 139 0013 9000", None],
            [None, None, None],
        ],
    )
    run = cli_on(database, monkeypatch, tmp_path)
    assert run("import", book, "--list", "表格", "--sheet", "客户", "--json") == 0
    assert json.loads(capsys.readouterr().out)["accepted"] == 2
    with database.session() as session:
        leads = dict(session.execute(select(Lead.source_line, Lead.e164)).all())
    assert leads == {2: "+8613800138000", 3: "+8613900139000"}


@pytest.mark.parametrize("parallel", [False, True], ids=["inline", "worker"])
def test_a_lead_breaking_a_check_constraint_fails_the_import(
    database: Database, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    decided = service.decide
    chunks = []

    def one_bad_type(*args: Any) -> Decision:
        decision = decided(*args)
        chunks.append(1)
        if len(chunks) == 2 and decision.new:  # the second chunk, after a first one went in fine
            line, raw, e164, extension, _, place, attributes = decision.new[-1]
            decision.new[-1] = (line, raw, e164, extension, "bogus", place, attributes)
        return decision

    monkeypatch.setattr(service, "decide", one_bad_type)
    with pytest.raises(Exception, match=r"CHECK constraints|violates check constraint"):
        run_import(database, ImportRequest(SAMPLE, "样本"), chunk_rows=100, parallel=parallel)
    _nothing_written(database)


def test_a_refused_import_ends_its_worker_process(database: Database) -> None:
    request = ImportRequest(SAMPLE, "样本", campaign="no such campaign")
    with pytest.raises(UserError, match="no campaign named"):
        run_import(database, request, chunk_rows=10, parallel=True)  # refused after the worker started
    assert multiprocessing.active_children() == []
    _nothing_written(database)
