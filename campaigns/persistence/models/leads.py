"""Leads: one phone number of a contact list, with what the importer learnt about it and where it
stands in its life (`LeadState`, CMP-2).

The hopper's query is `list_id IN (...) AND state IN ('new', 'retry') AND next_attempt_at <= now
ORDER BY priority DESC, next_attempt_at`: higher `priority` is dialled first. `ix_leads_hopper`
is a partial index on exactly the dialable leads, so it stays small however many leads are done.
A dialable lead must carry `next_attempt_at` (a CHECK says so), or the hopper would never see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import (
    Base,
    BigId,
    CreatedUpdated,
    JSONType,
    UTCDateTime,
    empty_dict,
    empty_list,
    str_enum,
)
from campaigns.persistence.models.enums import DIALABLE_LEAD_STATES, CallOutcome, LeadState, NumberType

DIALABLE = "state IN ({})".format(", ".join(f"'{state}'" for state in DIALABLE_LEAD_STATES))


class Lead(CreatedUpdated, Base):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("list_id", "e164"),
        CheckConstraint(f"NOT ({DIALABLE}) OR next_attempt_at IS NOT NULL", name="dialable_has_next_attempt"),
        CheckConstraint("attempt_count >= 0", name="attempt_count_not_negative"),
        Index(
            "ix_leads_hopper",
            "list_id",
            "priority",
            "next_attempt_at",
            sqlite_where=text(DIALABLE),
            postgresql_where=text(DIALABLE),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("contact_lists.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(16), index=True)
    raw_input: Mapped[str] = mapped_column(String(100))  # the number as the file spelled it
    extension: Mapped[str | None] = mapped_column(String(20))
    source_line: Mapped[int | None] = mapped_column(Integer)  # line in the imported file (IMP-6)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=empty_dict)  # extra columns
    time_zones: Mapped[list[str]] = mapped_column(JSONType, default=empty_list)  # IANA names
    region: Mapped[str | None] = mapped_column(String(64))  # 号码归属地: province or state
    city: Mapped[str | None] = mapped_column(String(64))
    carrier: Mapped[str | None] = mapped_column(String(64))
    number_type: Mapped[NumberType | None] = mapped_column(str_enum(NumberType, "number_type", length=24))
    state: Mapped[LeadState] = mapped_column(str_enum(LeadState, "state"), default=LeadState.NEW)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_outcome: Mapped[CallOutcome | None] = mapped_column(str_enum(CallOutcome, "last_outcome"))
