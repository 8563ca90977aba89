"""In-call controls (AGT-4, IVR-6): `call_controls`, every control an agent used on a call.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

One row per control (hold, resume, transfer, add, consult, conference, complete, cancel) and per
thing the engine did to the call's legs by itself (a third party gone, a caller back from a flow):
when, which agent, the customer's channel, its outbound attempt or inbound call, the target and
the legs' arrangement after it (`campaigns/persistence/models/call_controls.py`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "call_controls",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("call", sa.String(length=150), nullable=False),
        sa.Column("attempt_id", BIG_ID, nullable=True),
        sa.Column("inbound_call_id", BIG_ID, nullable=True),
        sa.Column("control", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("legs", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_call_controls_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["attempt_id"], ["attempts.id"], name=op.f("fk_call_controls_attempt_id_attempts")
        ),
        sa.ForeignKeyConstraint(
            ["inbound_call_id"],
            ["inbound_calls.id"],
            name=op.f("fk_call_controls_inbound_call_id_inbound_calls"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_controls")),
    )
    op.create_index(op.f("ix_call_controls_call"), "call_controls", ["call"])
    op.create_index(op.f("ix_call_controls_attempt_id"), "call_controls", ["attempt_id"])
    op.create_index(op.f("ix_call_controls_inbound_call_id"), "call_controls", ["inbound_call_id"])


def downgrade() -> None:
    op.drop_table("call_controls")
