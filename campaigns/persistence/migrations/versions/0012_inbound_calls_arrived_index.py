"""The trunks report counts inbound calls per number (RPT-3) from a covering index on their arrival.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ["arrived_at", "did", "outcome", "answered_at", "ended_at"]


def upgrade() -> None:
    op.create_index("ix_inbound_calls_arrived", "inbound_calls", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_inbound_calls_arrived", table_name="inbound_calls")
