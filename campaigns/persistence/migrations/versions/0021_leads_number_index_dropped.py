"""Leads lose their index on the number alone: `uq_leads_list_id_e164` serves those lookups.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30

`ix_leads_e164` served the few queries that look a number up in every list (the customer record
of a caller, an SMS opt-out or opt-in). They now name the lists (`list_id IN (SELECT id FROM
contact_lists)`) and probe the unique index on (list_id, e164) once per list: a few microseconds a
list. Every lead written no longer pays for a second index on its number: about 1.5 µs of
PostgreSQL's time per imported lead, and one of the two indexes a large SQLite import builds again
before its commit.
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_leads_e164", table_name="leads")


def downgrade() -> None:
    op.create_index("ix_leads_e164", "leads", ["e164"])
