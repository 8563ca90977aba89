"""Scheduled campaign moves (CB-3, CB-4) and automatic callbacks of abandoned calls (CB-2), on SQLite
and PostgreSQL: campaigns start and stop by their schedule once, under one engine's lease, audited;
the engine's timer does it at the frozen instant; an abandoned call is called back, not retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from campaigns import campaign_store, dial_store, schedule_jobs
from campaigns.campaign_store import CampaignEvent
from campaigns.dial_store import AttemptResult
from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, Callback, Campaign, Lead
from campaigns.persistence.models.enums import CallOutcome, CampaignState, LeadState
from dialer.timers import EngineTimers
from tests.db.test_campaign_store import TRUNKS, add_list, add_team, create
from tests.db.test_dial_store import LATER, NOW, dial, row
from tests.db.test_dial_store import add_list as add_dial_list
from tests.db.test_dial_store import create as create_dialable

pytestmark = pytest.mark.db

START = "2026-12-01T09:00+08:00"
STOP = "2026-12-02T09:00+08:00"
AT_START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def scheduled(database: Database) -> None:
    add_team(database)
    add_list(database, "leads", ("+8613800000001", LeadState.NEW, ["Asia/Shanghai"]))
    create(database, start_at=START, stop_at=STOP)


def state(database: Database) -> CampaignState:
    with database.session() as session:
        return session.scalars(select(Campaign.state)).one()


def test_a_draft_starts_at_its_time_and_stops_at_its_end_once(database: Database) -> None:
    scheduled(database)
    assert schedule_jobs.apply_due_moves(database, "engine-1", AT_START - timedelta(seconds=1), TRUNKS) == []
    (started,) = schedule_jobs.apply_due_moves(database, "engine-1", AT_START, TRUNKS)
    assert (started.campaign, started.event, started.done) == ("秋季回访", CampaignEvent.START, True)
    assert state(database) is CampaignState.RUNNING
    assert schedule_jobs.apply_due_moves(database, "engine-1", AT_START + timedelta(hours=1), TRUNKS) == []
    campaign_store.change_state(
        database, "秋季回访", CampaignEvent.PAUSE, campaign_store.Change("li", AT_START), trunks=TRUNKS
    )
    (stopped,) = schedule_jobs.apply_due_moves(database, "engine-1", AT_START + timedelta(days=1), TRUNKS)
    assert (stopped.event, stopped.done, state(database)) == (
        CampaignEvent.STOP,
        True,
        CampaignState.FINISHED,
    )
    with database.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.entity == "campaign")).all()
        assert [(r.action, r.actor) for r in rows][-3:] == [
            ("campaign.start", "schedule"),
            ("campaign.pause", "li"),
            ("campaign.stop", "schedule"),
        ]


def test_only_the_lease_holder_runs_the_moves(database: Database) -> None:
    scheduled(database)
    held_at = AT_START - timedelta(seconds=30)
    assert schedule_jobs.apply_due_moves(database, "engine-1", held_at, TRUNKS) == []
    assert schedule_jobs.apply_due_moves(database, "engine-2", AT_START, TRUNKS) == []  # engine-1 holds it
    assert state(database) is CampaignState.DRAFT
    later = held_at + timedelta(seconds=schedule_jobs.EVERY_S * 4)  # engine-1 stopped renewing
    assert [move.done for move in schedule_jobs.apply_due_moves(database, "engine-2", later, TRUNKS)] == [
        True
    ]


def test_a_start_that_cannot_be_made_is_reported_and_tried_again(database: Database) -> None:
    add_list(database, "leads", ("+8613800000001", LeadState.NEW, ["Asia/Shanghai"]))
    add_team(database)
    create(database, start_at=START, group=None)  # no agent group: it cannot start
    (move,) = schedule_jobs.apply_due_moves(database, "engine-1", AT_START, TRUNKS)
    assert not move.done and move.problem and "group" in move.problem
    assert state(database) is CampaignState.DRAFT
    campaign_store.update(
        database,
        "秋季回访",
        campaign_store.CampaignSpec.parse({"group": "sales"}),
        campaign_store.Change("li", AT_START),
        trunks=TRUNKS,
    )
    (move,) = schedule_jobs.apply_due_moves(database, "engine-1", AT_START + timedelta(seconds=15), TRUNKS)
    assert move.done and state(database) is CampaignState.RUNNING


async def test_the_engine_timer_makes_the_move_at_the_frozen_instant(database: Database) -> None:
    scheduled(database)
    timers = EngineTimers(database, TRUNKS)
    with freeze_time(AT_START - timedelta(seconds=1)):
        assert await timers.campaign_moves() == []
    with freeze_time(AT_START):
        (move,) = await timers.campaign_moves()
    assert move.done and state(database) is CampaignState.RUNNING


def test_an_abandoned_call_is_called_back_by_any_agent_instead_of_retried(database: Database) -> None:
    (lead_id,) = add_dial_list(database, "leads", row(1))
    campaign = create_dialable(database, abandoned_callback_s="10m")
    (opened,) = dial(database, campaign)
    abandoned = AttemptResult(opened.attempt_id, CallOutcome.ABANDONED, NOW, None, LATER)
    assert database.in_transaction(dial_store.close_attempt, campaign, abandoned) is LeadState.CALLBACK
    with database.session() as session:
        callback = session.scalars(select(Callback)).one()
        assert (callback.lead_id, callback.agent_id, callback.due_at, callback.created_by) == (
            lead_id,
            None,
            LATER + timedelta(minutes=10),
            "abandoned_call",
        )
        assert session.get_one(Lead, lead_id).last_outcome is CallOutcome.ABANDONED


def test_without_the_setting_an_abandoned_call_is_retried(database: Database) -> None:
    add_dial_list(database, "leads", row(1))
    campaign = create_dialable(database)
    (opened,) = dial(database, campaign)
    abandoned = AttemptResult(opened.attempt_id, CallOutcome.ABANDONED, NOW, None, LATER)
    assert database.in_transaction(dial_store.close_attempt, campaign, abandoned) is LeadState.RETRY
    with database.session() as session:
        assert session.scalars(select(Callback)).all() == []
