"""IVR flows and inbound numbers (IVR-1..IVR-3): the flow documents, and which DID runs which flow when.

A flow's `document` is the YAML or JSON text as its author wrote it (comments kept), parsed by
`dialer.ivr.flow`; every save bumps `version`, so a call's trail can say which version it went
through. Only an `active` flow is run by the engine, and only a flow without problems is made
active (`campaigns.ivr_store`). An inbound number's `flow_plan` is a `dialer.ivr.did_plan.DidPlan`
(a default flow and time rules, naming active flows; or, instead, the agent or queue the number
goes straight to, `direct`: ACD-9, by name); `default_message` is a surveys' `Prompt`
played when the plan picks no flow, so a DID is never dead air. A missed call to the number (the
caller hung up waiting, went to voicemail, or was lost) is called back by the agents of
`missed_callback_campaign` (CB-2), `missed_callback_after_s` after it ended, when one is set.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, CreatedUpdated, JSONType


class IvrFlow(CreatedUpdated, Base):
    __tablename__ = "ivr_flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    document: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class InboundNumber(CreatedUpdated, Base):
    __tablename__ = "inbound_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    did: Mapped[str] = mapped_column(String(32), unique=True)  # E.164 (+864001234567) or a short number
    flow_plan: Mapped[dict[str, Any]] = mapped_column(JSONType)  # a DidPlan: flows by time, or direct
    default_message: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # CB-2: a missed call to this number is called back by this campaign's agents, this long after;
    # added by migration 0011, after the timestamps (`sort_order`: the migrated column order)
    missed_callback_campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), sort_order=1
    )
    missed_callback_after_s: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), sort_order=1
    )
