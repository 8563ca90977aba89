"""`INSERT ... ON CONFLICT DO NOTHING` in the dialect of the connection (SQLite or PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_unless_present(
    connection: Connection, table: Table, index_elements: list[str] | None = None
) -> postgresql.Insert | sqlite.Insert:
    """An insert into `table` that skips rows clashing with a unique key (`index_elements`' if given)."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=index_elements)
