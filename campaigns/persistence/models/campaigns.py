"""Campaigns, the contact lists they dial, and their disposition sets (CMP-1, CMP-5).

A campaign's typed columns are what queries filter on; everything else it is told (calling
windows, retry rules, caps, AMD, the abandon message, SMS rules...) lives in `settings` JSON,
validated by the campaign service, so adding a knob needs no migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import (
    Base,
    CreatedUpdated,
    JSONType,
    UTCDateTime,
    empty_dict,
    empty_list,
    str_enum,
    utc_now,
)
from campaigns.persistence.models.enums import CampaignState, CompliancePreset, DialMode


class Campaign(CreatedUpdated, Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    dial_mode: Mapped[DialMode] = mapped_column(str_enum(DialMode, "dial_mode"))
    state: Mapped[CampaignState] = mapped_column(
        str_enum(CampaignState, "state"), default=CampaignState.DRAFT
    )
    caller_id: Mapped[str | None] = mapped_column(String(32))
    trunk: Mapped[str | None] = mapped_column(String(64))
    agent_group_id: Mapped[int | None] = mapped_column(ForeignKey("agent_groups.id", ondelete="SET NULL"))
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="SET NULL"))
    compliance_preset: Mapped[CompliancePreset] = mapped_column(
        str_enum(CompliancePreset, "compliance_preset")
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=empty_dict)


class ContactList(Base):
    """An imported file's worth of leads (IMP-1); `imported_at` is set when the import finished."""

    __tablename__ = "contact_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source_file: Mapped[str | None] = mapped_column(String(500))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class ListImport(Base):
    """One file imported into a list (IMP-6): who imported it, when, and what became of its rows.

    A file is known by its SHA-256: importing the same file into the same list again reuses this
    row, and the leads that carry its id and their source line are recognised as already there.
    `rejected` counts the rejected rows by reason code; `attributes` names the file's other columns in
    their order (the leads' JSON attributes do not keep it on PostgreSQL), for exports.
    """

    __tablename__ = "list_imports"
    __table_args__ = (UniqueConstraint("list_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("contact_lists.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    total_rows: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    accepted: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    rejected: Mapped[dict[str, Any]] = mapped_column(JSONType, default=empty_dict)
    attributes: Mapped[list[str]] = mapped_column(JSONType, default=empty_list)  # names, in the file's order


class CampaignList(Base):
    """A list attached to a campaign: higher `priority` lists are dialled first, `weight` shares the rest."""

    __tablename__ = "campaign_lists"
    __table_args__ = (CheckConstraint("weight > 0", name="weight_positive"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("contact_lists.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    weight: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class Disposition(Base):
    """A call result an agent can pick (通话结果). Final ones close the lead; others retry after a delay."""

    __tablename__ = "dispositions"
    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        CheckConstraint("NOT (final AND retry_after_s IS NOT NULL)", name="final_has_no_retry"),
        CheckConstraint("retry_after_s IS NULL OR retry_after_s >= 0", name="retry_after_s_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100))
    final: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    retry_after_s: Mapped[int | None] = mapped_column(Integer)
