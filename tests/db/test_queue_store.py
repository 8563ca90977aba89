"""Inbound queues in the database (ACD-1): settings checked as the router reads them, overflows
without loops, members in order with their levels, deletion kept from queues in use; every change
audited; `load_queues` gives the engine its configs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campaigns import inbound_store, queue_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, AuditEntry, QueueMembership
from dialer.acd.queues import QueueConfig, QueueMember, ServiceLevel, Strategy, ToNumber, ToQueue, ToVoicemail
from ringcast.errors import UserError

pytestmark = pytest.mark.db

CHANGE = Change("ops", datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


def add_agents(database: Database, *names: str, inactive: tuple[str, ...] = ()) -> dict[str, int]:
    """Agents by name -> id."""
    with database.session() as session:
        agents = [
            Agent(name=name, display_name=name, dial_string=f"PJSIP/{name}", active=name not in inactive)
            for name in names
        ]
        session.add_all(agents)
        session.flush()
        return {agent.name: agent.id for agent in agents}


def audit_actions(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.entity_id).order_by(AuditEntry.id)).all()
    return [(action, entity_id) for action, entity_id in rows]


def test_a_queue_is_created_with_the_routers_defaults_and_updated_setting_by_setting(
    database: Database,
) -> None:
    created = queue_store.create_queue(database, "sales", {}, CHANGE)
    assert created.config == QueueConfig("sales", (), overflow=ToVoicemail("sales"))
    assert created.describe() | {"updated_at": None} == {
        "name": "sales",
        "strategy": "longest_idle",
        "priority": 0,
        "ring_timeout_s": 20.0,
        "max_wait_s": 300.0,
        "overflow": "voicemail:sales",  # the queue's own box, written out
        "short_abandon_s": 5.0,
        "service_level": {"share": 0.8, "within_s": 20.0},
        "music_class": "default",
        "announce_every_s": None,
        "announced": "both",
        "announce_language": "zh",
        "memory_days": 30,
        "memory_wait_s": 5.0,
        "survey_id": None,
        "survey": None,
        "members": [],
        "updated_at": None,
    }
    changes = {
        "strategy": Strategy.RING_ALL,
        "overflow": ToNumber("+8613800138000"),
        "service_level": ServiceLevel(0.9, 30),
        "announce_every_s": 45.0,
    }
    updated = queue_store.update_queue(database, "sales", changes, CHANGE).config
    assert (updated.strategy, updated.overflow, updated.service_level) == (
        Strategy.RING_ALL,
        ToNumber("+8613800138000"),
        ServiceLevel(0.9, 30),
    )
    assert (updated.max_wait_s, updated.announce_every_s) == (300.0, 45.0)  # the others stay
    assert queue_store.get_queue(database, "sales").config == updated
    assert audit_actions(database) == [("queue.create", "sales"), ("queue.update", "sales")]


@pytest.mark.parametrize(
    ("name", "settings", "error"),
    [
        ("two words", {}, "queue name 'two words': give up to 64 letters, digits and _ . @ -, e.g. sales"),
        ("q", {"max_wait_s": 0}, "queue 'q' max_wait_s: must be a positive number of seconds"),
        ("q", {"service_level": ServiceLevel(1.5, 20)}, "queue 'q' service_level share: must be in (0, 1]"),
        ("q", {"memory_days": -1}, "queue 'q' memory_days: must not be negative (0 turns caller memory off)"),
        ("q", {"overflow": ToQueue("nowhere")}, "queue 'q' overflows to unknown queue 'nowhere'"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    database: Database, name: str, settings: dict, error: str
) -> None:
    with pytest.raises(UserError) as raised:
        queue_store.create_queue(database, name, settings, CHANGE)
    assert str(raised.value) == error
    assert queue_store.list_queues(database) == []


def test_overflow_text_and_service_level_parse_both_ways() -> None:
    for text, target in [
        ("queue:售后", ToQueue("售后")),
        ("number:+8613800138000", ToNumber("+8613800138000")),
        ("voicemail:sales", ToVoicemail("sales")),
    ]:
        assert queue_store.parse_overflow(text) == target and queue_store.overflow_text(target) == text
    for bad in ("sales", "queue:", "number:abc", "fax:1"):
        with pytest.raises(UserError, match="give queue:NAME, number:"):
            queue_store.parse_overflow(bad)
    assert queue_store.parse_service_level("90/30") == ServiceLevel(0.9, 30.0)
    assert queue_store.service_level_text(ServiceLevel(0.8, 20)) == "80/20"
    with pytest.raises(UserError) as raised:
        queue_store.parse_service_level("80%")
    assert str(raised.value) == "service level '80%': give PERCENT/SECONDS, e.g. 80/20"


def test_overflows_may_chain_but_never_loop(database: Database) -> None:
    queue_store.create_queue(database, "c", {"overflow": ToNumber("+8613800138000")}, CHANGE)
    queue_store.create_queue(database, "b", {"overflow": ToQueue("c")}, CHANGE)
    queue_store.create_queue(database, "a", {"overflow": ToQueue("b")}, CHANGE)
    with pytest.raises(UserError) as raised:
        queue_store.update_queue(database, "c", {"overflow": ToQueue("a")}, CHANGE)
    assert str(raised.value) == (
        "queue overflow loops without end: c -> a -> b -> c (end one at a number or voicemail)"
    )
    assert queue_store.get_queue(database, "c").config.overflow == ToNumber("+8613800138000")
    with pytest.raises(UserError, match="queue 'c' overflows to unknown queue 'z'"):
        queue_store.update_queue(database, "c", {"overflow": ToQueue("z")}, CHANGE)
    with pytest.raises(UserError, match="queue a already exists"):
        queue_store.create_queue(database, "a", {}, CHANGE)


def test_members_keep_their_order_and_levels(database: Database) -> None:
    ids = add_agents(database, "li", "wang", "zhao", "old", inactive=("old",))
    queue_store.create_queue(database, "sales", {"strategy": Strategy.LINEAR}, CHANGE)
    queue_store.add_member(database, "sales", "wang", CHANGE, skill=8)
    queue_store.add_member(database, "sales", "li", CHANGE, supervisor=True)
    queue_store.add_member(database, "sales", "zhao", CHANGE)
    stored = queue_store.add_member(database, "sales", "wang", CHANGE, skill=3)  # in its place
    assert stored.config.members == (
        QueueMember(ids["wang"], 3, False),
        QueueMember(ids["li"], 5, True),
        QueueMember(ids["zhao"], 5, False),
    )
    assert stored.agents == {ids["wang"]: "wang", ids["li"]: "li", ids["zhao"]: "zhao"}
    stored = queue_store.remove_member(database, "sales", "li", CHANGE)
    assert [member.agent_id for member in stored.config.members] == [ids["wang"], ids["zhao"]]
    stored = queue_store.add_member(database, "sales", "li", CHANGE)  # back in: last, level 5 again
    assert stored.config.members[-1] == QueueMember(ids["li"], 5, False)
    for call, error in [
        (
            lambda: queue_store.add_member(database, "sales", "li", CHANGE, skill=11),
            "skill 11: give a level of 1-10",
        ),
        (lambda: queue_store.add_member(database, "sales", "nobody", CHANGE), "no agent named 'nobody'"),
        (lambda: queue_store.add_member(database, "sales", "old", CHANGE), "agent old is deactivated"),
        (lambda: queue_store.add_member(database, "other", "li", CHANGE), "no queue named 'other'"),
        (
            lambda: queue_store.remove_member(database, "sales", "old", CHANGE),
            "agent old is not in queue sales",
        ),
    ]:
        with pytest.raises(UserError, match=error):
            call()
    assert audit_actions(database)[-2:] == [("queue.member_remove", "sales"), ("queue.member_set", "sales")]


def test_load_queues_gives_the_engine_every_queue_with_members_by_agent_id(database: Database) -> None:
    ids = add_agents(database, "li", "wang")
    queue_store.create_queue(database, "support", {"priority": 2}, CHANGE)
    queue_store.create_queue(database, "sales", {"overflow": ToQueue("support")}, CHANGE)
    queue_store.add_member(database, "sales", "wang", CHANGE, skill=9)
    queue_store.add_member(database, "sales", "li", CHANGE, supervisor=True)
    queue_store.add_member(database, "support", "li", CHANGE, skill=2)
    assert queue_store.load_queues(database) == {
        "sales": QueueConfig(
            "sales",
            (QueueMember(ids["wang"], 9), QueueMember(ids["li"], 5, True)),
            overflow=ToQueue("support"),
        ),
        "support": QueueConfig(
            "support", (QueueMember(ids["li"], 2),), priority=2, overflow=ToVoicemail("support")
        ),
    }
    assert queue_store.load_queues(database)["sales"].position(ids["li"]) == 1


def test_a_queue_in_use_is_not_deleted(database: Database) -> None:
    add_agents(database, "li")
    queue_store.create_queue(database, "support", {}, CHANGE)
    queue_store.create_queue(database, "sales", {"overflow": ToQueue("support")}, CHANGE)
    queue_store.add_member(database, "sales", "li", CHANGE)
    with pytest.raises(UserError) as raised:
        queue_store.delete_queue(database, "support", CHANGE)
    assert str(raised.value) == (
        "queue support is the overflow of queue sales "
        "(give them another --overflow with `ringcast queue update` first)"
    )
    call = inbound_store.open_call(
        database,
        uniqueid="1.1",
        linkedid=None,
        did="95555",
        caller="+8613800138000",
        region=None,
        arrived_at=CHANGE.at,
    )
    inbound_store.enter_queue(database, call, "support", CHANGE.at, 0)
    queue_store.update_queue(database, "sales", {"overflow": ToVoicemail("sales")}, CHANGE)
    with pytest.raises(UserError, match="queue support has calls recorded and stays for the reports"):
        queue_store.delete_queue(database, "support", CHANGE)
    queue_store.delete_queue(database, "sales", CHANGE)  # its members go with it
    assert [stored.config.name for stored in queue_store.list_queues(database)] == ["support"]
    with database.session() as session:
        assert session.scalars(select(QueueMembership)).all() == []
    assert audit_actions(database)[-1] == ("queue.delete", "sales")
    with pytest.raises(UserError, match="no queue named 'sales'"):
        queue_store.delete_queue(database, "sales", CHANGE)
