"""Who must not be called or texted: DNC and blacklist entries (CMPL-1) and SMS opt-outs (SMS-6).

One table holds both lists. An entry matches one E.164 number (`exact`) or every number starting
with `value` (`prefix`, e.g. "+86170"); it applies everywhere (`global`) or to one campaign. The
dial-time check looks up the number and each of its prefixes by `value` (`ix_blocklist_entries_value`),
so it is a handful of index probes, never a scan. The same entry cannot be added twice: the
two partial unique indexes make bulk imports idempotent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, UTCDateTime, str_enum, utc_now
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope

_GLOBAL = text("scope = 'global'")
_CAMPAIGN = text("scope = 'campaign'")


class BlocklistEntry(Base):
    __tablename__ = "blocklist_entries"
    __table_args__ = (
        CheckConstraint(
            "(scope = 'campaign') = (campaign_id IS NOT NULL)", name="campaign_scope_has_campaign"
        ),
        Index(
            "uq_blocklist_entries_global",
            "kind",
            "match",
            "value",
            unique=True,
            sqlite_where=_GLOBAL,
            postgresql_where=_GLOBAL,
        ),
        Index(
            "uq_blocklist_entries_campaign",
            "campaign_id",
            "kind",
            "match",
            "value",
            unique=True,
            sqlite_where=_CAMPAIGN,
            postgresql_where=_CAMPAIGN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BlockKind] = mapped_column(str_enum(BlockKind, "kind"))
    value: Mapped[str] = mapped_column(String(16), index=True)
    match: Mapped[BlockMatch] = mapped_column(str_enum(BlockMatch, "match"), default=BlockMatch.EXACT)
    scope: Mapped[BlockScope] = mapped_column(str_enum(BlockScope, "scope"), default=BlockScope.GLOBAL)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    reason: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(64))  # "import:dnc-2024-05.csv", "agent", "api"...
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class SmsOptOut(Base):
    """A number that replied 退订 / TD / STOP (or was opted out by hand): no more marketing SMS."""

    __tablename__ = "sms_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    keyword: Mapped[str | None] = mapped_column(String(32))  # the reply that opted out, if any
    source: Mapped[str] = mapped_column(String(64))  # "sms_reply", "agent", "import", "api"
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
