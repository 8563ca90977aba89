"""Column types behave the same on both databases: UTC datetimes, JSON, string enums."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, Lead
from campaigns.persistence.models.enums import LeadState
from tests.db.rows import NOW, Seed

pytestmark = pytest.mark.db

BEIJING = timezone(timedelta(hours=8))


def test_datetimes_come_back_aware_and_in_utc(database: Database, seed: Seed) -> None:
    beijing_morning = datetime(2026, 11, 24, 9, 0, tzinfo=BEIJING)
    with database.session() as session:
        lead = session.get_one(Lead, seed.lead_id)
        lead.next_attempt_at = beijing_morning
    with database.session() as session:
        stored = session.get_one(Lead, seed.lead_id).next_attempt_at
    assert stored == beijing_morning
    assert stored is not None and stored.tzinfo is UTC
    assert stored.hour == 1


def test_datetime_comparisons_ignore_the_zone_they_were_given_in(database: Database, seed: Seed) -> None:
    with database.session() as session:
        session.get_one(Lead, seed.lead_id).next_attempt_at = datetime(2026, 11, 24, 9, 0, tzinfo=BEIJING)
    due = select(Lead.id).where(Lead.next_attempt_at <= datetime(2026, 11, 24, 1, 30, tzinfo=UTC))
    not_due = select(Lead.id).where(Lead.next_attempt_at <= datetime(2026, 11, 24, 0, 30, tzinfo=UTC))
    with database.session() as session:
        assert session.scalars(due).all() == [seed.lead_id]
        assert session.scalars(not_due).all() == []


def test_naive_datetimes_are_refused(database: Database, seed: Seed) -> None:
    with pytest.raises(StatementError, match="naive datetime"), database.session() as session:
        session.get_one(Lead, seed.lead_id).next_attempt_at = datetime(2026, 11, 24, 9, 0)
        session.flush()


def test_json_keeps_chinese_text_and_structure(database: Database) -> None:
    details = {"列表": "广州客户", "rows": [1, 2, 3], "nested": {"退订": True}}
    with database.session() as session:
        session.add(AuditEntry(actor="张三", action="list.import", entity="contact_list", details=details))
    with database.session() as session:
        entry = session.scalars(select(AuditEntry)).one()
    assert entry.details == details
    assert entry.at.tzinfo is UTC


def test_enums_come_back_as_members_and_unknown_values_are_refused(database: Database, seed: Seed) -> None:
    with database.session() as session:
        assert session.get_one(Lead, seed.lead_id).state is LeadState.NEW
    with pytest.raises(IntegrityError, match="ck_leads_state"), database.session() as session:
        session.execute(text("UPDATE leads SET state = 'ringing' WHERE id = :id"), {"id": seed.lead_id})


def test_defaults_fill_what_the_caller_leaves_out(database: Database, seed: Seed) -> None:
    with database.session() as session:
        lead = session.get_one(Lead, seed.lead_id)
    assert (lead.attempt_count, lead.priority, lead.attributes, lead.time_zones) == (0, 0, {}, [])
    assert lead.created_at.tzinfo is UTC and lead.created_at > NOW
