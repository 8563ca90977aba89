"""Surveys after inbound calls and in IVR flows (SRV-2, IVR-2): a response's inbound call and queue.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30

`survey_responses` gains `inbound_call_id` (the inbound call the survey was asked on: after its
agent, or by a flow's survey node) and `queue_id` (the queue that served it last), both nullable,
with an index each for the results by queue. Every queue's settings gain `survey_id` (None: no
post-call survey), the default of `QueueConfig`, which reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SURVEY_DEFAULT = {"survey_id": None}
QUEUES = sa.table("queues", sa.column("id", sa.Integer()), sa.column("settings", sa.JSON()))


def upgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(sa.Column("inbound_call_id", BIG_ID, nullable=True))
        batch.add_column(sa.Column("queue_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_survey_responses_inbound_call_id_inbound_calls"),
            "inbound_calls",
            ["inbound_call_id"],
            ["id"],
        )
        queue_fk = batch.f("fk_survey_responses_queue_id_queues")
        batch.create_foreign_key(queue_fk, "queues", ["queue_id"], ["id"])
    op.create_index(op.f("ix_survey_responses_inbound_call_id"), "survey_responses", ["inbound_call_id"])
    op.create_index("ix_survey_responses_queue_started", "survey_responses", ["queue_id", "started_at"])
    _queue_settings(lambda settings: SURVEY_DEFAULT | settings)


def downgrade() -> None:
    _queue_settings(lambda settings: {k: v for k, v in settings.items() if k not in SURVEY_DEFAULT})
    op.drop_index("ix_survey_responses_queue_started", table_name="survey_responses")
    op.drop_index(op.f("ix_survey_responses_inbound_call_id"), table_name="survey_responses")
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_constraint(batch.f("fk_survey_responses_queue_id_queues"), type_="foreignkey")
        call_fk = batch.f("fk_survey_responses_inbound_call_id_inbound_calls")
        batch.drop_constraint(call_fk, type_="foreignkey")
        batch.drop_column("queue_id")
        batch.drop_column("inbound_call_id")


def _queue_settings(change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    connection = op.get_bind()
    for queue_id, settings in connection.execute(sa.select(QUEUES.c.id, QUEUES.c.settings)).all():
        connection.execute(QUEUES.update().where(QUEUES.c.id == queue_id).values(settings=change(settings)))
