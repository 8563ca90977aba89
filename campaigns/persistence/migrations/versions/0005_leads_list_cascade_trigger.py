"""A list's leads go with it by a trigger on `contact_lists`, not by a foreign key on `leads`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

`leads.list_id` loses its foreign key: PostgreSQL checks one with a trigger query per inserted
row (about 30 % of the server's work in a bulk import's `COPY`), SQLite with a probe of
`contact_lists` per insert. What the key's `ON DELETE CASCADE` did is kept by a trigger that
fires once per deleted list, so deleting a list still deletes its leads, on either database and
whoever deletes it (the models create the same trigger: `campaigns.persistence.models.leads`).
Leads are only written with the id of a list the writer has just read, locked or created in
the same transaction (the importer, the click-to-call list).

On SQLite the foreign key goes by a table rebuild (batch mode); the partial hopper index is
dropped first and created again after it, as 0002 does, so that its predicate survives. A later
batch rebuild of `contact_lists` on SQLite drops the trigger with the old table: such a
migration must create it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DIALABLE = "state = 'new' OR state = 'retry'"
TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER tr_contact_lists_delete_leads AFTER DELETE ON contact_lists FOR EACH ROW"
        " BEGIN DELETE FROM leads WHERE list_id = OLD.id; END"
    ],
    "postgresql": [
        "CREATE FUNCTION delete_list_leads() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN DELETE FROM leads WHERE list_id = OLD.id; RETURN OLD; END $$",
        "CREATE TRIGGER tr_contact_lists_delete_leads AFTER DELETE ON contact_lists FOR EACH ROW"
        " EXECUTE FUNCTION delete_list_leads()",
    ],
}
DROP_TRIGGER = {
    "sqlite": ["DROP TRIGGER tr_contact_lists_delete_leads"],
    "postgresql": [
        "DROP TRIGGER tr_contact_lists_delete_leads ON contact_lists",
        "DROP FUNCTION delete_list_leads()",
    ],
}


def upgrade() -> None:
    with _hopper_index_set_aside(), op.batch_alter_table("leads") as batch:
        batch.drop_constraint("fk_leads_list_id_contact_lists", type_="foreignkey")
    for statement in TRIGGER[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGER[op.get_bind().dialect.name]:
        op.execute(statement)
    op.execute("DELETE FROM leads WHERE list_id NOT IN (SELECT id FROM contact_lists)")
    with _hopper_index_set_aside(), op.batch_alter_table("leads") as batch:
        batch.create_foreign_key(
            "fk_leads_list_id_contact_lists", "contact_lists", ["list_id"], ["id"], ondelete="CASCADE"
        )


@contextmanager
def _hopper_index_set_aside() -> Iterator[None]:
    """Without `ix_leads_hopper` inside (SQLite's batch rebuild would recreate it from reflection)."""
    op.drop_index("ix_leads_hopper", table_name="leads")
    yield
    op.create_index(
        "ix_leads_hopper",
        "leads",
        ["list_id", "priority", "next_attempt_at"],
        sqlite_where=sa.text(DIALABLE),
        postgresql_where=sa.text(DIALABLE),
    )
