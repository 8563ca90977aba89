"""A number looked up in every list (`with_number`) finds its leads of every list, and only
those, through the unique (list_id, e164) index: leads have no index on the number alone."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, inspect, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import ContactList, Lead
from campaigns.persistence.models.leads import with_number
from tests.db.rows import NOW

pytestmark = pytest.mark.db

NUMBER = "+8613912345678"


def _add_lists(database: Database) -> None:
    """Three lists: the number in the first and the third, another number in the second."""
    with database.session() as session:
        lists = [ContactList(name=f"list {n}", source_file="x.csv", imported_at=NOW) for n in range(3)]
        session.add_all(lists)
        session.flush()
        numbers = [NUMBER, "+8613800138000", NUMBER]
        session.add_all(
            Lead(list_id=contacts.id, e164=number, raw_input=number, next_attempt_at=NOW)
            for contacts, number in zip(lists, numbers, strict=True)
        )


def _fill(connection: Connection) -> None:
    """PostgreSQL: 50,000 more leads in the first list, and statistics, so that the planner
    chooses as it would for a real table (on a few rows any plan is as cheap)."""
    connection.exec_driver_sql(
        "INSERT INTO leads (list_id, e164, raw_input, attributes, time_zones, state, attempt_count,"
        " priority, next_attempt_at, created_at, updated_at, sms_opt_out)"
        " SELECT (SELECT min(id) FROM contact_lists), '+86137' || lpad(n::text, 8, '0'), '', '{}',"
        " '[]', 'new', 0, 0, now(), now(), now(), false FROM generate_series(1, 50000) AS n"
    )
    connection.exec_driver_sql("ANALYZE leads")
    connection.exec_driver_sql("ANALYZE contact_lists")


def test_a_number_is_found_in_every_list_that_holds_it(database: Database) -> None:
    _add_lists(database)
    with database.session() as session:
        found = session.execute(
            select(ContactList.name).join(Lead, Lead.list_id == ContactList.id).where(with_number(NUMBER))
        )
        assert sorted(found.scalars()) == ["list 0", "list 2"]


def test_the_lookup_probes_the_unique_index(database: Database) -> None:
    _add_lists(database)
    with database.connect() as connection:
        assert {index["name"] for index in inspect(connection).get_indexes("leads")} == {
            "uq_leads_list_id_e164",
            "ix_leads_hopper",
        }
        query = select(Lead.id).where(with_number(NUMBER))
        sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
        if database.backend == "sqlite":
            plan = " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "INDEX uq_leads_list_id_e164 (list_id=? AND e164=?)" in plan
        else:
            _fill(connection)
            plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "uq_leads_list_id_e164" in plan
            assert "Index Cond: ((list_id = contact_lists.id) AND ((e164)::text = " in plan
