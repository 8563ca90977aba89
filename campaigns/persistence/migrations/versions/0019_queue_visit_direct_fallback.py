"""A visit of a call dialled straight to one agent keeps that agent and its fallback (ACD-9).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30

`queue_visits.direct_agent_id` (the agent the call was dialled to) and `fallback_at` (when it goes
to the queue's other agents; NULL: it never does): a restarted engine takes a waiting caller back
with them (`campaigns/persistence/models/inbound.py`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queue_visits") as batch:
        batch.add_column(sa.Column("direct_agent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fallback_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_queue_visits_direct_agent_id_agents"), "agents", ["direct_agent_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("queue_visits") as batch:
        batch.drop_constraint(batch.f("fk_queue_visits_direct_agent_id_agents"), type_="foreignkey")
        batch.drop_column("fallback_at")
        batch.drop_column("direct_agent_id")
