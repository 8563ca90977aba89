"""The migrations build exactly the models' schema, on SQLite and PostgreSQL, and can be undone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text

from campaigns.persistence.db import Database, alembic_config, head_revision
from campaigns.persistence.models import Base
from campaigns.place_store import PlaceTexts, place_key

pytestmark = pytest.mark.db


def _differences(database: Database) -> list[Any]:
    with database.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def _snapshot(connection: Connection) -> dict[str, Any]:
    """Every table's columns, keys, indexes (with partial-index predicates) and CHECK constraints."""
    inspector = inspect(connection)
    snapshot: dict[str, Any] = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in inspector.get_columns(table)
            ],
            "pk": inspector.get_pk_constraint(table),
            "fks": sorted(inspector.get_foreign_keys(table), key=lambda fk: str(fk["name"])),
            "uniques": sorted(inspector.get_unique_constraints(table), key=lambda uq: str(uq["name"])),
            "indexes": sorted(
                (
                    {**ix, "dialect_options": _as_text(ix.get("dialect_options", {}))}
                    for ix in inspector.get_indexes(table)
                ),
                key=lambda ix: str(ix["name"]),
            ),
            "checks": sorted(inspector.get_check_constraints(table), key=lambda ck: str(ck["name"])),
        }
    return snapshot


def _as_text(options: dict[str, Any]) -> dict[str, str]:
    """Reflected partial-index predicates are SQL expressions: compare their text."""
    return {key: str(value) for key, value in options.items()}


def test_upgrade_from_empty_matches_the_models(empty_database_url: str) -> None:
    with Database(empty_database_url) as database:
        assert database.current_revision() is None
        assert database.upgrade() == (None, head_revision())
        assert database.current_revision() == head_revision()
        assert _differences(database) == []
        assert database.upgrade() == (head_revision(), head_revision())
        database.check_migrated()


def test_migrated_schema_is_identical_to_create_all(make_database_url: Callable[[], str]) -> None:
    """Stricter than autogenerate: also CHECK constraints, partial-index predicates and defaults."""
    with Database(make_database_url()) as migrated:
        migrated.upgrade()
        with migrated.connect() as connection:
            from_migrations = _snapshot(connection)
    created = create_engine(make_database_url())
    try:
        Base.metadata.create_all(created)
        with created.connect() as connection:
            from_models = _snapshot(connection)
    finally:
        created.dispose()
    assert from_migrations.keys() == from_models.keys()
    for table in from_models:
        assert from_migrations[table] == from_models[table], table


def test_downgrade_to_base_and_up_again(empty_database_url: str) -> None:
    with Database(empty_database_url) as database:
        database.upgrade()
        with database.connect() as connection, connection.begin():
            command.downgrade(alembic_config(connection), "base")
            assert inspect(connection).get_table_names() == ["alembic_version"]
        assert database.current_revision() is None
        database.upgrade()
        assert _differences(database) == []


TEXT_NAMES = PlaceTexts._fields
LEAD_0021 = text(
    "INSERT INTO leads (list_id, e164, raw_input, attributes, time_zones, state, created_at, updated_at,"
    f" {', '.join(TEXT_NAMES)}) VALUES (1, :e164, '', '{{}}', '[]', 'done', '2026-12-01', '2026-12-01',"
    f" {', '.join(f':{name}' for name in TEXT_NAMES)})"
)
PLACES_0021 = [  # (region, city, carrier, region_en, city_en, carrier_en) of leads before 0022
    ("广东省", "深圳市", "中国移动", "Guangdong", "Shenzhen", "China Mobile"),
    ("广东省", "深圳市", "中国移动", "Guangdong", "Shenzhen", "China Mobile"),
    ("北京市", None, "中国联通", "Beijing", None, "China Unicom"),
    (None, None, None, None, None, None),
]


def test_0022_gives_the_existing_leads_their_places_and_takes_them_back(empty_database_url: str) -> None:
    """Leads with the same six texts share one place; a lead with none gets none; down again, every
    lead has its texts back."""
    with Database(empty_database_url) as database, database.connect() as connection, connection.begin():
        command.upgrade(alembic_config(connection), "0021")
        for n, texts in enumerate(PLACES_0021):
            connection.execute(
                LEAD_0021, {"e164": f"+861380000000{n}", **dict(zip(TEXT_NAMES, texts, strict=True))}
            )
        command.upgrade(alembic_config(connection), "0022")
        places = connection.exec_driver_sql(
            "SELECT leads.e164, number_places.* FROM leads"
            " LEFT JOIN number_places ON number_places.id = leads.place_id ORDER BY leads.e164"
        ).all()
        assert [row[3:] for row in places] == PLACES_0021
        assert places[0][1] == places[1][1] and places[0][1] != places[2][1] and places[3][1] is None
        assert places[0][2] == place_key(PlaceTexts(*PLACES_0021[0])), "the key place_store computes"
        assert connection.exec_driver_sql("SELECT count(*) FROM number_places").scalar() == 2
        command.downgrade(alembic_config(connection), "0021")
        texts = connection.exec_driver_sql(f"SELECT {', '.join(TEXT_NAMES)} FROM leads ORDER BY e164").all()
        assert [tuple(row) for row in texts] == PLACES_0021
