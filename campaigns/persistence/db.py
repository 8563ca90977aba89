"""The database handle: engine set-up per backend, one-transaction sessions, and migrations.

`Database(url)` is all the rest of ringcast needs: `session()` for work, `upgrade()` and
`check_migrated()` for the schema. Every failure a user can fix (bad URL, server down, schema
behind) becomes a one-line `UserError` naming the URL with its password masked.

SQLite is tuned for several dialer processes sharing one file: WAL journal, foreign keys on, a
busy timeout, and real transactions. Python's `sqlite3` (before 3.12's `autocommit`) opens
transactions only before DML and never before DDL; here the driver's transaction handling is
switched off and every transaction starts with `BEGIN IMMEDIATE`, which takes the write lock up
front so that concurrent writers wait (up to the busy timeout) instead of failing mid-transaction.

A new SQLite database gets 16 KiB pages (SQLite's default is 4 KiB): a bulk import writes each
page twice, to the WAL and then to the file, with a system call or two per page, and with four
times fewer pages the process importing a million leads spent about a second less in the kernel
(of 2 to 3.6 s) and imported about 10 % more rows a second (the median of eight alternating pairs
of runs, which ranged from -11 % to +35 % on a noisy machine). The price is paid by small
commits: each page one changes is a 16 KiB frame of the WAL, and the WAL grows to about 16 MiB
between checkpoints. The SMS sender, which commits every claim and every result, kept its pace
(`bench/sms_bench.py`, alternating runs: 752 and 739 messages a second with either page size).
An existing database keeps its page size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from ringcast.errors import UserError
from ringcast.settings import mask_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_PAGE_SIZE = 16384  # see the module doc
PG_CONNECT_TIMEOUT_S = 10
_URL_HINT = "check RINGCAST_DATABASE__URL"
P = ParamSpec("P")
T = TypeVar("T")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code (there is no alembic.ini).

    `migrations/env.py` runs the migrations on `connection`; see the `migrations` package for
    how to draft a new revision with this.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The revision the code expects the database to be at."""
    head = _scripts().get_current_head()
    assert head is not None, "the migrations directory has no revision"
    return head


class Database:
    """One database, by SQLAlchemy URL. Cheap to create; connects on first use; `dispose()` when done."""

    def __init__(self, url: str) -> None:
        self.masked_url = mask_url(url)
        self.url = self._parse(url)
        self.engine = self._create_engine()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open_migrated(cls, url: str) -> Database:
        """A handle on a database at the head revision, else a `UserError` saying to run `db upgrade`."""
        database = cls(url)
        try:
            database.check_migrated()
        except BaseException:
            database.dispose()
            raise
        return database

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql` (SQLAlchemy's dialect name)."""
        return self.engine.dialect.name

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close every pooled connection (the handle stays usable and reconnects on demand)."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Objects stay loaded after the commit (`expire_on_commit=False`), so they can be returned.
        """
        with self._sessions.begin() as session:
            with self._reachable():
                session.connection()
            yield session

    def in_transaction(
        self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`work(session, *args)` in a transaction of its own (see `session`); its result."""
        with self.session() as session:
            return work(session, *args, **kwargs)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection (for bulk statements); failures to reach the server become a `UserError`."""
        with self._reachable():
            connection = self.engine.connect()
        with connection:
            yield connection

    def current_revision(self) -> str | None:
        """The migration the database is at, or None for an empty database."""
        with self.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def check_migrated(self) -> None:
        """Raise a `UserError` unless the schema is exactly at the code's head revision."""
        current, head = self.current_revision(), head_revision()
        if current == head:
            return
        self._check_known(current)
        raise UserError(
            f"database {self.masked_url} is not migrated (at {current or 'none'}, needs {head})",
            hint="run `ringcast db upgrade`",
        )

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the head revision in one transaction; return (revision before, revision after).

        On SQLite, foreign keys are off while migrating (batch migrations rebuild tables, and a
        rebuild with them on would cascade deletes) and checked before the commit.
        """
        with self.connect() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
            connection.rollback()
            self._check_known(before)
            with self._sqlite_foreign_keys_off(connection), connection.begin():
                command.upgrade(alembic_config(connection), "head")
                self._check_foreign_keys(connection)
        return before, head_revision()

    def _check_known(self, revision: str | None) -> None:
        known = {script.revision for script in _scripts().walk_revisions()}
        if revision is not None and revision not in known:
            raise UserError(
                f"database {self.masked_url} is at revision {revision}, which this ringcast does not know",
                hint="upgrade ringcast, or point RINGCAST_DATABASE__URL at another database",
            )

    @contextmanager
    def _sqlite_foreign_keys_off(self, connection: Connection) -> Iterator[None]:
        if self.backend != "sqlite":
            yield
            return
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, where SQLite honours it
        try:
            yield
        finally:
            raw.execute("PRAGMA foreign_keys=ON")

    def _check_foreign_keys(self, connection: Connection) -> None:
        if self.backend != "sqlite":
            return
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except (exc.OperationalError, exc.InterfaceError) as error:
            if error.statement is not None:  # connected, then a statement failed (e.g. "database is locked")
                raise
            check = "the file's permissions" if self.backend == "sqlite" else "that the server is running"
            raise UserError(
                f"cannot connect to database {self.masked_url}: {self._cause(error)}",
                hint=f"{_URL_HINT} and {check}",
            ) from None

    def _cause(self, error: exc.DBAPIError) -> str:
        lines = [line.strip() for line in str(error.orig).splitlines() if line.strip()]
        cause = lines[0] if lines else type(error.orig).__name__
        if self.url.password:
            cause = cause.replace(str(self.url.password), "***")
        return cause

    def _parse(self, url: str) -> URL:
        try:
            return make_url(url)
        except exc.ArgumentError:
            raise UserError(
                "invalid database URL: it does not parse as a SQLAlchemy URL", hint=_URL_HINT
            ) from None

    def _create_engine(self) -> Engine:
        try:
            if self.url.get_backend_name() == "sqlite":
                return self._create_sqlite_engine()
            connect_args: dict[str, Any] = {}
            if self.url.get_backend_name() == "postgresql" and "connect_timeout" not in self.url.query:
                connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
            return create_engine(self.url, pool_pre_ping=True, connect_args=connect_args)
        except (exc.ArgumentError, ImportError) as error:
            raise UserError(f"invalid database URL {self.masked_url}: {error}", hint=_URL_HINT) from None

    def _create_sqlite_engine(self) -> Engine:
        path = self.url.database
        if path and path != ":memory:" and not path.startswith("file:"):
            parent = Path(path).parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise UserError(
                    f"cannot create {parent} for database {self.masked_url}: {error.strerror}", hint=_URL_HINT
                ) from None
        engine = create_engine(self.url)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver must not BEGIN by itself; see the module doc
    for pragma in (
        f"page_size={SQLITE_PAGE_SIZE}",  # a new file's: before journal_mode=WAL, which writes its header
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    ):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _sqlite_on_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
