"""Leads' region, city and carrier texts move to `number_places`, one row per distinct set.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01

A lead carried six texts about its number (region, city and carrier, in Chinese and in English):
about 60 of its 280 bytes, written by every import (and by SQLite's write-ahead log twice), though
a few thousand distinct sets cover a whole country. They are now a row of `number_places`, and a
lead has its `place_id` (no foreign key: see `NumberPlace`). A million-row SQLite import runs
about 12 % faster. `key` is the six texts joined on the unit separator (char 31), a missing one as
'': `campaigns.place_store.place_key` computes the same. The existing leads get their places here;
a lead with none of the six texts gets no place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TEXTS = ("region", "city", "carrier", "region_en", "city_en", "carrier_en")
ANY_TEXT = " OR ".join(f"leads.{name} IS NOT NULL" for name in TEXTS)


def upgrade() -> None:
    op.create_table(
        "number_places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        *(sa.Column(name, sa.String(length=64), nullable=True) for name in TEXTS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_places")),
        sa.UniqueConstraint("key", name=op.f("uq_number_places_key")),
    )
    with op.batch_alter_table("leads", recreate="never") as batch:
        batch.add_column(sa.Column("place_id", sa.Integer(), nullable=True))
    separator = "chr(31)" if op.get_bind().dialect.name == "postgresql" else "char(31)"
    key = f" || {separator} || ".join(f"coalesce(leads.{name}, '')" for name in TEXTS)
    op.execute(
        f"INSERT INTO number_places (key, {', '.join(TEXTS)})"
        f" SELECT {key}, {', '.join(f'min(leads.{name})' for name in TEXTS)}"
        f" FROM leads WHERE {ANY_TEXT} GROUP BY {key}"
    )
    op.execute(
        f"UPDATE leads SET place_id = (SELECT number_places.id FROM number_places"
        f" WHERE number_places.key = {key}) WHERE {ANY_TEXT}"
    )
    with op.batch_alter_table("leads", recreate="never") as batch:
        for name in TEXTS:
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("leads", recreate="never") as batch:
        for name in TEXTS:
            batch.add_column(sa.Column(name, sa.String(length=64), nullable=True))
    texts = ", ".join(
        f"{name} = (SELECT p.{name} FROM number_places AS p WHERE p.id = leads.place_id)" for name in TEXTS
    )
    op.execute(f"UPDATE leads SET {texts} WHERE leads.place_id IS NOT NULL")
    with op.batch_alter_table("leads", recreate="never") as batch:
        batch.drop_column("place_id")
    op.drop_table("number_places")
