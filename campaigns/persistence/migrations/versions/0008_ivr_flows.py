"""IVR flows as data (issue 9): `ivr_flows` (the documents) and `inbound_numbers` (DID -> flow plan).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Types are spelled out as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ivr_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_flows")),
        sa.UniqueConstraint("name", name=op.f("uq_ivr_flows_name")),
    )
    op.create_table(
        "inbound_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("did", sa.String(length=32), nullable=False),
        sa.Column("flow_plan", JSON, nullable=False),
        sa.Column("default_message", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_numbers")),
        sa.UniqueConstraint("did", name=op.f("uq_inbound_numbers_did")),
    )


def downgrade() -> None:
    op.drop_table("inbound_numbers")
    op.drop_table("ivr_flows")
