"""Dial attempts (every call placed, CMP-2) and scheduled callbacks (CB-1).

A lead is never in two calls at once: `uq_attempts_lead_id_open` is a partial unique index on
`lead_id` over the attempts that have not ended, so a second open attempt fails in the database
even if two dialer processes race. Attempts are call records kept for compliance; their leads
and campaigns cannot be deleted while they exist.

Hot queries and their indexes: lines in progress per campaign (`ix_attempts_open_by_campaign`),
attempts to one number per day across campaigns for the caps of CMPL-4 (`ix_attempts_e164_dialed`),
AMI events by `uniqueid`. Two covering indexes serve a campaign's calls over a period without
reading the table: by when they were dialled (`ix_attempts_campaign_dialed`: the abandonment rate
checked before every dial, the compliance report) and by when they ended
(`ix_attempts_campaign_ended`: the campaign, agents and trunks reports). Each holds the columns
those queries read, so millions of calls are counted from the index alone (bench/report_bench.py).

`time_zones` are the callee's zones as the dialer knew them when it checked the calling window
(the lead's then): the compliance report places each call in the callee's local hour by them, as
dialled, even if the lead's zones change later.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, JSONType, UTCDateTime, str_enum, utc_now
from campaigns.persistence.models.enums import AmdResult, CallbackState, CallOutcome

_OPEN = text("ended_at IS NULL")
_PENDING = text("state = 'pending'")
# What reports read of an ended call, besides campaign and end: in `ix_attempts_campaign_ended`.
REPORTED = (
    "outcome",
    "disposition_id",
    "agent_id",
    "lead_id",
    "bridged_at",
    "answered_at",
    "trunk",
    "caller_id",
    "hangup_cause",
)


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        Index("uq_attempts_lead_id_open", "lead_id", unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_attempts_open_by_campaign", "campaign_id", sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_attempts_lead_dialed", "lead_id", "dialed_at"),
        Index(
            "ix_attempts_campaign_dialed", "campaign_id", "dialed_at", "outcome", "abandoned", "time_zones"
        ),
        Index("ix_attempts_e164_dialed", "e164", "dialed_at"),
        Index("ix_attempts_agent_dialed", "agent_id", "dialed_at"),
        Index("ix_attempts_campaign_ended", "campaign_id", "ended_at", *REPORTED),
        CheckConstraint("ended_at IS NULL OR outcome IS NOT NULL", name="ended_has_outcome"),
        CheckConstraint("connect_ms IS NULL OR connect_ms >= 0", name="connect_ms_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigId, ForeignKey("leads.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    e164: Mapped[str] = mapped_column(String(16))  # the number dialled
    trunk: Mapped[str | None] = mapped_column(String(64))
    caller_id: Mapped[str | None] = mapped_column(String(32))
    dialed_at: Mapped[datetime] = mapped_column(UTCDateTime())  # originate sent
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bridged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # joined to an agent
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[CallOutcome | None] = mapped_column(str_enum(CallOutcome, "outcome"))
    amd_result: Mapped[AmdResult | None] = mapped_column(str_enum(AmdResult, "amd_result"))
    amd_cause: Mapped[str | None] = mapped_column(String(64))  # AMDCAUSE, e.g. "LONGGREETING-2000-1500"
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)  # Q.850 cause code
    hangup_cause_text: Mapped[str | None] = mapped_column(String(64))
    uniqueid: Mapped[str | None] = mapped_column(String(150), unique=True)  # Asterisk channel uniqueid
    linkedid: Mapped[str | None] = mapped_column(String(150), index=True)
    originate_action_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    connect_ms: Mapped[int | None] = mapped_column(Integer)  # answer -> agent bridged
    disposition_id: Mapped[int | None] = mapped_column(ForeignKey("dispositions.id"))
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    time_zones: Mapped[list[str] | None] = mapped_column(JSONType)  # the callee's, at dial time


class Callback(Base):
    """A call promised for `due_at` (UTC; `time_zone` is the customer's, for display and windows).

    At most one pending callback per lead (`uq_callbacks_lead_id_pending`); `agent_id` NULL means
    any agent of the campaign may take it.
    """

    __tablename__ = "callbacks"
    __table_args__ = (
        Index(
            "uq_callbacks_lead_id_pending",
            "lead_id",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
        Index("ix_callbacks_due", "campaign_id", "due_at", sqlite_where=_PENDING, postgresql_where=_PENDING),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigId, ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    time_zone: Mapped[str] = mapped_column(String(64))
    state: Mapped[CallbackState] = mapped_column(
        str_enum(CallbackState, "state"), default=CallbackState.PENDING
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
