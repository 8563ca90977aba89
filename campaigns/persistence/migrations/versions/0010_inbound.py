"""Inbound queues and calls (issue 9): `queues`, `queue_members`, `inbound_calls`, `queue_visits`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

A call's wait in each queue is a `queue_visits` row, so a call overflowing from one queue to
another counts in both (campaigns/persistence/models/inbound.py). Types are spelled out as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
OUTCOMES = sa.Enum(
    "answered",
    "abandoned",
    "overflowed_number",
    "overflowed_voicemail",
    "refused",
    "ivr_only",
    "failed",
    name="outcome",
    native_enum=False,
    create_constraint=True,
    length=24,
)
RESULTS = sa.Enum(
    "answered",
    "abandoned",
    "overflowed",
    "failed",
    name="result",
    native_enum=False,
    create_constraint=True,
    length=16,
)
VISIT_REPORTED = [
    "queue",
    "entered_at",
    "result",
    "wait_ms",
    "talk_ms",
    "short_abandon_ms",
    "answer_within_ms",
]


def upgrade() -> None:
    op.create_table(
        "queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_queues_name")),
    )
    op.create_table(
        "queue_members",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.Integer(), nullable=False),
        sa.Column("supervisor", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("skill BETWEEN 1 AND 10", name=op.f("ck_queue_members_skill_range")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_queue_members_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["queues.id"], name=op.f("fk_queue_members_queue_id_queues"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("queue_id", "agent_id", name=op.f("pk_queue_members")),
    )
    op.create_index(op.f("ix_queue_members_agent_id"), "queue_members", ["agent_id"])
    op.create_table(
        "inbound_calls",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("uniqueid", sa.String(length=150), nullable=False),
        sa.Column("linkedid", sa.String(length=150), nullable=True),
        sa.Column("did", sa.String(length=32), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("arrived_at", TIMESTAMP, nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=True),
        sa.Column("trail", JSON, nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("queued_at", TIMESTAMP, nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("outcome", OUTCOMES, nullable=True),
        sa.Column("overflowed_to", sa.String(length=200), nullable=True),
        sa.Column("voicemail", sa.String(length=255), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "ended_at IS NULL OR outcome IS NOT NULL", name=op.f("ck_inbound_calls_ended_has_outcome")
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_inbound_calls_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_calls")),
        sa.UniqueConstraint("uniqueid", name=op.f("uq_inbound_calls_uniqueid")),
    )
    op.create_index(
        "ix_inbound_calls_open",
        "inbound_calls",
        ["uniqueid"],
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "ix_inbound_calls_caller_answered", "inbound_calls", ["caller", "answered_at", "agent_id"]
    )
    op.create_table(
        "queue_visits",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("call_id", BIG_ID, nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("entered_at", TIMESTAMP, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("left_at", TIMESTAMP, nullable=True),
        sa.Column("result", RESULTS, nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("wait_ms", sa.Integer(), nullable=True),
        sa.Column("talk_ms", sa.Integer(), nullable=True),
        sa.Column("short_abandon_ms", sa.Integer(), nullable=False),
        sa.Column("answer_within_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_queue_visits_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["inbound_calls.id"],
            name=op.f("fk_queue_visits_call_id_inbound_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_visits")),
    )
    op.create_index(op.f("ix_queue_visits_call_id"), "queue_visits", ["call_id"])
    op.create_index("ix_queue_visits_queue_entered", "queue_visits", VISIT_REPORTED)
    op.create_index(
        "uq_queue_visits_call_id_waiting",
        "queue_visits",
        ["call_id"],
        unique=True,
        sqlite_where=sa.text("result IS NULL"),
        postgresql_where=sa.text("result IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("queue_visits")
    op.drop_table("inbound_calls")
    op.drop_table("queue_members")
    op.drop_table("queues")
