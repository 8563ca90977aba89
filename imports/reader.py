"""Rows out of a CSV or XLSX file, streamed: the header, then one `SourceRow` per data row.

CSV bytes are read a MiB at a time and decoded a block at once (in C); a block that does not
decode is decoded line by line, and only the lines that fail are marked, so that their rows
become `malformed_row` rejects instead of stopping the import. Line numbers are the file's own
(the header is line 1; a quoted cell spanning lines counts them all; a row carries the line it
starts on). XLSX sheets are read with openpyxl in read-only mode, a row at a time; the line is
the sheet's row number. Memory stays flat however long the file is.

A row whose field count differs from the header's is passed on with a `problem`, as is a CSV
row the csv module cannot split. Whether the first row is a header is guessed: it is not when
one of its cells holds seven or more digits (a file of bare numbers).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from imports.sniff import BLOCK, FileKind, sniff_delimiter
from ringcast.errors import UserError

_SNIFF_LINES = 50
_NUMBER_LIKE = re.compile(r"(?:\d\D{0,3}){7}")
_BAD_TEXT = re.compile("[\udc80-\udcff\x00]")  # undecodable bytes (kept by surrogateescape), NULs


class SourceRow(NamedTuple):
    """One data row: its line, its cells, and what is wrong with its shape (None if nothing)."""

    line: int
    cells: list[str]
    problem: str | None = None


_new_row = tuple.__new__  # `_new_row(SourceRow, values)`: a CSV row without the Python-level __new__


class Table:
    """An open file: `header` (column names) and `rows()`, to iterate once; close when done."""

    def __init__(
        self,
        header: list[str],
        rows: Iterator[SourceRow],
        closer: Any,
        position: Callable[[], tuple[int, int]],
    ) -> None:
        self.header = header
        self._rows = rows
        self._closer = closer
        self.position = position  # () -> (done, total): bytes of a CSV, rows of a sheet

    def rows(self) -> Iterator[SourceRow]:
        return self._rows

    def close(self) -> None:
        self._closer.close()


def open_table(path: Path, kind: FileKind, sheet: str | None = None) -> Table:
    """Open `path` as `kind` says; raise `UserError` if it has no rows or the sheet is missing."""
    if kind.format == "xlsx":
        return _open_xlsx(path, sheet)
    if sheet is not None:
        raise UserError(f"--sheet applies to .xlsx files; {path} is a CSV file")
    assert kind.encoding is not None
    handle = path.open("rb")
    try:
        return _open_csv(path, handle, kind.encoding)
    except BaseException:
        handle.close()
        raise


def _header_and_rows(
    path: Path, first: list[str] | None, rows: Iterator[SourceRow]
) -> tuple[list[str], Iterator[SourceRow]]:
    if first is None:
        raise UserError(f"{path} has no rows", hint="export the list again, with its rows")
    if any(_NUMBER_LIKE.search(cell) for cell in first):  # no header: the first row is data
        width = len(first)
        header = [f"column {n}" for n in range(1, width + 1)]
        return header, chain([SourceRow(1, first)], rows)
    return _unique_names(first), rows


def _unique_names(cells: list[str]) -> list[str]:
    names: list[str] = []
    for n, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff") or f"column {n}"
        candidate, copy = name, 2
        while candidate in names:
            candidate, copy = f"{name} ({copy})", copy + 1
        names.append(candidate)
    return names


class _CsvLines:
    """The decoded lines of a CSV file; `damaged` turns True once a line could not be decoded."""

    def __init__(self, handle: BinaryIO, encoding: str) -> None:
        self._handle = handle
        self._encoding = encoding
        self.damaged = False

    def __iter__(self) -> Iterator[str]:
        tail = b""
        encoding = self._encoding
        for block in iter(lambda: self._handle.read(BLOCK), b""):
            data = tail + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                tail = data
                continue
            tail = data[cut:]
            yield from io.StringIO(self._decode(data[:cut], encoding), newline="")
            encoding = encoding.removesuffix("-sig")  # a byte-order mark only starts the file
        if tail:
            yield from io.StringIO(self._decode(tail, encoding), newline="")

    def _decode(self, data: bytes, encoding: str) -> str:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            self.damaged = True
            return data.decode(encoding, "surrogateescape")
        if "\x00" in text:  # no database text column takes a NUL
            self.damaged = True
        return text


def _open_csv(path: Path, handle: BinaryIO, encoding: str) -> Table:
    lines = _CsvLines(handle, encoding)
    line_iter = iter(lines)
    sample = [line for _, line in zip(range(_SNIFF_LINES), line_iter, strict=False)]
    reader = csv.reader(chain(sample, line_iter), delimiter=sniff_delimiter(sample))
    rows = _csv_rows(reader, lines)
    first = next(rows, None)
    if first is not None and first.problem is not None:
        raise UserError(f"cannot read the first line of {path}: {first.problem}")
    header, data = _header_and_rows(path, first.cells if first else None, rows)
    size = path.stat().st_size
    return Table(header, _with_width(data, len(header)), handle, lambda: (handle.tell(), size))


def _csv_rows(reader: Any, lines: _CsvLines) -> Iterator[SourceRow]:
    previous = 0
    while True:
        try:
            for cells in reader:  # a line the csv module cannot split ends this loop, not the rows
                line, previous = previous + 1, reader.line_num
                if not cells:  # a blank line: not a row
                    continue
                if lines.damaged and any(_BAD_TEXT.search(cell) for cell in cells):
                    fixed = [_BAD_TEXT.sub("\ufffd", cell) for cell in cells]
                    yield SourceRow(line, fixed, "bytes that are not text in the file's encoding")
                    continue
                yield _new_row(SourceRow, (line, cells, None))
            return
        except csv.Error as error:
            yield SourceRow(previous + 1, [], f"cannot split the line: {error}")
            previous = reader.line_num


def _with_width(rows: Iterator[SourceRow], width: int) -> Iterator[SourceRow]:
    for row in rows:
        if row.problem is None and len(row.cells) != width:
            yield SourceRow(row.line, row.cells, f"{len(row.cells)} fields where the header has {width}")
        else:
            yield row


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl errors alike
        raise UserError(f"cannot read {path} as an .xlsx workbook: {error}") from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            names = ", ".join(workbook.sheetnames)
            raise UserError(f"{path} has no sheet named {sheet!r} (its sheets: {names})")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        counter = _Counter()
        rows = _xlsx_rows(worksheet.iter_rows(values_only=True), counter)
        first = next(rows, None)
        header, data = _header_and_rows(path, first.cells if first else None, rows)
    except BaseException:
        workbook.close()
        raise
    total = worksheet.max_row or 0
    return Table(header, _xlsx_width(data, len(header)), workbook, lambda: (counter.line, total))


class _Counter:
    line = 0


def _xlsx_rows(values: Iterator[tuple[Any, ...]], counter: _Counter) -> Iterator[SourceRow]:
    for line, row in enumerate(values, start=1):
        counter.line = line
        cells = [_cell_text(value) for value in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            yield SourceRow(line, cells)


def _xlsx_width(rows: Iterator[SourceRow], width: int) -> Iterator[SourceRow]:
    """Sheets drop trailing empty cells: pad short rows; a row longer than the header is malformed."""
    for row in rows:
        if len(row.cells) > width:
            yield SourceRow(row.line, row.cells, f"{len(row.cells)} cells where the header has {width}")
        else:
            yield SourceRow(row.line, row.cells + [""] * (width - len(row.cells)))


def _cell_text(value: Any) -> str:
    """A sheet cell as the text a CSV export would hold (13800138000, not 1.38e10)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
