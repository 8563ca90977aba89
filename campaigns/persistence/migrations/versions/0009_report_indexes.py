"""Reports read calls from covering indexes (issue 8), and each call keeps the callee's time zones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

`attempts.time_zones`: the callee's zones when the call was dialled (the lead's then); existing
calls take their lead's current zones. `ix_attempts_campaign_dialed` gains the columns the
abandonment rate and the compliance report read (outcome, abandoned, zones), and
`ix_attempts_campaign_ended` replaces `ix_attempts_ended` with the columns the campaign, agents
and trunks reports read, so each counts a period's calls from the index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DIALED = ["campaign_id", "dialed_at", "outcome", "abandoned", "time_zones"]
ENDED = [
    "campaign_id",
    "ended_at",
    "outcome",
    "disposition_id",
    "agent_id",
    "lead_id",
    "bridged_at",
    "answered_at",
    "trunk",
    "caller_id",
    "hangup_cause",
]


def upgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("time_zones", JSON, nullable=True))
    op.execute(
        "UPDATE attempts SET time_zones ="
        " (SELECT leads.time_zones FROM leads WHERE leads.id = attempts.lead_id)"
    )
    op.drop_index("ix_attempts_campaign_dialed", table_name="attempts")
    op.create_index("ix_attempts_campaign_dialed", "attempts", DIALED)
    op.drop_index("ix_attempts_ended", table_name="attempts")
    op.create_index("ix_attempts_campaign_ended", "attempts", ENDED)


def downgrade() -> None:
    op.drop_index("ix_attempts_campaign_ended", table_name="attempts")
    op.create_index("ix_attempts_ended", "attempts", ["ended_at"])
    op.drop_index("ix_attempts_campaign_dialed", table_name="attempts")
    op.create_index("ix_attempts_campaign_dialed", "attempts", ["campaign_id", "dialed_at"])
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("time_zones")
