"""Rows the DB tests start from: one campaign, one list attached to it, one dialable lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from campaigns.persistence.db import Database
from campaigns.persistence.models import Campaign, CampaignList, ContactList, Lead
from campaigns.persistence.models.enums import CompliancePreset, DialMode

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Seed:
    campaign_id: int
    list_id: int
    lead_id: int


def add_seed(database: Database) -> Seed:
    with database.session() as session:
        campaign = Campaign(
            name="秋季回访", dial_mode=DialMode.PROGRESSIVE, compliance_preset=CompliancePreset.CN
        )
        contact_list = ContactList(name="广州客户 2026-11", source_file="客户.csv", imported_at=NOW)
        session.add_all([campaign, contact_list])
        session.flush()
        session.add(CampaignList(campaign_id=campaign.id, list_id=contact_list.id))
        lead = Lead(
            list_id=contact_list.id, e164="+8613800138000", raw_input="138 0013 8000", next_attempt_at=NOW
        )
        session.add(lead)
        session.flush()
        return Seed(campaign.id, contact_list.id, lead.id)
