"""A large SQLite import drops the leads number index and builds it again; the result is the same."""

from __future__ import annotations

import pytest
from sqlalchemy import Index, inspect, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import ContactList, Lead, NumberPlace
from imports import store
from imports.service import ImportRequest, run_import
from tests.db.importing import SAMPLE

pytestmark = pytest.mark.db


def _index_names(database: Database) -> list[str]:
    with database.connect() as connection:
        return sorted(str(index["name"]) for index in inspect(connection).get_indexes("leads"))


def _leads(database: Database, list_name: str) -> list[tuple[object, ...]]:
    with database.session() as session:
        query = (
            select(Lead.source_line, Lead.e164, NumberPlace.region, Lead.attributes, Lead.state)
            .join(ContactList, ContactList.id == Lead.list_id)
            .outerjoin(NumberPlace, NumberPlace.id == Lead.place_id)
        )
        return sorted(session.execute(query.where(ContactList.name == list_name)).all())


def _dropped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Lower the threshold to the sample's size; return the names of the indexes dropped."""
    monkeypatch.setattr(store, "DEFER_INDEXES_FROM_ROWS", 100)
    dropped: list[str] = []
    drop = Index.drop

    def spy(index: Index, *args: object, **kwargs: object) -> None:
        dropped.append(str(index.name))
        drop(index, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Index, "drop", spy)
    return dropped


def test_deferred_indexes_are_built_again_and_the_leads_are_the_same(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexes = _index_names(database)
    dropped = _dropped(monkeypatch)
    deferred = run_import(database, ImportRequest(SAMPLE, "deferred"), chunk_rows=100, parallel=False)
    assert dropped == (["uq_leads_list_id_e164"] if database.backend == "sqlite" else [])
    assert _index_names(database) == indexes
    monkeypatch.setattr(store, "DEFER_INDEXES_FROM_ROWS", 10**9)
    kept = run_import(database, ImportRequest(SAMPLE, "kept"), chunk_rows=100, parallel=False)
    assert deferred.accepted == kept.accepted == 748
    assert _leads(database, "deferred") == _leads(database, "kept")


def test_a_table_holding_more_leads_than_the_import_brings_keeps_its_indexes(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_import(database, ImportRequest(SAMPLE, "first"), chunk_rows=1000, parallel=False)
    dropped = _dropped(monkeypatch)
    run_import(database, ImportRequest(SAMPLE, "second"), chunk_rows=100, parallel=False)
    assert dropped == []


def test_a_failure_after_the_indexes_were_dropped_leaves_them_in_place(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexes = _index_names(database)
    dropped = _dropped(monkeypatch)

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store.ImportWriter, "finish", fail)
    with pytest.raises(OSError, match="disk full"):
        run_import(database, ImportRequest(SAMPLE, "failed"), chunk_rows=100, parallel=False)
    assert dropped or database.backend != "sqlite"
    assert _index_names(database) == indexes
    assert _leads(database, "failed") == []
