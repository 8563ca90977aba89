"""The initial schema: campaigns, lists and leads, attempts, agents, compliance lists, the SMS
outbox, surveys, callbacks and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Hand-checked against `campaigns.persistence.models`. Types are spelled out here rather than
imported from the models, so that this revision keeps meaning what it meant when later revisions
change them. The enum columns' CHECK constraints get their names (`ck_<table>_<column>`) from the
naming convention of the metadata that env.py hands to Alembic.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agent_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_agent_groups_name")),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("dial_string", sa.String(length=200), nullable=False),
        sa.Column("agent_number", sa.String(length=16), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "logged_out",
                "ready",
                "not_ready",
                "reserved",
                "on_call",
                "wrap_up",
                name="state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("state_since", TIMESTAMP, nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("agent_number", name=op.f("uq_agents_agent_number")),
        sa.UniqueConstraint("name", name=op.f("uq_agents_name")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id", "at"])
    op.create_table(
        "contact_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=True),
        sa.Column("imported_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_contact_lists_name")),
    )
    op.create_table(
        "sms_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("keyword", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_opt_outs")),
        sa.UniqueConstraint("e164", name=op.f("uq_sms_opt_outs_e164")),
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("name", name=op.f("uq_surveys_name")),
    )
    op.create_table(
        "agent_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("skill_level", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_group_members_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["agent_groups.id"],
            name=op.f("fk_agent_group_members_group_id_agent_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "agent_id", name=op.f("pk_agent_group_members")),
    )
    op.create_index(op.f("ix_agent_group_members_agent_id"), "agent_group_members", ["agent_id"])
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "dial_mode",
            sa.Enum(
                "preview",
                "progressive",
                "ratio",
                "predictive",
                "broadcast",
                name="dial_mode",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "running",
                "paused",
                "finished",
                name="state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("caller_id", sa.String(length=32), nullable=True),
        sa.Column("trunk", sa.String(length=64), nullable=True),
        sa.Column("agent_group_id", sa.Integer(), nullable=True),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column(
            "compliance_preset",
            sa.Enum(
                "cn",
                "us",
                "uk",
                "custom",
                name="compliance_preset",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_group_id"],
            ["agent_groups.id"],
            name=op.f("fk_campaigns_agent_group_id_agent_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_campaigns_survey_id_surveys"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "leads",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("raw_input", sa.String(length=100), nullable=False),
        sa.Column("extension", sa.String(length=20), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("time_zones", JSON, nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("city", sa.String(length=64), nullable=True),
        sa.Column("carrier", sa.String(length=64), nullable=True),
        sa.Column(
            "number_type",
            sa.Enum(
                "fixed_line",
                "mobile",
                "fixed_line_or_mobile",
                "toll_free",
                "premium_rate",
                "shared_cost",
                "voip",
                "personal_number",
                "pager",
                "uan",
                "voicemail",
                "unknown",
                name="number_type",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "new",
                "queued",
                "dialing",
                "answered",
                "no_answer",
                "busy",
                "failed",
                "machine",
                "abandoned",
                "retry",
                "callback",
                "done",
                "exhausted",
                "dnc_blocked",
                name="state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempt_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("last_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "last_outcome",
            sa.Enum(
                "answered",
                "no_answer",
                "busy",
                "failed",
                "machine",
                "abandoned",
                "cancelled",
                name="last_outcome",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "NOT (state IN ('new', 'retry')) OR next_attempt_at IS NOT NULL",
            name=op.f("ck_leads_dialable_has_next_attempt"),
        ),
        sa.CheckConstraint("attempt_count >= 0", name=op.f("ck_leads_attempt_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["list_id"], ["contact_lists.id"], name=op.f("fk_leads_list_id_contact_lists"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("list_id", "e164", name=op.f("uq_leads_list_id_e164")),
    )
    op.create_index(op.f("ix_leads_e164"), "leads", ["e164"])
    op.create_index(
        "ix_leads_hopper",
        "leads",
        ["list_id", "priority", "next_attempt_at"],
        sqlite_where=sa.text("state IN ('new', 'retry')"),
        postgresql_where=sa.text("state IN ('new', 'retry')"),
    )
    op.create_table(
        "agent_state_log",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_state",
            sa.Enum(
                "logged_out",
                "ready",
                "not_ready",
                "reserved",
                "on_call",
                "wrap_up",
                name="from_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_state",
            sa.Enum(
                "logged_out",
                "ready",
                "not_ready",
                "reserved",
                "on_call",
                "wrap_up",
                name="to_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_agent_state_log_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_agent_state_log_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_log")),
    )
    op.create_index("ix_agent_state_log_agent_at", "agent_state_log", ["agent_id", "at"])
    op.create_table(
        "blocklist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("dnc", "blacklist", name="kind", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.Column(
            "match",
            sa.Enum("exact", "prefix", name="match", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column(
            "scope",
            sa.Enum("global", "campaign", name="scope", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "(scope = 'campaign') = (campaign_id IS NOT NULL)",
            name=op.f("ck_blocklist_entries_campaign_scope_has_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_blocklist_entries_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocklist_entries")),
    )
    op.create_index(op.f("ix_blocklist_entries_value"), "blocklist_entries", ["value"])
    op.create_index(
        "uq_blocklist_entries_campaign",
        "blocklist_entries",
        ["campaign_id", "kind", "match", "value"],
        unique=True,
        sqlite_where=sa.text("scope = 'campaign'"),
        postgresql_where=sa.text("scope = 'campaign'"),
    )
    op.create_index(
        "uq_blocklist_entries_global",
        "blocklist_entries",
        ["kind", "match", "value"],
        unique=True,
        sqlite_where=sa.text("scope = 'global'"),
        postgresql_where=sa.text("scope = 'global'"),
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", BIG_ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "done",
                "cancelled",
                name="state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_callbacks_agent_id_agents"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_callbacks_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_callbacks_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_agent_id"), "callbacks", ["agent_id"])
    op.create_index(
        "ix_callbacks_due",
        "callbacks",
        ["campaign_id", "due_at"],
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(op.f("ix_callbacks_lead_id"), "callbacks", ["lead_id"])
    op.create_index(
        "uq_callbacks_lead_id_pending",
        "callbacks",
        ["lead_id"],
        unique=True,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "campaign_lists",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("weight", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("weight > 0", name=op.f("ck_campaign_lists_weight_positive")),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_lists_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["contact_lists.id"],
            name=op.f("fk_campaign_lists_list_id_contact_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "list_id", name=op.f("pk_campaign_lists")),
    )
    op.create_index(op.f("ix_campaign_lists_list_id"), "campaign_lists", ["list_id"])
    op.create_table(
        "dispositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("final", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("retry_after_s", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "NOT (final AND retry_after_s IS NOT NULL)", name=op.f("ck_dispositions_final_has_no_retry")
        ),
        sa.CheckConstraint(
            "retry_after_s IS NULL OR retry_after_s >= 0",
            name=op.f("ck_dispositions_retry_after_s_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_dispositions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispositions")),
        sa.UniqueConstraint("campaign_id", "code", name=op.f("uq_dispositions_campaign_id_code")),
    )
    op.create_table(
        "attempts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("lead_id", BIG_ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("trunk", sa.String(length=64), nullable=True),
        sa.Column("caller_id", sa.String(length=32), nullable=True),
        sa.Column("dialed_at", TIMESTAMP, nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.Column("bridged_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "answered",
                "no_answer",
                "busy",
                "failed",
                "machine",
                "abandoned",
                "cancelled",
                name="outcome",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "amd_result",
            sa.Enum(
                "human",
                "machine",
                "notsure",
                "hangup",
                name="amd_result",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("amd_cause", sa.String(length=64), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("hangup_cause_text", sa.String(length=64), nullable=True),
        sa.Column("uniqueid", sa.String(length=150), nullable=True),
        sa.Column("linkedid", sa.String(length=150), nullable=True),
        sa.Column("originate_action_id", sa.String(length=64), nullable=True),
        sa.Column("connect_ms", sa.Integer(), nullable=True),
        sa.Column("disposition_id", sa.Integer(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(
            "connect_ms IS NULL OR connect_ms >= 0", name=op.f("ck_attempts_connect_ms_not_negative")
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR outcome IS NOT NULL", name=op.f("ck_attempts_ended_has_outcome")
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_attempts_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_attempts_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["disposition_id"], ["dispositions.id"], name=op.f("fk_attempts_disposition_id_dispositions")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_attempts_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.UniqueConstraint("originate_action_id", name=op.f("uq_attempts_originate_action_id")),
        sa.UniqueConstraint("uniqueid", name=op.f("uq_attempts_uniqueid")),
    )
    op.create_index("ix_attempts_agent_dialed", "attempts", ["agent_id", "dialed_at"])
    op.create_index("ix_attempts_campaign_dialed", "attempts", ["campaign_id", "dialed_at"])
    op.create_index("ix_attempts_e164_dialed", "attempts", ["e164", "dialed_at"])
    op.create_index("ix_attempts_lead_dialed", "attempts", ["lead_id", "dialed_at"])
    op.create_index(op.f("ix_attempts_linkedid"), "attempts", ["linkedid"])
    op.create_index(
        "ix_attempts_open_by_campaign",
        "attempts",
        ["campaign_id"],
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "uq_attempts_lead_id_open",
        "attempts",
        ["lead_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "sms_messages",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("to_e164", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column(
            "encoding",
            sa.Enum("gsm7", "ucs2", name="encoding", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("marketing", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", BIG_ID, nullable=True),
        sa.Column("attempt_id", BIG_ID, nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "delivered",
                "failed",
                "cancelled",
                name="state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("tries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_try_at", TIMESTAMP, nullable=True),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("segments >= 1", name=op.f("ck_sms_messages_segments_positive")),
        sa.CheckConstraint("tries >= 0", name=op.f("ck_sms_messages_tries_not_negative")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["attempts.id"],
            name=op.f("fk_sms_messages_attempt_id_attempts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_sms_messages_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_sms_messages_lead_id_leads"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sms_messages_idempotency_key")),
        sa.UniqueConstraint(
            "provider", "provider_message_id", name=op.f("uq_sms_messages_provider_provider_message_id")
        ),
    )
    op.create_index("ix_sms_messages_due", "sms_messages", ["state", "next_try_at"])
    op.create_index(op.f("ix_sms_messages_lead_id"), "sms_messages", ["lead_id"])
    op.create_index("ix_sms_messages_to_created", "sms_messages", ["to_e164", "created_at"])
    op.create_table(
        "survey_responses",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("survey_version", sa.Integer(), nullable=False),
        sa.Column("attempt_id", BIG_ID, nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("completed_at", TIMESTAMP, nullable=True),
        sa.Column("partial", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_survey_responses_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"], ["attempts.id"], name=op.f("fk_survey_responses_attempt_id_attempts")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_survey_responses_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_responses_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
    )
    op.create_index("ix_survey_responses_agent_started", "survey_responses", ["agent_id", "started_at"])
    op.create_index(op.f("ix_survey_responses_attempt_id"), "survey_responses", ["attempt_id"])
    op.create_index("ix_survey_responses_campaign_started", "survey_responses", ["campaign_id", "started_at"])
    op.create_index(op.f("ix_survey_responses_survey_id"), "survey_responses", ["survey_id"])
    op.create_table(
        "survey_answers",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("response_id", BIG_ID, nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_answers_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint(
            "response_id", "question_id", name=op.f("uq_survey_answers_response_id_question_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_table("survey_responses")
    op.drop_table("sms_messages")
    op.drop_table("attempts")
    op.drop_table("dispositions")
    op.drop_table("campaign_lists")
    op.drop_table("callbacks")
    op.drop_table("blocklist_entries")
    op.drop_table("agent_state_log")
    op.drop_table("leads")
    op.drop_table("campaigns")
    op.drop_table("agent_group_members")
    op.drop_table("surveys")
    op.drop_table("sms_opt_outs")
    op.drop_table("contact_lists")
    op.drop_table("audit_log")
    op.drop_table("agents")
    op.drop_table("agent_groups")
