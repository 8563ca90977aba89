"""The record of inbound calls (issue 9): each call and each queue it waited in, written as the
engine reports the call's steps, safe to repeat, and nothing lost across an engine restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns import inbound_store as store
from campaigns import queue_store
from campaigns.inbound_store import InboundOutcome
from campaigns.persistence.db import Database
from campaigns.persistence.models import InboundCall, QueueVisit
from campaigns.persistence.models.enums import QueueResult
from dialer.acd.queues import ServiceLevel, ToQueue
from dialer.acd.restart import LeftOpen, LeftWaiting
from ringcast.errors import UserError
from tests.db.test_queue_store import CHANGE, add_agents

pytestmark = pytest.mark.db

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
CALLER = "+8613800138000"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def open_call(database: Database, uniqueid: str = "1700000000.1", caller: str = CALLER) -> int:
    return store.open_call(
        database,
        uniqueid=uniqueid,
        linkedid="1700000000.0",
        did="+864001234567",
        caller=caller,
        region="广东",
        arrived_at=T0,
    )


def call_row(database: Database, call_id: int) -> InboundCall:
    with database.session() as session:
        return session.get_one(InboundCall, call_id)


def visits(database: Database, call_id: int) -> list[tuple[object, ...]]:
    """(queue, result, agent, wait ms, talk ms, short-abandon ms, answer-within ms) in order."""
    with database.session() as session:
        rows = session.scalars(
            select(QueueVisit).where(QueueVisit.call_id == call_id).order_by(QueueVisit.id)
        )
        return [
            (v.queue, v.result, v.agent_id, v.wait_ms, v.talk_ms, v.short_abandon_ms, v.answer_within_ms)
            for v in rows
        ]


@pytest.fixture
def agents(database: Database) -> dict[str, int]:
    """Agents li and wang; queues sales (80/20, short 5 s) and support (90/30, short 10 s)."""
    queue_store.create_queue(
        database, "support", {"short_abandon_s": 10, "service_level": ServiceLevel(0.9, 30)}, CHANGE
    )
    queue_store.create_queue(database, "sales", {"overflow": ToQueue("support")}, CHANGE)
    return add_agents(database, "li", "wang")


def test_a_call_is_opened_once_per_channel(database: Database) -> None:
    first = open_call(database)
    assert open_call(database) == first  # the engine saw the channel again
    assert open_call(database, "1700000000.2") != first
    row = call_row(database, first)
    assert (row.did, row.caller, row.region, row.arrived_at, row.ended_at) == (
        "+864001234567",
        CALLER,
        "广东",
        T0,
        None,
    )
    store.record_trail(database, first, "day", {"path": ["menu", "sales"], "inputs": ["1"]})
    assert (call_row(database, first).flow, call_row(database, first).trail) == (
        "day",
        {"path": ["menu", "sales"], "inputs": ["1"]},
    )


def test_an_answered_call_keeps_its_wait_talk_and_agent(database: Database, agents: dict[str, int]) -> None:
    call = open_call(database)
    store.enter_queue(database, call, "sales", at(5), priority=1)
    store.enter_queue(database, call, "sales", at(9), priority=1)  # again, while waiting there: no change
    store.answer(database, call, agents["li"], at(17.25))
    store.answer(database, call, agents["li"], at(18))  # repeated: the first answer stands
    store.end_call(database, call, at(137.25), InboundOutcome.ANSWERED, cause=16)
    store.end_call(database, call, at(200), InboundOutcome.FAILED)  # a second end is ignored
    assert visits(database, call) == [
        ("sales", QueueResult.ANSWERED, agents["li"], 12_250, 120_000, 5000, 20_000)
    ]
    row = call_row(database, call)
    assert (row.queue, row.queued_at, row.priority, row.answered_at, row.agent_id) == (
        "sales",
        at(5),
        1,
        at(17.25),
        agents["li"],
    )
    assert (row.ended_at, row.outcome, row.hangup_cause, row.overflowed_to) == (
        at(137.25),
        InboundOutcome.ANSWERED,
        16,
        None,
    )


def test_an_overflow_from_a_to_b_is_a_visit_to_each(database: Database, agents: dict[str, int]) -> None:
    call = open_call(database)
    store.enter_queue(database, call, "sales", at(0), priority=0)
    store.overflow(database, call, at(300), "queue:support")
    store.enter_queue(database, call, "support", at(300), priority=0)
    store.answer(database, call, agents["wang"], at(312))
    store.end_call(database, call, at(612), InboundOutcome.ANSWERED)
    assert visits(database, call) == [
        ("sales", QueueResult.OVERFLOWED, None, 300_000, None, 5000, 20_000),
        ("support", QueueResult.ANSWERED, agents["wang"], 12_000, 300_000, 10_000, 30_000),  # its thresholds
    ]
    row = call_row(database, call)
    assert (row.queue, row.queued_at, row.overflowed_to) == ("support", at(0), "queue:support")
    # entering another queue while waiting is an overflow too (the engine skipped `overflow`)
    other = open_call(database, "1700000000.2")
    store.enter_queue(database, other, "sales", at(0), priority=0)
    store.enter_queue(database, other, "unknown", at(30), priority=2)  # not stored: default thresholds
    assert [visit[:4] for visit in visits(database, other)] == [
        ("sales", QueueResult.OVERFLOWED, None, 30_000),
        ("unknown", None, None, None),
    ]
    assert visits(database, other)[1][5:] == (5000, 20_000)
    assert call_row(database, other).overflowed_to == "queue:unknown"


def test_a_transfer_to_a_queue_ends_the_agents_talk(database: Database, agents: dict[str, int]) -> None:
    call = open_call(database)
    store.enter_queue(database, call, "sales", at(0), priority=0)
    store.answer(database, call, agents["li"], at(10))
    store.enter_queue(database, call, "support", at(70), priority=0)
    store.answer(database, call, agents["wang"], at(75))
    store.end_call(database, call, at(95), InboundOutcome.ANSWERED)
    assert [visit[:5] for visit in visits(database, call)] == [
        ("sales", QueueResult.ANSWERED, agents["li"], 10_000, 60_000),
        ("support", QueueResult.ANSWERED, agents["wang"], 5_000, 20_000),
    ]
    assert (call_row(database, call).agent_id, call_row(database, call).overflowed_to) == (agents["li"], None)


@pytest.mark.parametrize(
    ("outcome", "result"),
    [
        (InboundOutcome.ABANDONED, QueueResult.ABANDONED),
        (InboundOutcome.OVERFLOWED_VOICEMAIL, QueueResult.OVERFLOWED),
        (InboundOutcome.OVERFLOWED_NUMBER, QueueResult.OVERFLOWED),
        (InboundOutcome.FAILED, QueueResult.FAILED),
    ],
)
def test_a_call_ending_while_waiting_ends_its_wait_by_its_outcome(
    database: Database, agents: dict[str, int], outcome: InboundOutcome, result: QueueResult
) -> None:
    call = open_call(database)
    store.enter_queue(database, call, "sales", at(0), priority=0)
    store.end_call(database, call, at(3.5), outcome, cause=16, voicemail="/var/spool/asterisk/vm/1.wav")
    assert visits(database, call) == [("sales", result, None, 3500, None, 5000, 20_000)]
    row = call_row(database, call)
    assert (row.outcome, row.voicemail) == (outcome, "/var/spool/asterisk/vm/1.wav")


def test_an_overflow_to_a_number_is_kept_and_a_bad_target_refused(
    database: Database, agents: dict[str, int]
) -> None:
    call = open_call(database)
    store.enter_queue(database, call, "sales", at(0), priority=0)
    with pytest.raises(UserError, match="overflow 'fax:1'"):
        store.overflow(database, call, at(60), "fax:1")
    store.overflow(database, call, at(60), "number:+8613900139000")
    store.end_call(database, call, at(90), InboundOutcome.OVERFLOWED_NUMBER)
    assert visits(database, call)[0][:4] == ("sales", QueueResult.OVERFLOWED, None, 60_000)
    assert call_row(database, call).overflowed_to == "number:+8613900139000"


def test_a_call_that_never_queued(database: Database) -> None:
    refused = open_call(database)
    store.end_call(database, refused, at(2), InboundOutcome.REFUSED)
    assert visits(database, refused) == []
    row = call_row(database, refused)
    assert (row.queue, row.queued_at, row.outcome) == (None, None, InboundOutcome.REFUSED)


def test_caller_memory_finds_the_agent_who_last_answered_the_number(
    database: Database, agents: dict[str, int]
) -> None:
    for n, (agent, answered) in enumerate([("li", at(100)), ("wang", at(200))]):
        call = open_call(database, f"1700000000.{n}")
        store.enter_queue(database, call, "sales", at(0), priority=0)
        store.answer(database, call, agents[agent], answered)
    other_caller = open_call(database, "1700000000.9", caller="+8613700137000")
    store.enter_queue(database, other_caller, "sales", at(250), priority=0)
    store.answer(database, other_caller, agents["li"], at(300))
    unanswered = open_call(database, "1700000000.8")  # the caller's latest call: nobody answered it
    store.enter_queue(database, unanswered, "sales", at(400), priority=0)
    with database.session() as session:
        assert store.last_served(session, CALLER) == (agents["wang"], at(200))
        assert store.last_served(session, "+8613600136000") is None


def test_an_engine_restart_ends_the_calls_whose_channels_are_gone(
    database: Database, agents: dict[str, int]
) -> None:
    waiting, talking, alive, ended = (open_call(database, f"1700000000.{n}") for n in range(4))
    for call in (waiting, talking, alive, ended):
        store.enter_queue(database, call, "sales", at(0), priority=0)
    store.answer(database, talking, agents["li"], at(10))
    store.end_call(database, ended, at(20), InboundOutcome.ABANDONED)
    assert _left_ids(database) == [
        (waiting, "1700000000.0"),
        (talking, "1700000000.1"),
        (alive, "1700000000.2"),
    ]
    assert store.close_stale(database, at(600), [waiting, talking, ended]) == 2  # ended stays as it was
    assert _left_ids(database) == [(alive, "1700000000.2")]
    assert (call_row(database, waiting).ended_at, call_row(database, waiting).outcome) == (
        at(600),
        InboundOutcome.FAILED,
    )
    # the caller had an agent: served, not missed (no "sorry we missed you")
    assert (call_row(database, talking).ended_at, call_row(database, talking).outcome) == (
        at(600),
        InboundOutcome.ANSWERED,
    )
    # when they really ended is unknown: the wait and the talk stay unmeasured
    assert visits(database, waiting)[0][:5] == ("sales", QueueResult.FAILED, None, None, None)
    assert visits(database, talking)[0][:5] == ("sales", QueueResult.ANSWERED, agents["li"], 10_000, None)
    assert store.close_stale(database, at(700), [alive]) == 1
    assert store.left_open(database) == []
    in_the_menu = open_call(database, "1700000000.9")  # lost before it reached a queue: not missed
    assert store.close_stale(database, at(800), [in_the_menu]) == 1
    assert call_row(database, in_the_menu).outcome is InboundOutcome.IVR_ONLY


def _left_ids(database: Database) -> list[tuple[int, str]]:
    return [(left.call_id, left.uniqueid) for left in store.left_open(database)]


def test_a_call_left_open_comes_back_with_its_wait_its_agent_and_its_flags(
    database: Database, agents: dict[str, int]
) -> None:
    direct = open_call(database, "1700000000.1")
    store.record_trail(database, direct, None, {"directory": {"agent": "li"}, "flags": ["vip"]})
    store.enter_queue(database, direct, "sales", at(5), 10, direct_agent=agents["li"], fallback_at=at(35))
    moved = open_call(database, "1700000000.2")
    store.enter_queue(database, moved, "sales", at(0), priority=0)
    store.enter_queue(database, moved, "support", at(30), priority=3)  # overflowed: its wait is there
    answered = open_call(database, "1700000000.3")
    store.enter_queue(database, answered, "sales", at(0), priority=0)
    store.answer(database, answered, agents["wang"], at(10))
    in_flow = open_call(database, "1700000000.4")
    assert store.left_open(database) == [
        LeftOpen(
            direct,
            "1700000000.1",
            CALLER,
            "广东",
            T0,
            ("vip",),
            LeftWaiting("sales", at(5), 10, agents["li"], at(35)),
        ),
        LeftOpen(moved, "1700000000.2", CALLER, "广东", T0, (), LeftWaiting("support", at(30), 3)),
        LeftOpen(answered, "1700000000.3", CALLER, "广东", T0),  # with its agent: no wait open
        LeftOpen(in_flow, "1700000000.4", CALLER, "广东", T0),
    ]


def test_a_caller_taken_back_after_a_restart_is_one_visit_answered(
    database: Database, agents: dict[str, int]
) -> None:
    call = open_call(database)
    store.enter_queue(database, call, "sales", at(0), priority=0)
    # the engine restarts: the call is taken back, its visit left open; it is then answered
    [left] = store.left_open(database)
    assert left.waiting is not None and left.waiting.entered_at == at(0)
    store.answer(database, call, agents["li"], at(90))
    store.end_call(database, call, at(150), InboundOutcome.ANSWERED)
    assert visits(database, call) == [
        ("sales", QueueResult.ANSWERED, agents["li"], 90_000, 60_000, 5_000, 20_000)
    ]
