"""Time in SQL: the quarter hour (UTC epoch / 900) an instant falls in, and durations in milliseconds.

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
    return _epoch_steps(column, dialect, QUARTER_S)


def minute_of(column: Any, dialect: str) -> ColumnElement[int]:
    """The minute number (seconds since the epoch // 60) of a UTC timestamp column."""
    return _epoch_steps(column, dialect, 60)


def _epoch_steps(column: Any, dialect: str, step_s: int) -> ColumnElement[int]:
    """Whole `step_s` since the epoch; on SQLite an integer division (a float one costs a third more)."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / step_s), Integer)
    return cast(func.strftime("%s", column), Integer) // step_s


def start_of(quarter: int) -> datetime:
    return datetime.fromtimestamp(quarter * QUARTER_S, UTC)


def milliseconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[int]:
    """`end - start` of two timestamp columns in whole milliseconds (NULL if either is), alike on both
    databases."""
    if dialect == "postgresql":
        return cast(func.round(func.extract("epoch", end - start) * 1000), Integer)
    return cast(func.round((func.julianday(end) - func.julianday(start)) * 86_400_000), Integer)
