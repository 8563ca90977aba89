"""List imports: one row per imported file, and the facts the importer records on each lead.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

`list_imports` remembers each file imported into a list (by SHA-256), so that a re-import is
recognised; leads gain the English region, city and carrier next to the Chinese ones, the SMS
opt-out flag found at import, and the import they came from (a plain integer: a foreign key would
cost PostgreSQL a trigger query per imported lead, and a list's leads and imports go together).

The dialable-lead condition of `ix_leads_hopper` and of its CHECK is rewritten from
`state IN ('new', 'retry')` to `state = 'new' OR state = 'retry'` (same meaning): SQLite builds a
temporary b-tree for an IN list in an index predicate or CHECK on every row written, which cost
about 5 µs per lead insert or update.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DIALABLE_BEFORE = "state IN ('new', 'retry')"
DIALABLE_AFTER = "state = 'new' OR state = 'retry'"
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "list_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("total_rows", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("accepted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rejected", JSON, nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_list_imports_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["contact_lists.id"],
            name=op.f("fk_list_imports_list_id_contact_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_imports")),
        sa.UniqueConstraint("list_id", "sha256", name=op.f("uq_list_imports_list_id_sha256")),
    )
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("region_en", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("city_en", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("carrier_en", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("sms_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("import_id", sa.Integer(), nullable=True))
    _dialable(DIALABLE_AFTER)


def _dialable(condition: str) -> None:
    """Recreate the hopper index and the next-attempt CHECK with `condition`."""
    op.drop_index("ix_leads_hopper", table_name="leads")
    with op.batch_alter_table("leads") as batch:
        batch.drop_constraint(batch.f("ck_leads_dialable_has_next_attempt"), type_="check")
        batch.create_check_constraint(
            batch.f("ck_leads_dialable_has_next_attempt"), f"NOT ({condition}) OR next_attempt_at IS NOT NULL"
        )
    op.create_index(
        "ix_leads_hopper",
        "leads",
        ["list_id", "priority", "next_attempt_at"],
        sqlite_where=sa.text(condition),
        postgresql_where=sa.text(condition),
    )


def downgrade() -> None:
    _dialable(DIALABLE_BEFORE)
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("import_id")
        batch.drop_column("sms_opt_out")
        batch.drop_column("carrier_en")
        batch.drop_column("city_en")
        batch.drop_column("region_en")
    op.drop_table("list_imports")
