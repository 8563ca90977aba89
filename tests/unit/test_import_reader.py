"""Reading lists: encodings, delimiters, headers, line numbers, ragged and damaged rows, bad files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from imports.columns import Columns, parse_map, resolve
from imports.reader import SourceRow, open_table
from imports.sniff import sniff
from ringcast.errors import UserError

HEADER = "姓名,手机号,城市\n"
ROWS = "张三,13800138000,北京\n李四,+86 139 0013 9000,上海\n"


def read(path: Path, sheet: str | None = None) -> tuple[list[str], list[SourceRow]]:
    table = open_table(path, sniff(path), sheet)
    try:
        return table.header, list(table.rows())
    finally:
        table.close()


def write(tmp_path: Path, data: bytes, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write(tmp_path, (HEADER + ROWS + "王五,13700137000,㐀\n").encode(encoding, errors="ignore"))
    assert sniff(path).encoding == expected
    header, rows = read(path)
    assert header == ["姓名", "手机号", "城市"]
    assert rows[0] == SourceRow(2, ["张三", "13800138000", "北京"])


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_the_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = (HEADER + ROWS).replace(",", delimiter)
    header, rows = read(write(tmp_path, text.encode()))
    assert header == ["姓名", "手机号", "城市"]
    assert rows[1].cells == ["李四", "+86 139 0013 9000", "上海"]


def test_a_file_of_bare_numbers_has_no_header(tmp_path: Path) -> None:
    header, rows = read(write(tmp_path, b"13800138000\n13900139000\n"))
    assert header == ["column 1"]
    assert rows == [SourceRow(1, ["13800138000"]), SourceRow(2, ["13900139000"])]


def test_line_numbers_count_quoted_newlines_and_skip_blank_lines(tmp_path: Path) -> None:
    text = HEADER + '张三,13800138000,"北京\n朝阳"\n\n李四,13900139000,上海\n'
    _, rows = read(write(tmp_path, text.encode()))
    assert [(row.line, row.cells[2]) for row in rows] == [(2, "北京\n朝阳"), (5, "上海")]


def test_ragged_rows_are_passed_on_as_problems(tmp_path: Path) -> None:
    _, rows = read(write(tmp_path, (HEADER + "张三,13800138000\n李四,13900139000,上海,多余\n").encode()))
    assert [row.problem for row in rows] == [
        "2 fields where the header has 3",
        "4 fields where the header has 3",
    ]


def test_undecodable_bytes_damage_only_their_row(tmp_path: Path) -> None:
    good = (HEADER + "张三,13800138000,北京\n").encode()
    path = write(
        tmp_path, good + "李四,13900139000,上".encode() + b"\xff\xfe\n" + "王五,13700137000,广州\n".encode()
    )
    kind = sniff(path)
    assert (kind.encoding, kind.has_bad_bytes) == ("utf-8", True)
    _, rows = read(path)
    assert [row.problem for row in rows] == [None, "bytes that are not text in the file's encoding", None]
    assert rows[1].cells[1] == "13900139000"


def test_a_nul_after_the_first_mib_damages_only_its_row(tmp_path: Path) -> None:
    filler = "张三,13800138000,北京\n" * 50_000  # more than the first MiB, which must have no NUL
    path = write(tmp_path, (HEADER + filler + "李四,13900139000,上\x00海\n").encode())
    _, rows = read(path)
    assert rows[-1].problem == "bytes that are not text in the file's encoding"
    assert rows[-1].cells == ["李四", "13900139000", "上\ufffd海"]
    assert all(row.problem is None for row in rows[:-1])


def test_xlsx_cells_read_as_a_csv_export_would(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "客户"
    sheet.append(["姓名", "手机号", "生日"])
    sheet.append(["张三", 13800138000, datetime(1990, 5, 1)])
    sheet.append(["李四", 8613900139000.0])
    sheet.append(["王五", "137 0013 7000", "x", "多余"])
    workbook.create_sheet("其他")
    path = tmp_path / "list.xlsx"
    workbook.save(path)
    assert sniff(path).format == "xlsx"
    header, rows = read(path, "客户")
    assert header == ["姓名", "手机号", "生日"]
    assert rows[0] == SourceRow(2, ["张三", "13800138000", "1990-05-01 00:00:00"])
    assert rows[1] == SourceRow(3, ["李四", "8613900139000", ""])
    assert rows[2].problem == "4 cells where the header has 3"
    with pytest.raises(UserError, match=r"no sheet named '客服' \(its sheets: 客户, 其他\)"):
        read(path, "客服")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf \r\n", "is empty"),
        (bytes(range(256)) * 40, "looks like a binary file"),
        ("姓名,手机号\n".encode("utf-16"), "UTF-16"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old Excel .xls"),
        (b"name,phone\n" + b"\x80\x81\xff,13800138000\n" * 50, "neither UTF-8 nor GBK"),
        (b"PK\x03\x04 not really a zip", "cannot read .* as an .xlsx workbook"),
    ],
)
def test_bad_files_are_refused_with_one_line(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(UserError, match=message) as error:
        read(write(tmp_path, data))
    assert "\n" not in str(error.value)


def test_a_header_without_rows_is_not_a_list(tmp_path: Path) -> None:
    header, rows = read(write(tmp_path, HEADER.encode()))
    assert (header, rows) == (["姓名", "手机号", "城市"], [])


def _valid(cell: str) -> bool:
    return cell.replace(" ", "").lstrip("+").isdigit() and len(cell) >= 11


@pytest.mark.parametrize(
    ("header", "phone"),
    [
        (["姓名", "手机号", "城市"], 1),
        (["姓名", "联系电话"], 1),
        (["Name", "Mobile Phone", "City"], 1),
        (["name", "TEL"], 1),
        (["客户", "手机号码（必填）"], 1),
        (["客户", "ｐｈｏｎｅ"], 1),
    ],
)
def test_the_phone_column_is_found_by_name(header: list[str], phone: int) -> None:
    assert resolve(header, {}, [], _valid).phone == phone


def test_the_phone_column_is_found_by_content() -> None:
    sample = [["张三", "备注", "13800138000"], ["李四", "", "13900139000"], ["王五", "x", "无"]]
    columns = resolve(["客户", "说明", "号"], {}, sample, _valid)
    assert (columns.phone, columns.phone_name, columns.found_by) == (2, "号", "content")


def test_no_phone_column_is_one_clear_error() -> None:
    with pytest.raises(
        UserError, match=r"no phone column found among: 姓名, 城市 \(name it with --map phone="
    ):
        resolve(["姓名", "城市"], {}, [["张三", "北京"]], _valid)


def test_map_names_columns_by_header_or_number() -> None:
    header = ["客户", "号码1", "号码2", "城市"]
    columns = resolve(header, parse_map("phone=号码2,name=客户"), [], _valid)
    assert columns == Columns(2, "号码2", 4, ((0, "name"), (1, "号码1"), (3, "城市")), "--map")
    assert resolve(header, parse_map("phone=2"), [], _valid).phone == 1
    with pytest.raises(UserError, match="--map: no column '电话'"):
        resolve(header, parse_map("phone=电话"), [], _valid)
    with pytest.raises(UserError, match="is not FIELD=COLUMN"):
        parse_map("phone")


def test_attributes_are_json_without_empty_cells() -> None:
    columns = resolve(["姓名", "手机号", "备注", "城市"], {}, [], _valid)
    encode = columns.attributes_json()
    assert encode(["张三", "13800138000", '说"好"', " "]) == '{"姓名":"张三","备注":"说\\"好\\""}'


def test_a_line_the_csv_module_cannot_split_is_one_malformed_row(tmp_path: Path) -> None:
    huge = "x" * 200_000  # over the csv module's field size limit
    path = write(tmp_path, (HEADER + ROWS * 30 + f"张三,13800138000,{huge}\n" + ROWS).encode())
    _, rows = read(path)
    assert len(rows) == 63 and [row.line for row in rows[-3:]] == [62, 63, 64]
    assert rows[-3].problem is not None and rows[-3].problem.startswith("cannot split the line")
    assert all(row.problem is None for row in rows[:-3] + rows[-2:])
    assert rows[-2].cells == ["张三", "13800138000", "北京"]


def test_a_line_that_cannot_be_split_among_the_first_is_a_malformed_row_too(tmp_path: Path) -> None:
    path = write(tmp_path, (HEADER + "张三,13800138000," + "x" * 200_000 + "\n" + ROWS).encode())
    header, rows = read(path)
    assert header == ["姓名", "手机号", "城市"]
    assert [(row.line, row.problem is None) for row in rows] == [(2, False), (3, True), (4, True)]
