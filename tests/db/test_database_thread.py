"""The engine's database thread: answers in order, writes batched in one transaction, none lost."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from campaigns.persistence.db import Database
from campaigns.persistence.models import ContactList
from dialer.live.dbthread import DatabaseThread


def add_list(session: Session, name: str) -> None:
    session.add(ContactList(name=name, source_file="t"))
    session.flush()


def list_names(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(ContactList.name).order_by(ContactList.id)))


async def test_writes_queued_together_share_a_transaction_and_reads_see_them(database: Database) -> None:
    thread = DatabaseThread(database)
    gate, transactions = threading.Event(), []

    def hold(session: Session) -> None:  # keeps the thread busy while the writes below queue up
        gate.wait(5)

    def note_transaction(session: Session) -> None:
        transactions.append(id(session))

    thread.submit(hold)
    for n in range(50):
        thread.submit(add_list, f"list-{n}")
        thread.submit(note_transaction)
    gate.set()
    names = await thread.run(list_names, database)  # queued after the writes: sees them all
    thread.close()
    assert names == [f"list-{n}" for n in range(50)]
    assert len(set(transactions)) == 1


async def test_a_failing_write_loses_no_other(database: Database, caplog: pytest.LogCaptureFixture) -> None:
    thread = DatabaseThread(database)
    gate = threading.Event()
    thread.submit(lambda session: gate.wait(5))
    thread.submit(add_list, "before")
    thread.submit(add_list, "before")  # the same name again: refused by the unique constraint
    thread.submit(add_list, "after")
    gate.set()
    with caplog.at_level(logging.ERROR):
        thread.close()
    assert list_names(database) == ["before", "after"]
    assert "database write add_list failed" in caplog.text
    assert thread.lost == {add_list: 1}, "counted once, though tried in its batch and then alone"


async def test_run_returns_the_answer_or_raises_the_error(database: Database) -> None:
    thread = DatabaseThread(database)

    def count(database: Database) -> int:
        with database.session() as session:
            return int(session.scalar(select(func.count()).select_from(ContactList)) or 0)

    def broken(database: Database) -> None:
        with database.session() as session:
            session.execute(text("SELECT * FROM no_such_table"))

    try:
        assert await thread.run(count, database) == 0
        with pytest.raises(Exception, match="no_such_table"):
            await thread.run(broken, database)
        assert await thread.run(count, database) == 0  # the thread lives on
    finally:
        thread.close()


async def test_work_for_later_keeps_its_place_among_the_writes(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    thread = DatabaseThread(database)
    gate = threading.Event()

    def add_own(database: Database, name: str) -> None:  # opens its own transaction, as stores do
        with database.session() as session:
            add_list(session, name)

    thread.submit(lambda session: gate.wait(5))
    thread.submit(add_list, "first")
    thread.later(add_own, database, "second")  # queued at once, between the writes
    thread.submit(add_list, "third")
    thread.later(add_own, database, "third")  # the same name again: refused, logged, nothing else lost
    gate.set()
    with caplog.at_level(logging.ERROR):
        assert await thread.run(list_names, database) == ["first", "second", "third"]
    thread.close()
    assert "database work add_own failed" in caplog.text
