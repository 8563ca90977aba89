"""Survey answers say how each question ended (SRV-1): key, meaning, result, tries; responses their end.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

A question asked through every retry without a valid key is stored too, with no key and `result`
`invalid` or `no_input`; an answer keeps its key's meaning as the survey version had it. A response
gets `ended_at`: when its call left the survey, complete or not.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey_answers") as batch:
        batch.alter_column("key", existing_type=sa.String(length=16), nullable=True)
        batch.add_column(sa.Column("meaning", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("result", sa.String(length=16), server_default="answered", nullable=False))
        batch.add_column(sa.Column("tries", sa.Integer(), server_default=sa.text("1"), nullable=False))
        batch.create_check_constraint(
            batch.f("ck_survey_answers_result"), "result IN ('answered', 'invalid', 'no_input')"
        )
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_column("ended_at")
    op.execute("DELETE FROM survey_answers WHERE key IS NULL")
    with op.batch_alter_table("survey_answers") as batch:
        batch.drop_constraint(batch.f("ck_survey_answers_result"), type_="check")
        batch.drop_column("tries")
        batch.drop_column("result")
        batch.drop_column("meaning")
        batch.alter_column("key", existing_type=sa.String(length=16), nullable=False)
