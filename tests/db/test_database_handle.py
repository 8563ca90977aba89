"""`Database`: transactions, connection set-up, and one-line errors a user can act on."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from campaigns.persistence.db import Database, head_revision
from campaigns.persistence.models import CampaignList, ContactList
from ringcast.errors import UserError
from ringcast.settings import mask_url

pytestmark = pytest.mark.db

UNREACHABLE = "postgresql+psycopg://ringcast:Sup3r-Secret@127.0.0.1:1/ringcast"


def test_a_session_is_one_transaction(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(ContactList(name="rolled back"))
        session.flush()
        raise RuntimeError("boom")
    with database.session() as session:
        session.add(ContactList(name="committed"))
    with database.session() as session:
        assert session.scalars(select(ContactList.name)).all() == ["committed"]


def test_foreign_keys_are_enforced(database: Database) -> None:
    orphan = CampaignList(campaign_id=999, list_id=999)  # (leads.list_id has no foreign key: 0005)
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(orphan)


def test_sqlite_connections_are_tuned_for_several_processes(tmp_path: Path) -> None:
    with Database(f"sqlite:///{tmp_path}/new/dir/ringcast.db") as database:
        database.upgrade()  # turns foreign keys off while migrating, and back on
        with database.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "page_size")
            }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "page_size": 16384}
    assert (tmp_path / "new" / "dir" / "ringcast.db").exists()


def test_an_existing_sqlite_database_keeps_its_page_size(tmp_path: Path) -> None:
    """One made before ringcast asked for 16 KiB pages: SQLite's default, 4 KiB, in WAL mode."""
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE made_before (id INTEGER)")
    old.close()
    with Database(f"sqlite:///{path}") as database:
        database.upgrade()
        with database.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA page_size").scalar() == 4096
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sqlite_writers_that_read_first_wait_for_each_other(tmp_path: Path) -> None:
    """Read-then-write transactions from two handles (as from two processes) on one file.

    With SQLite's default deferred BEGIN, the second writer fails at once with "database is
    locked"; `BEGIN IMMEDIATE` makes it wait for the first instead.
    """
    url = f"sqlite:///{tmp_path}/ringcast.db"
    with Database(url) as database:
        database.upgrade()

    def add_lists(worker: int) -> None:
        with Database(url) as database:
            for n in range(40):
                with database.session() as session:
                    count = len(session.scalars(select(ContactList.id)).all())
                    session.add(ContactList(name=f"{worker}-{n}-{count}"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(add_lists, [1, 2]))
    with Database(url) as database, database.session() as session:
        assert len(session.scalars(select(ContactList.id)).all()) == 80


def test_check_migrated_on_an_empty_database(empty_database_url: str) -> None:
    with Database(empty_database_url) as database, pytest.raises(UserError) as error:
        database.check_migrated()
    assert error.value.message == (
        f"database {mask_url(empty_database_url)} is not migrated (at none, needs {head_revision()})"
    )
    assert error.value.hint == "run `ringcast db upgrade`"


def test_a_revision_from_a_newer_ringcast_is_refused(empty_database_url: str) -> None:
    with Database(empty_database_url) as database:
        database.upgrade()
        with database.connect() as connection, connection.begin():
            connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
        for action in (database.check_migrated, database.upgrade):
            with pytest.raises(UserError, match="is at revision ffff, which this ringcast does not know"):
                action()


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    with Database(UNREACHABLE) as database, pytest.raises(UserError) as error:
        database.check_migrated()
    message = str(error.value)
    assert message.startswith(
        "cannot connect to database postgresql+psycopg://ringcast:***@127.0.0.1:1/ringcast: "
    )
    assert "Sup3r-Secret" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "invalid database URL: it does not parse as a SQLAlchemy URL"),
        ("nosuchdb://user:Sup3r-Secret@host/db", "invalid database URL nosuchdb://user:***@host/db: "),
    ],
)
def test_a_bad_url_is_one_line_without_the_password(url: str, expected: str) -> None:
    with pytest.raises(UserError) as error:
        Database(url)
    assert str(error.value).startswith(expected)
    assert "Sup3r-Secret" not in str(error.value)
