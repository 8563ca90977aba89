"""Writing a report or export to a file: CSV (UTF-8 with a BOM, for Excel) or XLSX, streamed.

Rows are written as they come, so an export of millions of rows takes flat memory. `neutralise`
keeps text a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab, carriage return at
the start) as text, with a leading apostrophe (CSV injection); callers apply it to cells that
hold what people typed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """`=SUM(A1)` -> `'=SUM(A1)`: text a spreadsheet will not evaluate."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def write_csv(out: Path, header: list[str], rows: Iterable[list[Any]]) -> int:
    """Write `header` and `rows` to `out`; the number of rows written."""
    count = 0
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")  # characters Excel refuses in a sheet's name


def write_xlsx(out: Path, header: list[str], rows: Iterable[list[Any]], sheet_title: str) -> int:
    """Write `header` and `rows` to one sheet of a new workbook at `out`; the number of rows written."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_SHEET_UNSAFE.sub("-", sheet_title)[:31] or "sheet")
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    workbook.save(out)
    return count
