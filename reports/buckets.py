"""Time buckets computed in SQL: the quarter hour (UTC epoch / 900) an instant falls in.

Reports group rows by quarter hour in the database (SQLite and PostgreSQL alike), so at most 96
groups a day come back, then fold them into local hours, days or ISO weeks in Python
(`ReportQuery.bucket_of`). A quarter hour is the largest unit every time zone's hour starts on
(India +05:30, Nepal +05:45, Chatham +12:45): a local hour or day is a whole number of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, cast, func
from sqlalchemy.sql import ColumnElement

QUARTER_S = 900


def quarter_hour(column: Any, dialect: str) -> ColumnElement[int]:
    """The quarter-hour number (seconds since the epoch // 900) of a UTC timestamp column."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / QUARTER_S), Integer)
    return cast(cast(func.strftime("%s", column), Integer) / QUARTER_S, Integer)


def start_of(quarter: int) -> datetime:
    return datetime.fromtimestamp(quarter * QUARTER_S, UTC)
