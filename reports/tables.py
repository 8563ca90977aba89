"""A report's result as a table (RPT-8): named, typed columns and rows, shown or written.

Every report builds a `Report`; `cli/report.py` prints it (rich), or writes it as CSV or XLSX
(`reports.files`: UTF-8 with BOM, formulas neutralised) or JSON, or draws its trend as a PNG
(`reports.charts`). Rates are fractions (0.25), durations seconds; the table shows them as
percentages and h:mm:ss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TEXT = "text"
    COUNT = "count"
    RATE = "rate"  # a fraction; None when its denominator is zero
    SECONDS = "seconds"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind = Kind.COUNT


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    columns: Sequence[Column]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)  # what the figures mean, where they are defined

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": [{"name": column.name, "kind": column.kind.value} for column in self.columns],
            "rows": [dict(zip(self.header, row, strict=True)) for row in self.rows],
            "notes": self.notes,
        }


def shown(value: Any, kind: Kind) -> str:
    """A cell as people read it."""
    if value is None:
        return "—"
    if kind is Kind.RATE:
        return f"{value:.1%}"
    if kind is Kind.SECONDS:
        seconds = round(value)
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if kind is Kind.COUNT and isinstance(value, int | float):
        return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    return str(value)


def ratio(numerator: float, denominator: float) -> float | None:
    """A rate, None when nothing was counted under it (never a division by zero, never a fake 0 %)."""
    return numerator / denominator if denominator else None
