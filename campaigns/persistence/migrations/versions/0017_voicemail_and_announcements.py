"""Voicemail greetings and messages (IVR-4), and what a queue's announcements say (ACD-8).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

`voicemail_boxes`: an agent's or a queue's greeting (TTS text or uploaded audio, and the sound the
pbx plays); `voicemail_messages`: one row per message left, heard or not
(`campaigns/persistence/models/voicemail.py`). Every queue's settings gain `announced` (`both`)
and `announce_language` (`zh`), the defaults of `QueueConfig`, which reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
OWNER = "owner IN ('agent', 'queue')"
ANNOUNCEMENT_DEFAULTS = {"announced": "both", "announce_language": "zh"}
QUEUES = sa.table("queues", sa.column("id", sa.Integer()), sa.column("settings", sa.JSON()))


def upgrade() -> None:
    op.create_table(
        "voicemail_boxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("greeting_text", sa.Text(), nullable=True),
        sa.Column("greeting_audio", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("greeting_sound", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(OWNER, name=op.f("ck_voicemail_boxes_owner")),
        sa.CheckConstraint(
            "(greeting_text IS NULL) <> (greeting_audio IS NULL)",
            name=op.f("ck_voicemail_boxes_one_greeting"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_boxes")),
        sa.UniqueConstraint("owner", "name", name=op.f("uq_voicemail_boxes_owner_name")),
    )
    op.create_table(
        "voicemail_messages",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("call_id", BIG_ID, nullable=False),
        sa.Column("owner", sa.String(length=8), nullable=False),
        sa.Column("box", sa.String(length=64), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("left_at", TIMESTAMP, nullable=False),
        sa.Column("heard_at", TIMESTAMP, nullable=True),
        sa.Column("heard_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint(OWNER, name=op.f("ck_voicemail_messages_owner")),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["inbound_calls.id"],
            name=op.f("fk_voicemail_messages_call_id_inbound_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_messages")),
        sa.UniqueConstraint("call_id", name=op.f("uq_voicemail_messages_call_id")),
    )
    op.create_index("ix_voicemail_messages_box_heard", "voicemail_messages", ["owner", "box", "heard_at"])
    _queue_settings(lambda settings: ANNOUNCEMENT_DEFAULTS | settings)


def downgrade() -> None:
    _queue_settings(lambda settings: {k: v for k, v in settings.items() if k not in ANNOUNCEMENT_DEFAULTS})
    op.drop_index("ix_voicemail_messages_box_heard", table_name="voicemail_messages")
    op.drop_table("voicemail_messages")
    op.drop_table("voicemail_boxes")


def _queue_settings(change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    connection = op.get_bind()
    for queue_id, settings in connection.execute(sa.select(QUEUES.c.id, QUEUES.c.settings)).all():
        connection.execute(QUEUES.update().where(QUEUES.c.id == queue_id).values(settings=change(settings)))
