"""Missed inbound calls called back (issue 7, CB-2): an inbound number names the campaign whose
agents call back the calls it missed, and after how long.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_inbound_numbers_missed_callback_campaign_id_campaigns"


def upgrade() -> None:
    with op.batch_alter_table("inbound_numbers") as batch:
        batch.add_column(sa.Column("missed_callback_campaign_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("missed_callback_after_s", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.create_foreign_key(
            FOREIGN_KEY, "campaigns", ["missed_callback_campaign_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_numbers") as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_column("missed_callback_after_s")
        batch.drop_column("missed_callback_campaign_id")
