"""Reports count calls by when they ended (issue 8): an index on `attempts.ended_at`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

Every report's period is a range of `ended_at`; without the index each report read the whole
attempts table (millions of rows) on both databases.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_attempts_ended", "attempts", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_attempts_ended", table_name="attempts")
