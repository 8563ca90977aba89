"""A list's numbers are kept unique by a unique index instead of a table constraint.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

Same rule, same name (`uq_leads_list_id_e164`), and `ON CONFLICT (list_id, e164)` finds it as
before. The difference is SQLite's: a UNIQUE table constraint is an automatic index that can
never be dropped, while a unique index can. A large import into a SQLite database drops the
leads table's secondary indexes and builds them again, sorted, before its commit
(`imports.store.ImportWriter.defer_indexes`): with this one among them, a million-row import
spends about 0.8 s less than when every insert lands in it at a random place. The import has
already refused every number the list holds, and holds the write lock throughout, so the index
built at the end cannot fail on a duplicate.

On SQLite the constraint goes by a table rebuild (batch mode). Set aside around it there: the
partial hopper index, as in 0005, and the trigger of 0005 that deletes a list's leads (SQLite
checks every trigger when the rebuilt table takes the old one's name, and this one names
`leads`). PostgreSQL drops the constraint in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

DIALABLE = "state = 'new' OR state = 'retry'"
LIST_TRIGGER = (
    "CREATE TRIGGER tr_contact_lists_delete_leads AFTER DELETE ON contact_lists FOR EACH ROW"
    " BEGIN DELETE FROM leads WHERE list_id = OLD.id; END"
)
NAME = "uq_leads_list_id_e164"
COLUMNS = ["list_id", "e164"]


def upgrade() -> None:
    with _set_aside(), op.batch_alter_table("leads") as batch:
        batch.drop_constraint(NAME, type_="unique")
    op.create_index(NAME, "leads", COLUMNS, unique=True)


def downgrade() -> None:
    op.drop_index(NAME, table_name="leads")
    with _set_aside(), op.batch_alter_table("leads") as batch:
        batch.create_unique_constraint(NAME, COLUMNS)


@contextmanager
def _set_aside() -> Iterator[None]:
    """On SQLite, without `ix_leads_hopper` (the batch rebuild would recreate it from reflection,
    losing its WHERE) and without the list trigger inside; PostgreSQL alters the table in place
    and needs neither."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.drop_index("ix_leads_hopper", table_name="leads")
    op.execute("DROP TRIGGER tr_contact_lists_delete_leads")
    yield
    op.execute(LIST_TRIGGER)
    op.create_index(
        "ix_leads_hopper",
        "leads",
        ["list_id", "priority", "next_attempt_at"],
        sqlite_where=sa.text(DIALABLE),
    )
