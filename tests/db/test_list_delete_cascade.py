"""Deleting a list deletes its leads (and only its leads), though `leads.list_id` has no foreign key.

Migration 0005 replaced the key's `ON DELETE CASCADE` with a trigger on `contact_lists`; the
models create the same trigger, so both ways of building the schema keep the guarantee.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, delete, func, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import Base, ContactList, Lead
from imports.service import ImportRequest, run_import
from tests.db.importing import SAMPLE

pytestmark = pytest.mark.db

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _leads_by_list(database: Database) -> dict[str, int]:
    with database.session() as session:
        query = select(ContactList.name, func.count(Lead.id)).join(Lead, Lead.list_id == ContactList.id)
        return {name: count for name, count in session.execute(query.group_by(ContactList.name))}


def _orphans(database: Database) -> int:
    with database.session() as session:
        known = select(ContactList.id)
        return int(session.scalar(select(func.count(Lead.id)).where(Lead.list_id.not_in(known))) or 0)


def test_deleting_a_list_deletes_its_leads(database: Database) -> None:
    run_import(database, ImportRequest(SAMPLE, "going"), parallel=False)
    run_import(database, ImportRequest(SAMPLE, "staying"), parallel=False)
    before = _leads_by_list(database)
    assert before["going"] == before["staying"] > 0
    with database.session() as session:
        session.execute(delete(ContactList).where(ContactList.name == "going"))
    assert _leads_by_list(database) == {"staying": before["staying"]}
    assert _orphans(database) == 0


def test_the_models_create_the_same_trigger(make_database_url: Callable[[], str]) -> None:
    engine = create_engine(make_database_url())
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            list_id = connection.execute(
                ContactList.__table__.insert().values(name="x", source_file="x.csv").returning(ContactList.id)
            ).scalar_one()
            lead = {"list_id": list_id, "e164": "+8613800138000", "raw_input": "x", "next_attempt_at": NOW}
            connection.execute(Lead.__table__.insert().values(**lead))
            connection.execute(delete(ContactList).where(ContactList.id == list_id))
            assert connection.scalar(select(func.count()).select_from(Lead.__table__)) == 0
    finally:
        engine.dispose()
