"""Alembic migrations for the ringcast schema, shipped inside the package (no alembic.ini).

`Database.upgrade()` (and `ringcast db upgrade`) runs them. Every revision is hand-checked and
must leave the database exactly as `campaigns.persistence.models` describes it; the test suite
compares the two on SQLite and PostgreSQL after upgrading.

To draft the next revision, point a scratch database at head and let Alembic compare:

    from alembic import command
    from campaigns.persistence.db import Database, alembic_config

    with Database("sqlite:////tmp/draft.db") as db:
        db.upgrade()
        with db.connect() as connection:
            command.revision(alembic_config(connection), message="what changes", autogenerate=True,
                             rev_id="0002")

then read and correct the file it writes in `versions/` (SQLite needs `batch_alter_table`).
"""
