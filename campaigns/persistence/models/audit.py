"""The audit trail (CMPL-5): who changed which list, setting or entry, when, and how.

Rows are only ever added; the one change ever made to a row is a retention purge's (CMPL-6,
`campaigns.purge_store`): a `dial.refused` row's number is replaced by the purged lead's token, so
that the trail keeps who, when and why but not the number the retention removes. `entity` names
the table or concept ("campaign", "blocklist_entry"), `entity_id` its key as text (ids and names
alike), `details` the change (old and new values).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, JSONType, UTCDateTime, empty_dict, utc_now


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # user name, "system", "api:<client>"
    action: Mapped[str] = mapped_column(String(64))  # "campaign.update", "blocklist.add", ...
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=empty_dict)
