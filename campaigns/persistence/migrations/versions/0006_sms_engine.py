"""The SMS engine (issue 7): outbox claims and reasons, templates, bulk campaigns, consent, receipts,
replies, and job leases.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

`sms_messages` gains the sender's claim (`claimed_by` until `claimed_until`), a `reason` code,
the sender name, a provider template and its parameters, the bulk campaign it belongs to, who
asked for it and whose marketing rules (`preset`) it follows. New tables: `sms_templates`,
`sms_rules` (hang-up SMS), `sms_campaigns`, `sms_consents`, `sms_receipts` (every delivery
receipt as it came), `sms_replies` (every customer message) and `job_leases` (who runs a
singleton job until when). Types are spelled out as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
PRESETS = sa.Enum(
    "cn", "us", "uk", "custom", name="preset", native_enum=False, create_constraint=True, length=16
)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "sms_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("proof", sa.Text(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_consents")),
        sa.UniqueConstraint("e164", name=op.f("uq_sms_consents_e164")),
    )
    op.create_table(
        "sms_receipts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("reported_at", TIMESTAMP, nullable=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("applied", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_receipts")),
    )
    op.create_index("ix_sms_receipts_message", "sms_receipts", ["provider", "provider_message_id"])
    op.create_index("ix_sms_receipts_waiting", "sms_receipts", ["applied", "received_at"])
    op.create_table(
        "sms_replies",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("from_e164", sa.String(length=16), nullable=False),
        sa.Column("to", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("opt_out_keyword", sa.String(length=32), nullable=True),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_replies")),
    )
    op.create_index(op.f("ix_sms_replies_from_e164"), "sms_replies", ["from_e164"])
    op.create_table(
        "sms_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("marketing", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("provider_template_code", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_sms_templates_name")),
    )
    op.create_table(
        "sms_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=True),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=True),
        sa.Column("preset", PRESETS, nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("scheduled_at", TIMESTAMP, nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["contact_lists.id"],
            name=op.f("fk_sms_campaigns_list_id_contact_lists"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["sms_templates.id"],
            name=op.f("fk_sms_campaigns_template_id_sms_templates"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_sms_campaigns_name")),
    )
    op.create_table(
        "sms_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("inbound_number", sa.String(length=32), nullable=True),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.Column("max_score", sa.Integer(), nullable=True),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("delay_s", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("sender", sa.String(length=64), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_sms_rules_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["sms_templates.id"],
            name=op.f("fk_sms_rules_template_id_sms_templates"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_sms_rules_name")),
    )
    op.create_index(op.f("ix_sms_rules_campaign_id"), "sms_rules", ["campaign_id"])
    op.create_index(op.f("ix_sms_rules_inbound_number"), "sms_rules", ["inbound_number"])
    with op.batch_alter_table("sms_messages") as batch:
        batch.add_column(sa.Column("reason", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_until", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("sender", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("template_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("params", JSON, server_default=sa.text("'{}'"), nullable=False))
        batch.add_column(sa.Column("sms_campaign_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("created_by", sa.String(length=64), server_default="system", nullable=False)
        )
        batch.add_column(sa.Column("preset", PRESETS, nullable=True))
        batch.create_index(batch.f("ix_sms_messages_sms_campaign_id"), ["sms_campaign_id"])
        batch.create_foreign_key(
            batch.f("fk_sms_messages_sms_campaign_id_sms_campaigns"),
            "sms_campaigns",
            ["sms_campaign_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("sms_messages") as batch:
        batch.drop_constraint(batch.f("fk_sms_messages_sms_campaign_id_sms_campaigns"), type_="foreignkey")
        batch.drop_index(batch.f("ix_sms_messages_sms_campaign_id"))
        batch.drop_constraint(batch.f("ck_sms_messages_preset"), type_="check")
        for column in (
            "preset",
            "created_by",
            "sms_campaign_id",
            "params",
            "template_code",
            "sender",
            "claimed_until",
            "claimed_by",
            "reason",
        ):
            batch.drop_column(column)
    op.drop_table("sms_rules")
    op.drop_table("sms_campaigns")
    op.drop_table("sms_templates")
    op.drop_index(op.f("ix_sms_replies_from_e164"), table_name="sms_replies")
    op.drop_table("sms_replies")
    op.drop_index("ix_sms_receipts_waiting", table_name="sms_receipts")
    op.drop_index("ix_sms_receipts_message", table_name="sms_receipts")
    op.drop_table("sms_receipts")
    op.drop_table("sms_consents")
    op.drop_table("job_leases")
