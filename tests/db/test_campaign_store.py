"""The campaign and agent stores: settings round trips, audited compliance overrides, state changes and
the checks before a campaign may dial, agent state persistence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from campaigns import agent_store, campaign_store
from campaigns.campaign_store import CampaignEvent
from campaigns.compliance.blocklist_store import Change
from campaigns.config import CampaignSpec, ListShare
from campaigns.lifecycle import Disposition
from campaigns.persistence.db import Database
from campaigns.persistence.models import (
    Agent,
    AgentStateLog,
    AuditEntry,
    Callback,
    Campaign,
    CampaignList,
    ContactList,
    Lead,
)
from campaigns.persistence.models.enums import AgentState, CampaignState, LeadState
from dialer.agents.state import StateChange
from ringcast.errors import UserError

pytestmark = pytest.mark.db

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
TRUNKS = ("carrier",)
BY = Change("li.wei", NOW)
SHANGHAI_AND_NEW_YORK = ["Asia/Shanghai", "America/New_York"]


def add_list(database: Database, name: str, *leads: tuple[str, LeadState, list[str]]) -> int:
    with database.session() as session:
        contact_list = ContactList(name=name, imported_at=NOW)
        session.add(contact_list)
        session.flush()
        for e164, state, zones in leads:
            due = NOW if state in (LeadState.NEW, LeadState.RETRY) else None
            lead = Lead(list_id=contact_list.id, e164=e164, raw_input=e164, state=state, time_zones=zones)
            lead.next_attempt_at = due
            session.add(lead)
        return contact_list.id


def add_team(database: Database, group: str = "sales", agents: Sequence[str] = ("agent1",)) -> None:
    agent_store.create_group(database, group, None, BY)
    for name in agents:
        agent_store.create_agent(
            database, name, display_name=None, dial_string=f"PJSIP/{name}", agent_number=None,
            groups=[group], change=BY,
        )  # fmt: skip


def spec(**given: Any) -> CampaignSpec:
    """A campaign that can dial, given a team and a list named `leads`; `given` overrides."""
    ready = {"caller_id": "+862088881234", "group": "sales", "abandon_message": "sorry", "lists": ["leads"]}
    return CampaignSpec.parse(ready | given)


def create(database: Database, name: str = "秋季回访", **given: Any) -> None:
    campaign_store.create(database, name, spec(**given), BY, trunks=TRUNKS)


def start(database: Database, name: str = "秋季回访") -> campaign_store.StateMove:
    return campaign_store.change_state(database, name, CampaignEvent.START, BY, trunks=TRUNKS)


def audit_rows(database: Database) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    with database.session() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "campaign").order_by(AuditEntry.id)
        )
        return [(row.actor, row.action, row.entity_id, row.details) for row in rows]


def count(database: Database, model: type[Any]) -> int:
    with database.session() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def dialable_list(database: Database) -> int:
    return add_list(database, "leads", ("+8613800138000", LeadState.NEW, ["Asia/Shanghai"]))


def test_create_and_load_round_trip(database: Database) -> None:
    add_team(database)
    list_id = dialable_list(database)
    created = campaign_store.create(
        database,
        "秋季回访",
        spec(dial_mode="predictive", lists=["leads:5:2"], retry="busy=10m", wrap_up_s="10s", amd=True),
        BY,
        trunks=TRUNKS,
    )
    loaded = campaign_store.load_campaign(database, "秋季回访")
    assert loaded == created == campaign_store.load_campaign_by_id(database, created.id)
    assert (loaded.state, loaded.trunk, loaded.time_zone) == (CampaignState.DRAFT, "carrier", "Asia/Shanghai")
    assert loaded.lists == (ListShare(list_id, 5, 2),)
    assert loaded.retry.busy == timedelta(minutes=10) and loaded.wrap_up_s == 10 and loaded.amd
    assert [d.code for d in loaded.dispositions] == [
        "sale",
        "not_interested",
        "call_back_later",
        "wrong_number",
    ]
    assert loaded.agent_group_id is not None
    assert [(actor, action) for actor, action, _, _ in audit_rows(database)] == [
        ("li.wei", "campaign.create"),
        ("li.wei", "campaign.attach"),
    ]
    with pytest.raises(UserError, match="campaign 秋季回访 already exists"):
        create(database)


def test_update_merges_into_the_stored_settings(database: Database) -> None:
    add_team(database)
    dialable_list(database)
    add_list(database, "more")
    create(database, amd=True, max_lines=20, dispositions=["sale:final", "later:retry=1h"])
    updated = campaign_store.update(
        database,
        "秋季回访",
        CampaignSpec.parse(
            {"max_lines": 30, "lists": ["more:1"], "dispositions": ["sale:final", "dead:final"]}
        ),
        BY,
        trunks=TRUNKS,
    )
    assert (updated.amd, updated.max_lines, updated.caller_id) == (True, 30, "+862088881234")
    assert updated.dispositions == (Disposition("sale", True), Disposition("dead", True))
    assert [share.priority for share in updated.lists] == [1, 0]
    detached = campaign_store.detach_list(database, "秋季回访", "more", BY)
    assert len(detached.lists) == 1
    with pytest.raises(UserError, match="list more is not attached to campaign 秋季回访"):
        campaign_store.detach_list(database, "秋季回访", "more", BY)
    with pytest.raises(UserError, match="no list named 'nope'"):
        campaign_store.attach_lists(database, "秋季回访", spec(lists=["nope"]).lists, BY)
    with pytest.raises(UserError, match="trunk sip9 is not configured"):
        campaign_store.update(database, "秋季回访", CampaignSpec(trunk="sip9"), BY, trunks=TRUNKS)
    assert campaign_store.load_campaign(database, "秋季回访").trunk == "carrier"


def test_loosening_needs_an_override_and_is_audited(database: Database) -> None:
    with pytest.raises(UserError, match="calling_hours: 08:00-22:00 every day is looser") as refused:
        campaign_store.create(database, "x", CampaignSpec(calling_hours="08:00-22:00"), BY, trunks=TRUNKS)
    assert refused.value.hint is not None
    assert count(database, Campaign) == 0 and audit_rows(database) == []

    boss = Change("boss", NOW)
    looser = CampaignSpec(calling_hours="08:00-22:00")
    campaign_store.create(database, "x", looser, boss, trunks=TRUNKS, override_reason="客户合同允许")
    assert audit_rows(database)[-1] == (
        "boss",
        "compliance.override",
        "x",
        {
            "preset": "cn",
            "setting": "calling_hours",
            "old": "09:00-21:00 every day",
            "new": "08:00-22:00 every day",
            "reason": "客户合同允许",
        },
    )
    # an unrelated change keeps the approval; changing the loosened value again needs a new one
    campaign_store.update(database, "x", CampaignSpec(max_lines=5), BY, trunks=TRUNKS)
    assert (
        campaign_store.load_campaign(database, "x").compliance.calling_hours
        == looser.compliance(
            changed=(), approved={"calling_hours"}, actor="t", reason=None
        ).settings.calling_hours
    )
    with pytest.raises(UserError, match="07:00-22:00 every day is looser"):
        campaign_store.update(database, "x", CampaignSpec(calling_hours="07:00-22:00"), BY, trunks=TRUNKS)
    campaign_store.update(database, "x", CampaignSpec(calling_hours="10:00-20:00"), BY, trunks=TRUNKS)
    assert [action for _, action, _, _ in audit_rows(database)].count("compliance.override") == 1


def test_a_cap_of_zero_is_refused_at_create_and_update(database: Database) -> None:
    with pytest.raises(UserError, match="abandon_cap: must be above 0"):
        create(database, abandon_cap=0)
    assert count(database, Campaign) == 0


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        ("no_group", "no agent group (--group)"),
        ("empty_group", "no agents in group sales (`ringcast group add sales AGENT`)"),
        ("no_leads", "no dialable leads in its lists (none new or to retry, no pending callback)"),
        ("no_list", "no contact list attached (--list)"),
        ("unknown_trunk", "trunk carrier is not configured (configured: sip9)"),
        (
            "never_open",
            "calling hours 09:00-11:00 every day never open in all the time zones of any dialable lead",
        ),
        ("no_caller_id", "the cn preset requires a caller ID (--caller-id)"),
        (
            "local_from_400",
            "reach local needs a geographic caller ID to say what is local (4008001234 has no area):"
            " give one, or --reach national",
        ),
        (
            "bare_broadcast",
            "a broadcast campaign is paced by its lines: give --max-lines; nothing to play to answered"
            " calls: give --survey or --broadcast-message",
        ),
    ],
)
def test_start_refuses_a_campaign_that_cannot_dial(database: Database, setup: str, problem: str) -> None:
    add_team(database, agents=() if setup == "empty_group" else ("agent1",))
    state, zones = {
        "no_leads": (LeadState.DONE, []),
        "never_open": (LeadState.NEW, SHANGHAI_AND_NEW_YORK),
    }.get(setup, (LeadState.NEW, ["Asia/Shanghai"]))
    add_list(database, "leads", ("+8613800138000", state, zones))
    settings: dict[str, dict[str, Any]] = {
        "no_group": {"group": None},
        "no_list": {"lists": []},
        "never_open": {"calling_hours": "09:00-11:00"},
        "no_caller_id": {"caller_id": None},
        "local_from_400": {"caller_id": "4008001234", "reach": "local"},
        "bare_broadcast": {"dial_mode": "broadcast", "group": None},  # needs no agents
    }
    given = settings.get(setup, {})
    trunks = ("sip9",) if setup == "unknown_trunk" else TRUNKS
    campaign_store.create(database, "秋季回访", spec(**given), BY, trunks=("carrier",))
    with pytest.raises(UserError) as refused:
        campaign_store.change_state(database, "秋季回访", CampaignEvent.START, BY, trunks=trunks)
    assert str(refused.value) == f"cannot start campaign 秋季回访: {problem}"
    assert campaign_store.load_campaign(database, "秋季回访").state is CampaignState.DRAFT
    assert "campaign.start" not in [action for _, action, _, _ in audit_rows(database)]


def test_a_pending_callback_is_something_to_dial(database: Database) -> None:
    add_team(database)
    add_list(database, "leads", ("+8613800138000", LeadState.CALLBACK, []))
    create(database)
    config = campaign_store.load_campaign(database, "秋季回访")
    with database.session() as session:
        lead_id = session.scalar(select(Lead.id))
        assert campaign_store.dialable_lead_count(session, config.id) == 0
        session.add(
            Callback(
                lead_id=lead_id, campaign_id=config.id, due_at=NOW, time_zone="Asia/Shanghai", created_by="x"
            )
        )
        session.flush()
        assert campaign_store.dialable_lead_count(session, config.id) == 1
    assert start(database).changed


def test_state_changes_are_audited_idempotent_or_refused(database: Database) -> None:
    add_team(database)
    dialable_list(database)
    create(database)
    moves = [start(database), start(database)]
    assert [(m.previous, m.config.state, m.changed) for m in moves] == [
        (CampaignState.DRAFT, CampaignState.RUNNING, True),
        (CampaignState.RUNNING, CampaignState.RUNNING, False),
    ]
    assert [c.name for c in campaign_store.running_campaigns(database)] == ["秋季回访"]

    def move(event: CampaignEvent) -> bool:
        return campaign_store.change_state(database, "秋季回访", event, BY, trunks=TRUNKS).changed

    assert move(CampaignEvent.PAUSE) and not move(CampaignEvent.PAUSE)
    assert campaign_store.running_campaigns(database) == []
    with pytest.raises(UserError, match=r"campaign 秋季回访 is paused: cannot start \(use resume\)"):
        start(database)
    assert move(CampaignEvent.RESUME) and not move(CampaignEvent.RESUME)
    assert move(CampaignEvent.STOP) and not move(CampaignEvent.STOP)
    with pytest.raises(UserError) as refused:
        move(CampaignEvent.RESUME)
    assert str(refused.value) == (
        "campaign 秋季回访 is finished: cannot resume (a stopped campaign stays stopped; create a new one)"
    )
    states = [(a, d["previous"], d["now"]) for _, a, _, d in audit_rows(database) if "previous" in d]
    assert states == [
        ("campaign.start", "draft", "running"),
        ("campaign.pause", "running", "paused"),
        ("campaign.resume", "paused", "running"),
        ("campaign.stop", "running", "finished"),
    ]


def test_a_draft_cannot_be_paused_or_resumed(database: Database) -> None:
    create(database, group=None, lists=[])
    for event, hint in (
        (CampaignEvent.PAUSE, "it has not been started"),
        (CampaignEvent.RESUME, "use start"),
    ):
        with pytest.raises(UserError, match=rf"is draft: cannot {event.value} \({hint}\)"):
            campaign_store.change_state(database, "秋季回访", event, BY)
    assert campaign_store.change_state(database, "秋季回访", CampaignEvent.STOP, BY).changed


def test_agent_state_changes_are_persisted(database: Database) -> None:
    add_team(database)
    agent = agent_store.load_agent(database, "agent1")
    login = StateChange(agent.id, AgentState.LOGGED_OUT, AgentState.READY, None, NOW)
    with database.session() as session:
        agent_store.record_agent_change(session, login, None)
    pause = StateChange(agent.id, AgentState.READY, AgentState.NOT_READY, "break", NOW + timedelta(minutes=1))
    database.in_transaction(agent_store.record_agent_change, pause, None)
    assert agent_store.load_agent(database, "agent1").state is AgentState.NOT_READY
    with pytest.raises(UserError, match="agent agent1 is not_ready: log the agent out first"):
        agent_store.deactivate_agent(database, "agent1", BY)

    assert agent_store.log_out_all(database, NOW + timedelta(minutes=2), "engine restart") == 1
    assert agent_store.log_out_all(database, NOW + timedelta(minutes=3), "engine restart") == 0
    with database.session() as session:
        log = session.execute(select(AgentStateLog.to_state, AgentStateLog.reason).order_by(AgentStateLog.id))
        assert log.all() == [
            (AgentState.READY, None),
            (AgentState.NOT_READY, "break"),
            (AgentState.LOGGED_OUT, "engine restart"),
        ]
        assert session.scalar(select(Agent.state_since)) == NOW + timedelta(minutes=2)
    assert agent_store.deactivate_agent(database, "agent1", BY)
    assert not agent_store.deactivate_agent(database, "agent1", BY)
    assert agent_store.list_agents(database) == []


def test_lists_are_dialled_by_priority(database: Database) -> None:
    first, second = add_list(database, "a"), add_list(database, "b")
    create(database, group=None, lists=["a:1", "b:9:3"])
    assert campaign_store.load_campaign(database, "秋季回访").lists == (
        ListShare(second, 9, 3),
        ListShare(first, 1, 1),
    )
    assert count(database, CampaignList) == 2
