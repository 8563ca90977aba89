"""Invariants the database itself enforces, so that no race or bug in the dialer can break them.

SQLite names the columns of a violated unique index, PostgreSQL names the index: the patterns
accept either.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, BlocklistEntry, ContactList, Lead
from campaigns.persistence.models.enums import BlockKind, BlockScope, CallOutcome, LeadState
from tests.db.rows import NOW, Seed

pytestmark = pytest.mark.db

OPEN_ATTEMPT_TWICE = r"uq_attempts_lead_id_open|UNIQUE constraint failed: attempts\.lead_id"
LEAD_TWICE = r"uq_leads_list_id_e164|UNIQUE constraint failed: leads\.list_id, leads\.e164"
GLOBAL_ENTRY_TWICE = r"uq_blocklist_entries_global|UNIQUE constraint failed: blocklist_entries\.kind"


def _attempt(seed: Seed, uniqueid: str) -> Attempt:
    return Attempt(
        lead_id=seed.lead_id,
        campaign_id=seed.campaign_id,
        e164="+8613800138000",
        dialed_at=NOW,
        uniqueid=uniqueid,
    )


def _lead(list_id: int, e164: str, state: LeadState = LeadState.NEW) -> Lead:
    next_attempt_at = NOW if state is LeadState.NEW else None
    return Lead(list_id=list_id, e164=e164, raw_input=e164, state=state, next_attempt_at=next_attempt_at)


def test_a_lead_is_never_in_two_calls_at_once(database: Database, seed: Seed) -> None:
    with database.session() as session:
        session.add(_attempt(seed, "1700000000.1"))
    with pytest.raises(IntegrityError, match=OPEN_ATTEMPT_TWICE), database.session() as session:
        session.add(_attempt(seed, "1700000000.2"))


def test_a_lead_can_be_dialled_again_once_its_call_ended(database: Database, seed: Seed) -> None:
    with database.session() as session:
        first = _attempt(seed, "1700000000.1")
        session.add(first)
        session.flush()
        first.ended_at, first.outcome = NOW, CallOutcome.NO_ANSWER
    with database.session() as session:
        session.add(_attempt(seed, "1700000000.2"))


def test_an_ended_attempt_needs_an_outcome(database: Database, seed: Seed) -> None:
    attempt = _attempt(seed, "1700000000.1")
    attempt.ended_at = NOW
    with pytest.raises(IntegrityError, match="ck_attempts_ended_has_outcome"), database.session() as session:
        session.add(attempt)


def test_a_number_appears_once_per_list(database: Database, seed: Seed) -> None:
    with pytest.raises(IntegrityError, match=LEAD_TWICE), database.session() as session:
        session.add(_lead(seed.list_id, "+8613800138000"))
    with database.session() as session:
        other_list = ContactList(name="深圳客户")
        session.add(other_list)
        session.flush()
        session.add(_lead(other_list.id, "+8613800138000"))


def test_a_dialable_lead_must_say_when(database: Database, seed: Seed) -> None:
    undated = _lead(seed.list_id, "+8613900139000")
    undated.next_attempt_at = None
    with (
        pytest.raises(IntegrityError, match="ck_leads_dialable_has_next_attempt"),
        database.session() as session,
    ):
        session.add(undated)
    with database.session() as session:
        session.add(_lead(seed.list_id, "+8613900139000", LeadState.DNC_BLOCKED))


def test_a_blocklist_entry_is_stored_once_per_scope(database: Database, seed: Seed) -> None:
    def entry(scope: BlockScope, campaign_id: int | None) -> BlocklistEntry:
        return BlocklistEntry(
            kind=BlockKind.DNC, value="+8613800138000", scope=scope, campaign_id=campaign_id, added_by="合规"
        )

    with database.session() as session:
        session.add_all([entry(BlockScope.GLOBAL, None), entry(BlockScope.CAMPAIGN, seed.campaign_id)])
    with pytest.raises(IntegrityError, match=GLOBAL_ENTRY_TWICE), database.session() as session:
        session.add(entry(BlockScope.GLOBAL, None))
    without_campaign = "ck_blocklist_entries_campaign_scope_has_campaign"
    with pytest.raises(IntegrityError, match=without_campaign), database.session() as session:
        session.add(entry(BlockScope.CAMPAIGN, None))
