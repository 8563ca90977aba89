"""The declarative `Base`, its constraint naming convention, and the column types every table shares.

Portability rules that keep one schema valid on SQLite and PostgreSQL and keep Alembic quiet:

- Constraint and index names come from `NAMING_CONVENTION` (or are spelled out), so a migration
  names them the same on both databases and a later migration can drop them by name.
- `UTCDateTime` stores UTC and always hands back an aware UTC `datetime`; a naive value is refused,
  because guessing its zone is how call windows end up an hour off.
- `JSONType` is `JSON`, `JSONB` on PostgreSQL. Changes are detected on assignment only: to change a
  JSON value, assign a new object (`row.settings = {**row.settings, "caps": ...}`).
- `str_enum()` stores a `StrEnum` as a short string guarded by a CHECK constraint, never a native
  PostgreSQL enum type (those need special migration steps for every new value).
- `BigId` is a 64-bit id on PostgreSQL and SQLite's rowid integer there (the only type SQLite
  auto-increments).

Relationships are left to the code that navigates them; foreign keys carry the integrity.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Enum, Integer, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Every ringcast table. `Base.metadata` is what Alembic compares the migrations with."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utc_now() -> datetime:
    """The current time as an aware UTC datetime: the default for `created_at`-style columns."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time: aware datetimes in, aware UTC datetimes out, on every database.

    PostgreSQL keeps it as `timestamptz`; SQLite as naive UTC text, which also sorts correctly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given: pass an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum_values(enum_cls: type[StrEnum]) -> list[str]:
    return [member.value for member in enum_cls]


def str_enum(enum_cls: type[StrEnum], name: str, length: int = 16) -> Enum:
    """A `StrEnum` column type: VARCHAR(`length`) plus CHECK constraint `ck_<table>_<name>`.

    `name` is the column's name, so the constraint reads `ck_leads_state`. `length` leaves room
    for values added later without widening the column.
    """
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=_enum_values,
        validate_strings=True,
    )


class CreatedUpdated:
    """`created_at` and `updated_at` columns, both set by the ORM."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)


def empty_dict() -> dict[str, Any]:
    """Default for JSON object columns (a fresh dict per row)."""
    return {}


def empty_list() -> list[Any]:
    """Default for JSON array columns (a fresh list per row)."""
    return []
