"""Imported leads refer to their number's place (`number_places`): one row per distinct place, shared by
every lead and import, holding exactly phonenumbers' texts; on PostgreSQL an import commits the places it
adds at once, so that another import adding them never waits for it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from campaigns.number_facts import E164_ONLY, number_facts
from campaigns.persistence.db import Database
from campaigns.persistence.models import Lead, NumberPlace
from campaigns.place_store import NO_PLACE, place_of, texts_of
from imports.service import ImportRequest, run_import
from imports.store import ImportWriter
from tests.db.importing import SAMPLE

pytestmark = pytest.mark.db


def _count(database: Database, model: type[Lead] | type[NumberPlace]) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_leads_share_places_that_hold_their_numbers_facts(database: Database) -> None:
    run_import(database, ImportRequest(SAMPLE, "first"), chunk_rows=100)
    places = _count(database, NumberPlace)
    with database.session() as session:
        leads = session.scalars(select(Lead)).all()
        assert len({lead.place_id for lead in leads} - {None}) == places > 1  # no place without its leads
        for lead in leads:
            facts = number_facts(lead.e164, E164_ONLY)
            assert facts is not None
            assert place_of(session, lead) == texts_of(facts.place), lead.e164
            assert (lead.place_id is None) == (texts_of(facts.place) == NO_PLACE)
    run_import(database, ImportRequest(SAMPLE, "second"), chunk_rows=100)
    assert _count(database, NumberPlace) == places, "the second list's leads use the same places"


@pytest.mark.parametrize("parallel", [False, True], ids=["inline", "worker"])
def test_an_imports_places_are_committed_at_once_on_postgresql(
    database: Database, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """Seen from another connection before the import commits: its places on PostgreSQL (so an
    import adding the same place would not wait for this one), none on SQLite (one writer at a
    time there). On PostgreSQL they stay when the import then fails; its leads do not."""
    seen: list[int] = []

    def finish_then_fail(self: ImportWriter, *args: object, **kwargs: object) -> None:
        self._written()  # the last chunk's insert, and its places, done
        other = create_engine(database.url, poolclass=NullPool)
        try:
            with other.connect() as connection:
                seen.append(int(connection.scalar(select(func.count()).select_from(NumberPlace)) or 0))
        finally:
            other.dispose()
        raise OSError("disk full")

    monkeypatch.setattr(ImportWriter, "finish", finish_then_fail)
    with pytest.raises(OSError, match="disk full"):
        run_import(database, ImportRequest(SAMPLE, "样本"), chunk_rows=100, parallel=parallel)
    postgresql = database.backend == "postgresql"
    assert (seen[0] > 1) if postgresql else (seen == [0])
    assert _count(database, NumberPlace) == seen[0] and _count(database, Lead) == 0
