"""The SMS tables: the outbox (SMS-8), templates (SMS-2), bulk campaigns (SMS-3), consent, receipts, replies.

`sms_messages` has one row per message, written before anything is sent. `idempotency_key` is
unique, so whoever asks for a message (a hang-up rule, a bulk campaign, an agent) can ask twice
without it being sent twice. A sender claims `queued` rows whose `next_try_at` has come
(`ix_sms_messages_due`): it marks them `sending` with its name in `claimed_by` until
`claimed_until` (a sender that died leaves its claims to expire and be taken over), and records
the provider's answer. `reason` is a short code for why a message was cancelled, failed or
deferred (`opted_out`, `frequency_cap`, `rejected`, ...), `last_error` the one line people read.
Delivery receipts find their row by (`provider`, `provider_message_id`); a receipt that arrives
before its message's id is recorded waits in `sms_receipts` (`applied` false) until it is.
Per-number frequency caps (SMS-7) count by (`to_e164`, `created_at`); a customer's SMS history
reads by `lead_id`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import (
    Base,
    BigId,
    CreatedUpdated,
    JSONType,
    UTCDateTime,
    empty_dict,
    str_enum,
    utc_now,
)
from campaigns.persistence.models.enums import CompliancePreset, SmsEncoding, SmsState


class SmsMessage(Base):
    __tablename__ = "sms_messages"
    __table_args__ = (
        UniqueConstraint("provider", "provider_message_id"),
        Index("ix_sms_messages_due", "state", "next_try_at"),
        Index("ix_sms_messages_to_created", "to_e164", "created_at"),
        CheckConstraint("segments >= 1", name="segments_positive"),
        CheckConstraint("tries >= 0", name="tries_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    to_e164: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[SmsEncoding] = mapped_column(str_enum(SmsEncoding, "encoding"))
    marketing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # SMS-6/7 apply
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    lead_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    attempt_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("attempts.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(32))
    state: Mapped[SmsState] = mapped_column(str_enum(SmsState, "state"), default=SmsState.QUEUED)
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(32), sort_order=10)
    claimed_by: Mapped[str | None] = mapped_column(String(64), sort_order=10)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), sort_order=10)
    sender: Mapped[str | None] = mapped_column(String(64), sort_order=10)  # sign / sender name
    template_code: Mapped[str | None] = mapped_column(String(64), sort_order=10)  # the provider's template
    params: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=empty_dict, server_default=text("'{}'"), sort_order=10
    )
    sms_campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("sms_campaigns.id", ondelete="SET NULL"), index=True, sort_order=10
    )
    created_by: Mapped[str] = mapped_column(
        String(64), default="system", server_default="system", sort_order=10
    )
    preset: Mapped[CompliancePreset | None] = mapped_column(  # whose marketing rules apply; None: the default
        str_enum(CompliancePreset, "preset"), sort_order=10
    )


class SmsTemplate(CreatedUpdated, Base):
    """A message text with `{variables}`, checked when saved (SMS-2); `marketing` ones carry the marks."""

    __tablename__ = "sms_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text)
    marketing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    provider_template_code: Mapped[str | None] = mapped_column(String(64))  # e.g. Aliyun's SMS_123
    created_by: Mapped[str] = mapped_column(String(64))


class SmsCampaign(Base):
    """A bulk send (SMS-3): a template to a list (or one group of it), now or at `scheduled_at`.

    Its messages are queued in the outbox when it is created, each due at `scheduled_at`; `counts`
    says how many were queued and how many were left out, by reason.
    """

    __tablename__ = "sms_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    list_id: Mapped[int | None] = mapped_column(ForeignKey("contact_lists.id", ondelete="SET NULL"))
    template_id: Mapped[int] = mapped_column(ForeignKey("sms_templates.id", ondelete="RESTRICT"))
    group_name: Mapped[str | None] = mapped_column(String(100))  # leads whose `group` attribute is this
    preset: Mapped[CompliancePreset] = mapped_column(str_enum(CompliancePreset, "preset"))
    sender: Mapped[str | None] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(32))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=empty_dict)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class SmsRule(Base):
    """A hang-up SMS rule (SMS-1): when a call of a campaign (or to an inbound number) ends so, send this.

    `trigger` is one of `sms.hangup_rules.Trigger`; `disposition` narrows a disposition rule to one
    code, `max_score` a survey rule to scores at or below it. At most one message per rule and call.
    """

    __tablename__ = "sms_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    inbound_number: Mapped[str | None] = mapped_column(String(32), index=True)  # a DID, for inbound calls
    trigger: Mapped[str] = mapped_column(String(32))
    disposition: Mapped[str | None] = mapped_column(String(64))
    max_score: Mapped[int | None] = mapped_column(Integer)
    template_id: Mapped[int] = mapped_column(ForeignKey("sms_templates.id", ondelete="RESTRICT"))
    delay_s: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    provider: Mapped[str | None] = mapped_column(String(32))  # None: the default provider
    sender: Mapped[str | None] = mapped_column(String(64))  # the sign a marketing template needs
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class SmsConsent(Base):
    """A number's recorded consent to marketing SMS, with where it came from (compliance presets)."""

    __tablename__ = "sms_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    source: Mapped[str] = mapped_column(String(64))  # "web_form", "import", "agent", ...
    proof: Mapped[str | None] = mapped_column(Text)  # what shows it: a form id, a recording, a note
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class SmsReceipt(Base):
    """A delivery receipt as it arrived (duplicates and all); `applied` once its message took it."""

    __tablename__ = "sms_receipts"
    __table_args__ = (
        Index("ix_sms_receipts_message", "provider", "provider_message_id"),
        Index("ix_sms_receipts_waiting", "applied", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # sent, delivered, failed
    error: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    applied: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SmsReply(Base):
    """A message a customer sent us (MO), kept whether or not it opted out."""

    __tablename__ = "sms_replies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    from_e164: Mapped[str] = mapped_column(String(16), index=True)
    to: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    opt_out_keyword: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class JobLease(Base):
    """Who may run a singleton job (the SMS sender on SQLite, timers) until when (CB-4)."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
