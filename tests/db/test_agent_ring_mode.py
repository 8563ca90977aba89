"""`ringcast agent create --ring-mode` and `agent update --ring-mode|--persistent` (ACD-6): stored,
shown, audited, and refused for an agent who is logged in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campaigns import agent_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry
from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import StateChange
from tests.db.importing import Run
from tests.db.test_campaign_cli import audit, json_of, output, run  # noqa: F401 (the `run` fixture)

pytestmark = pytest.mark.db


def in_ring_mode(database: Database, names: list[str]) -> set[str]:
    return {
        agent.name for agent in agent_store.list_agents(database) if agent.ring_mode and agent.name in names
    }


def test_an_agent_created_in_ring_mode_is_shown_so_and_can_be_put_back_on_a_persistent_connection(
    run: Run,  # noqa: F811
    database: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    create = ("agent", "create", "ringer", "--phone", "PJSIP/ringer", "--ring-mode", "--actor", "boss")
    assert output(run, capsys, *create) == (
        0,
        "created agent ringer (PJSIP/ringer, ring mode), groups: -\n",
        "",
    )
    assert run("agent", "create", "steady", "--phone", "PJSIP/steady") == 0
    listed = json_of(run, capsys, "agent", "list")
    assert [(a["name"], a["ring_mode"]) for a in listed] == [("ringer", True), ("steady", False)]
    assert json_of(run, capsys, "agent", "show", "ringer")["ring_mode"] is True
    assert in_ring_mode(database, ["ringer", "steady", "nobody"]) == {"ringer"}

    persistent = output(run, capsys, "agent", "update", "ringer", "--persistent")
    assert persistent == (0, "agent ringer is now on a persistent connection\n", "")
    assert output(run, capsys, "agent", "update", "ringer", "--persistent")[1] == (
        "agent ringer is already on a persistent connection\n"
    )
    assert (
        output(run, capsys, "agent", "update", "steady", "--ring-mode")[1]
        == "agent steady is now in ring mode\n"
    )
    assert in_ring_mode(database, ["ringer", "steady"]) == {"steady"}
    updates = [action for _, action in audit(database) if action == "agent.update"]
    assert len(updates) == 2, "each change; not the one that changed nothing"
    with database.session() as session:
        creations = session.scalars(select(AuditEntry).where(AuditEntry.action == "agent.create")).all()
    assert {(entry.entity_id, entry.details["ring_mode"]) for entry in creations} == {
        ("ringer", True),
        ("steady", False),
    }, "the flag is recorded with the creation"


def test_the_mode_of_a_logged_in_agent_is_not_changed(
    run: Run,  # noqa: F811
    database: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("agent", "create", "busy", "--phone", "PJSIP/busy") == 0
    [agent] = agent_store.list_agents(database)
    with database.session() as session:
        login = StateChange(agent.id, AgentState.LOGGED_OUT, AgentState.READY, None, datetime.now(UTC))
        agent_store.record_agent_change(session, login, None)
    code, _, err = output(run, capsys, "agent", "update", "busy", "--ring-mode")
    assert (code, err) == (2, "error: agent busy is ready: log the agent out first\n")
    assert in_ring_mode(database, ["busy"]) == set()
    assert output(run, capsys, "agent", "update", "ghost", "--ring-mode")[2].startswith(
        "error: no agent named"
    )
