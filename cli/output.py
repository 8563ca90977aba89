"""How a command's table comes out: printed, or written as CSV, XLSX or JSON (the file's suffix decides)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from ringcast.errors import UserError

SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


def format_of(out: Path) -> str:
    """The format `out`'s suffix names; a `UserError` when it names none."""
    try:
        return SUFFIXES[out.suffix.lower()]
    except KeyError:
        raise UserError(
            f"cannot tell which format to write {out.name} in",
            hint="give --format, or a file ending in .csv, .xlsx or .json",
        ) from None
