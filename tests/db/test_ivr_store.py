"""IVR flows and inbound numbers in the database (IVR-1..IVR-3): drafts may have problems, active flows
never; a DID names active flows only and always has a message; every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campaigns import ivr_store as store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, IvrFlow
from campaigns.surveys.document import Prompt
from dialer.ivr.did_plan import DidPlan
from dialer.ivr.problems import FlowError
from ringcast.errors import UserError

pytestmark = pytest.mark.db

CHANGE = Change("ops", datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
GOOD = """# the day flow
name: day
start: menu
nodes:
  menu: {type: menu, prompt: {audio: custom/menu}, keys: {"1": sales}}
  sales: {type: queue, queue: sales}
"""
DRAFT = GOOD.replace('"1": sales', '"1": sales, "2": support')  # no node support yet
NIGHT = "name: night\nstart: bye\nnodes:\n  bye: {type: hangup, prompt: {text: 下班了}}\n"


def audit_actions(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.entity_id).order_by(AuditEntry.id)).all()
    return [(action, entity_id) for action, entity_id in rows]


def test_a_flow_is_stored_as_written_and_versioned(database: Database) -> None:
    created = store.save_flow(database, GOOD, CHANGE, new=True, activate=True)
    assert (created.name, created.version, created.active) == ("day", 1, True)
    stored = store.get_flow(database, "day")
    assert stored.document == GOOD  # comments and all
    assert stored.flow == created.flow and stored.updated_at.tzinfo is not None
    changed = GOOD.replace("queue: sales", "queue: sales, priority: 1")
    updated = store.save_flow(database, changed, CHANGE, new=False)
    assert (updated.version, updated.active, store.get_flow(database, "day").document) == (2, True, changed)
    assert audit_actions(database) == [("ivr_flow.create", "day"), ("ivr_flow.update", "day")]


def test_a_name_is_taken_once_and_update_needs_the_flow(database: Database) -> None:
    store.save_flow(database, GOOD, CHANGE, new=True)
    with pytest.raises(
        UserError, match=r"^IVR flow day already exists \(change it with `ringcast ivr update FILE`\)$"
    ):
        store.save_flow(database, GOOD, CHANGE, new=True)
    with pytest.raises(UserError, match=r"no IVR flow named 'night' \(`ringcast ivr list` shows them\)"):
        store.save_flow(database, NIGHT, CHANGE, new=False)
    with pytest.raises(FlowError, match=r"flow day.yaml: 1 problem\(s\): start: Field required"):
        store.save_flow(
            database, "name: day\nnodes: {a: {type: hangup}}\n", CHANGE, new=True, source="day.yaml"
        )


def test_a_draft_with_problems_is_kept_but_cannot_be_active(database: Database) -> None:
    with pytest.raises(FlowError) as raised:
        store.save_flow(database, DRAFT, CHANGE, new=True, activate=True)
    assert raised.value.problems == ["nodes.menu.keys.2: no node support"]
    assert str(raised.value).startswith("flow day cannot be active: 1 problem(s)")
    assert store.list_flows(database) == []  # nothing stored

    assert store.save_flow(database, DRAFT, CHANGE, new=True).active is False
    with pytest.raises(FlowError, match=r"nodes\.menu\.keys\.2: no node support"):
        store.activate_flow(database, "day", CHANGE)
    assert store.get_flow(database, "day").active is False
    store.save_flow(database, GOOD, CHANGE, new=False)
    activated = store.activate_flow(database, "day", CHANGE)
    assert (activated.version, activated.active) == (2, True)
    assert store.activate_flow(database, "day", CHANGE).active  # again: nothing to do, not audited
    assert [a for a, _ in audit_actions(database)] == [
        "ivr_flow.create",
        "ivr_flow.update",
        "ivr_flow.activate",
    ]


def test_an_active_flow_takes_no_document_with_problems(database: Database) -> None:
    store.save_flow(database, GOOD, CHANGE, new=True, activate=True)
    with pytest.raises(FlowError, match="no node support"):
        store.save_flow(database, DRAFT, CHANGE, new=False)
    stored = store.get_flow(database, "day")
    assert (stored.version, stored.document) == (1, GOOD)


def test_activation_checks_sounds_against_what_the_pbx_has(database: Database) -> None:
    store.save_flow(database, GOOD, CHANGE, new=True)
    with pytest.raises(FlowError) as raised:
        store.activate_flow(database, "day", CHANGE, known_sound=set[str]().__contains__)
    assert raised.value.problems == ["nodes.menu.prompt: no sound custom/menu on the PBX"]
    assert store.activate_flow(database, "day", CHANGE, known_sound={"custom/menu"}.__contains__).active


def test_flows_are_listed_by_name(database: Database) -> None:
    store.save_flow(database, NIGHT, CHANGE, new=True)
    store.save_flow(database, GOOD, CHANGE, new=True, activate=True)
    assert [(f.name, f.active, len(f.flow.nodes)) for f in store.list_flows(database)] == [
        ("day", True, 2),
        ("night", False, 1),
    ]


def test_a_did_names_active_flows_and_always_has_a_message(database: Database) -> None:
    store.save_flow(database, GOOD, CHANGE, new=True, activate=True)
    store.save_flow(database, NIGHT, CHANGE, new=True)
    plan = DidPlan.model_validate({"flow": "night", "rules": [{"flow": "day", "hours": "09:00-18:00"}]})
    with pytest.raises(
        UserError, match=r"IVR flow night is not active \(`ringcast ivr activate night` first\)"
    ):
        store.set_number(database, "+864001234567", plan, CHANGE)
    with pytest.raises(UserError, match="no IVR flow named 'evening'"):
        store.set_number(database, "+864001234567", DidPlan(flow="evening"), CHANGE)
    with pytest.raises(UserError, match=r"DID 'hotline': give an E\.164 number"):
        store.set_number(database, "hotline", DidPlan(flow="day"), CHANGE)
    assert store.list_numbers(database) == []

    store.activate_flow(database, "night", CHANGE)
    number = store.set_number(database, "+864001234567", plan, CHANGE)
    assert number == store.StoredNumber("+864001234567", plan, store.DEFAULT_MESSAGE)
    assert store.get_number(database, "+864001234567") == number
    assert store.get_number(database, "95555") is None

    closed = Prompt(text="本号码已停用")
    store.set_number(database, "95555", DidPlan(), CHANGE, default_message=closed)
    store.set_number(database, "95555", DidPlan(flow="day"), CHANGE)  # the message stays
    assert store.list_numbers(database) == [number, store.StoredNumber("95555", DidPlan(flow="day"), closed)]


def test_a_flow_in_use_stays_active_and_numbers_are_removed(database: Database) -> None:
    store.save_flow(database, GOOD, CHANGE, new=True, activate=True)
    store.set_number(
        database, "95555", DidPlan.model_validate({"rules": [{"flow": "day", "days": [1]}]}), CHANGE
    )
    with pytest.raises(UserError, match=r"IVR flow day is in use by DID 95555 \(give those numbers"):
        store.deactivate_flow(database, "day", CHANGE)
    store.remove_number(database, "95555", CHANGE)
    with pytest.raises(UserError, match=r"no inbound number 95555 \(`ringcast ivr did list` shows them\)"):
        store.remove_number(database, "95555", CHANGE)
    assert store.deactivate_flow(database, "day", CHANGE).active is False
    with database.session() as session:
        assert session.scalars(select(IvrFlow.active)).all() == [False]
    assert audit_actions(database)[-3:] == [
        ("inbound_number.set", "95555"),
        ("inbound_number.remove", "95555"),
        ("ivr_flow.deactivate", "day"),
    ]
