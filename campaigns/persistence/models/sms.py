"""The SMS outbox (SMS-8): one row per message, written before anything is sent.

`idempotency_key` is unique, so whoever asks for a message (a hang-up rule, a bulk campaign, an
agent) can ask twice without it being sent twice. The sender takes `queued` rows whose
`next_try_at` has come (`ix_sms_messages_due`), marks them `sending`, and records the provider's
answer; delivery receipts find their row by (`provider`, `provider_message_id`). Per-number
frequency caps (SMS-7) count by (`to_e164`, `created_at`); a customer's SMS history reads by `lead_id`.
"""

from __future__ import annotations

from datetime import datetime

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
)
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, UTCDateTime, str_enum, utc_now
from campaigns.persistence.models.enums import SmsEncoding, SmsState


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
