"""Alembic's environment: runs the migrations on the connection `campaigns.persistence.db` hands over.

There is no alembic.ini and no URL here: `alembic_config(connection)` puts the open connection in
`config.attributes`, and the caller owns its transaction.
"""

from __future__ import annotations

from alembic import context

from campaigns.persistence.models import Base


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through campaigns.persistence.db (`ringcast db upgrade`)")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by rebuilding them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
