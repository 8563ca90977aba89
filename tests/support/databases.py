"""Database fixtures: every DB test runs on SQLite and on PostgreSQL, migrated and empty each time.

A pytest plugin (`pytest_plugins = ["tests.support.databases"]`, or `-p tests.support.databases`).

Fixtures:
- `database`: a migrated, empty `Database`, once per backend (test ids `[sqlite]`, `[postgresql]`).
  SQLite copies a template file migrated once per session; PostgreSQL migrates one database per
  session and empties every table (restarting ids) after each test. After each test the pool
  must have no connection checked out: a leaked session or connection fails the test.
- `empty_database_url`: the URL of a fresh database with no tables, per backend (for migration
  and `check_migrated` tests); `make_database_url()` makes more of them in one test.
- `db_backend`: the backend name of the current parameter, for tests that need it.
- `postgres_server`: the session's PostgreSQL server. By default a private cluster is created
  with `initdb` in a temporary directory, listening on a Unix socket only (no TCP), with fsync
  off, and removed at the end. With `RINGCAST_TEST_POSTGRES_URL` set, that server is used
  instead; its user must be allowed to create databases (each test database is created and
  dropped there, nothing else is touched).

Options: `--databases=sqlite` (or `postgresql`) runs the DB tests on one backend only. Every test
that uses these fixtures is marked `db`, so `-m db` selects them and `-m "not lab"` keeps them.
Missing PostgreSQL server binaries fail those tests with one line saying how to install them.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool, QueuePool

from campaigns.persistence.db import Database
from campaigns.persistence.models import Base
from tests.support.pgcluster import ClusterError, PrivateCluster, postgres_bindir

BACKENDS = ("sqlite", "postgresql")
POSTGRES_URL_ENV = "RINGCAST_TEST_POSTGRES_URL"
PG_MISSING = "PostgreSQL server binaries not found: apt-get install postgresql (make test does this)"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--databases",
        default=",".join(BACKENDS),
        help="comma-separated backends the DB tests run on (default: sqlite,postgresql)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: runs against every configured database (SQLite and PostgreSQL)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" not in metafunc.fixturenames:
        return
    chosen = [name.strip() for name in metafunc.config.getoption("--databases").split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if unknown:
        raise pytest.UsageError(
            f"--databases: unknown backend {', '.join(unknown)} (use {', '.join(BACKENDS)})"
        )
    params = [pytest.param(name, id=name, marks=pytest.mark.db) for name in BACKENDS if name in chosen]
    metafunc.parametrize("db_backend", params, indirect=True)


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql`: the backend this run of the test uses."""
    return str(request.param)


class PostgresServer:
    """A PostgreSQL server the tests create throw-away databases in."""

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        self._names = (f"ringcast_test_{os.getpid()}_{n}" for n in itertools.count())

    def url(self, database: str) -> str:
        """A URL string (password included) for `database` on this server."""
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def create_database(self) -> str:
        name = next(self._names)
        self._admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def check(self) -> None:
        """Fail with one line unless the server answers."""
        try:
            self._admin("SELECT 1")
        except Exception as error:
            first_line = str(error).strip().splitlines()[0]
            pytest.fail(
                f"PostgreSQL at {self.admin_url.render_as_string()} does not answer: {first_line}",
                pytrace=False,
            )

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL: `RINGCAST_TEST_POSTGRES_URL`, else a private throw-away cluster."""
    external = os.environ.get(POSTGRES_URL_ENV)
    if external:
        server = PostgresServer(make_url(external))
        server.check()
        yield server
        return
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail(PG_MISSING, pytrace=False)
    cluster = PrivateCluster(bindir)
    try:
        try:
            server = PostgresServer(cluster.start())
        except ClusterError as error:
            pytest.fail(str(error), pytrace=False)
        server.check()
        yield server
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "ringcast.db"
    with Database(f"sqlite:///{path}") as database:
        database.upgrade()
    return path


@pytest.fixture(scope="session")
def _postgres_database(postgres_server: PostgresServer) -> Iterator[Database]:
    name = postgres_server.create_database()
    database = Database(postgres_server.url(name))
    database.upgrade()
    yield database
    database.dispose()
    postgres_server.drop_database(name)


@pytest.fixture
def database(db_backend: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated, empty database on `db_backend`; fails the test if it leaks a connection."""
    if db_backend == "sqlite":
        path: Path = request.getfixturevalue("tmp_path") / "ringcast.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        with Database(f"sqlite:///{path}") as database:
            yield database
            leaked = _checked_out(database)
            assert leaked == 0, f"the test left {leaked} database connection(s) checked out"
        return
    database = request.getfixturevalue("_postgres_database")
    already_leaked = _checked_out(database)  # by an earlier test, which has failed for it
    yield database
    leaked = _checked_out(database) - already_leaked
    if leaked:
        _terminate_other_sessions(database)  # so that the tables can be emptied for the next test
    _empty_all_tables(database)
    assert leaked == 0, f"the test left {leaked} database connection(s) checked out"


@pytest.fixture
def make_database_url(
    db_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """A factory of URLs of fresh, empty databases (no tables, not even Alembic's) on `db_backend`."""
    server: PostgresServer | None = None
    if db_backend == "postgresql":
        server = request.getfixturevalue("postgres_server")
    created: list[str] = []
    files = (tmp_path / f"empty-{n}.db" for n in itertools.count())

    def make() -> str:
        if server is None:
            return f"sqlite:///{next(files)}"
        created.append(server.create_database())
        return server.url(created[-1])

    yield make
    for name in created:
        assert server is not None
        server.drop_database(name)


@pytest.fixture
def empty_database_url(make_database_url: Callable[[], str]) -> str:
    """The URL of a fresh, empty database on `db_backend`."""
    return make_database_url()


def _checked_out(database: Database) -> int:
    pool = database.engine.pool
    assert isinstance(pool, QueuePool), f"unexpected pool {type(pool).__name__}"
    return pool.checkedout()


def _terminate_other_sessions(database: Database) -> None:
    with database.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )


def _empty_all_tables(database: Database) -> None:
    """Delete every row and restart every sequence: ~3 ms, where TRUNCATE of all tables takes ~100 ms."""
    preparer = database.engine.dialect.identifier_preparer
    deletes = " ".join(
        f"DELETE FROM {preparer.quote(table.name)};" for table in reversed(Base.metadata.sorted_tables)
    )
    restart = (
        "PERFORM setval(format('%I.%I', schemaname, sequencename), 1, false)"
        " FROM pg_sequences WHERE schemaname = current_schema();"
    )
    with database.connect() as connection, connection.begin():
        connection.execute(text("SET LOCAL lock_timeout = '5s'"))  # never hang the run on a stray lock
        connection.execute(text(f"DO $$ BEGIN {deletes} {restart} END $$"))
