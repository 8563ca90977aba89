"""Agents' own callbacks (CB-1) in the hopper, on SQLite and PostgreSQL: an agent's due callback waits
for that agent through the campaign's grace period, then goes to any agent; a disposition makes a
callback the agent's own only when asked."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns import dial_store, hopper
from campaigns.config import CampaignConfig
from campaigns.dial_store import AttemptResult
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, Callback, Lead
from campaigns.persistence.models.enums import CallOutcome, LeadState
from tests.db.test_dial_store import LATER, NOW, add_list, create, dial, row

pytestmark = pytest.mark.db

MIN = timedelta(minutes=1)


def agents(database: Database, *names: str) -> list[int]:
    with database.session() as session:
        rows = [Agent(name=name, display_name=name, dial_string=f"PJSIP/{name}") for name in names]
        session.add_all(rows)
        session.flush()
        return [agent.id for agent in rows]


def callback(
    database: Database, lead_id: int, campaign: CampaignConfig, due: datetime, agent: int | None
) -> None:
    with database.session() as session:
        session.add(
            Callback(
                lead_id=lead_id,
                campaign_id=campaign.id,
                agent_id=agent,
                due_at=due,
                time_zone="UTC",
                created_by="t",
            )
        )


def test_an_agent_s_own_callback_waits_for_it_then_goes_to_anyone(database: Database) -> None:
    waiting = [row(n, LeadState.CALLBACK, due=None) for n in (1, 2, 3)]
    mine, theirs, group = add_list(database, "leads", *waiting)
    campaign = create(database, personal_callback_grace_s="10m")
    li, wang = agents(database, "li", "wang")
    callback(database, mine, campaign, NOW - MIN, li)
    callback(database, theirs, campaign, NOW - 11 * MIN, wang)  # past the grace period
    callback(database, group, campaign, NOW - MIN, None)
    taken = hopper.take_leads(database, campaign, 10, NOW, callbacks_only=True)
    assert [lead.lead_id for lead in taken] == [theirs, group]  # li's own one waits for li
    assert hopper.agents_with_own_due_callbacks(database, campaign, [li, wang], NOW) == {li}
    assert hopper.agents_with_own_due_callbacks(database, campaign, [li], NOW - 2 * MIN) == set()  # not due
    own = hopper.personal_callbacks(database, campaign, [li, wang], NOW)
    assert list(own) == [li] and own[li].lead_id == mine
    with database.session() as session:
        assert session.get_one(Lead, mine).state is LeadState.QUEUED
    assert hopper.personal_callbacks(database, campaign, [li], NOW) == {}  # taken once


@pytest.mark.parametrize(("mine", "owner"), [(True, "the agent"), (False, None)])
def test_a_disposition_s_callback_is_the_agent_s_own_only_when_asked(
    database: Database, mine: bool, owner: str | None
) -> None:
    add_list(database, "leads", row(1))
    campaign = create(database, dispositions=["call_back_later:retry"])
    (agent_id,) = agents(database, "li")
    (opened,) = dial(database, campaign)
    answered = AttemptResult(opened.attempt_id, CallOutcome.ANSWERED, NOW, NOW, LATER, agent_id=agent_id)
    database.in_transaction(dial_store.close_attempt, campaign, answered)
    due = LATER + 30 * MIN
    dial_store.dispose_attempt(
        database, campaign, opened.attempt_id, "call_back_later", LATER, callback_at=due, personal=mine
    )
    with database.session() as session:
        kept = session.scalars(select(Callback)).one()
        assert (kept.due_at, kept.agent_id) == (due, agent_id if owner else None)
