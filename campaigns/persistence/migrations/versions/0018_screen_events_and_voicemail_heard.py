"""Screen-pop events kept across engine runs (AGT-3), voicemail heard per agent (IVR-4).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30

`screen_events`: each agent's last screen-pop events, their ids given by the engine
(`campaigns/persistence/models/screen.py`); `voicemail_heard`: which agents have heard which
message (`campaigns/persistence/models/voicemail.py`). Messages marked heard before stay heard for
the box (`heard_at`, `heard_by`) and, when `heard_by` is `agent:NAME`, for that agent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "screen_events",
        sa.Column("id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("previous_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screen_events")),
    )
    op.create_index("ix_screen_events_agent_id", "screen_events", ["agent", "id"])
    op.create_table(
        "voicemail_heard",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("message_id", BIG_ID, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("heard_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["voicemail_messages.id"],
            name=op.f("fk_voicemail_heard_message_id_voicemail_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_voicemail_heard_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_heard")),
        sa.UniqueConstraint("message_id", "agent_id", name=op.f("uq_voicemail_heard_message_id_agent_id")),
    )
    op.create_index(op.f("ix_voicemail_heard_agent_id"), "voicemail_heard", ["agent_id"])
    op.execute(
        "INSERT INTO voicemail_heard (message_id, agent_id, heard_at)"
        " SELECT m.id, a.id, m.heard_at FROM voicemail_messages m"
        " JOIN agents a ON m.heard_by = 'agent:' || a.name WHERE m.heard_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_voicemail_heard_agent_id"), table_name="voicemail_heard")
    op.drop_table("voicemail_heard")
    op.drop_index("ix_screen_events_agent_id", table_name="screen_events")
    op.drop_table("screen_events")
