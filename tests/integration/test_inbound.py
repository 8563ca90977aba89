"""Inbound calls end to end on the lab: the carrier calls the pbx's DIDs, the engine runs their flows.

A caller presses 1 at the hotline's menu and is queued to `sales`, whose agent (logged in, ready,
its phone on the carrier) gets it at once and hangs up on it; with nobody logged in the call
overflows to the queue's voicemail, where the message is stored, while a caller silent there
leaves no message and ends abandoned (IVR-4); a caller who hangs up while
waiting is recorded as abandoned; a DID without a flow says its message and hangs up; a call a
previous run left open is closed when the engine starts. On the `direct` number: a VIP caller is
answered before one who waited longer (ACD-3), a blacklisted caller is refused busy (ACD-10), a
caller from Guangdong reaches the Guangdong queue (ACD-5), and a repeat caller reaches the agent
who served it last (ACD-4); the agent's event stream shows the screen pop of a known caller
(AGT-3). Ring-mode agents (ACD-6): one whose phone is never answered is set not ready when it rings
out and the caller goes to the next agent, whose phone rings and who answers; with ring-all the
first phone to answer takes the caller and the other stops ringing; a caller hanging up stops the
ringing. A caller arriving while the engine drains hears the number's message, not a queue. Each
call's record (`inbound_calls`) and the carrier's own log of it are checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campaigns import agent_store, inbound_store, queue_store, voicemail_store
from campaigns.agent_store import set_ring_mode
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import AgentStateLog, InboundCall, QueueVisit
from campaigns.persistence.models.enums import AgentState, InboundOutcome, QueueResult
from dialer.acd.commands import RING_NO_ANSWER
from dialer.acd.queues import Strategy
from dialer.asterisk.ami import AmiLink
from dialer.asterisk.carrier_caller import CALLER, InboundCaller, call_pbx
from dialer.asterisk.lab import Lab
from dialer.asterisk.lab_config import PBX, InstanceLayout
from dialer.asterisk.prompts import PromptLibrary
from dialer.engine import running_engine
from dialer.live.bot_agents import lab_phone
from dialer.live.inbound_flows import MESSAGE_LANGUAGE
from ringcast.settings import load_settings
from tests.support.inbound import (
    AGENT,
    BLACKLISTED_NUMBER,
    DIRECT_DID,
    GUANGDONG_NUMBER,
    HOTLINE_DID,
    MESSAGE,
    MESSAGE_DID,
    OTHER_AGENT,
    QUEUE,
    SOUTH_AGENT,
    SOUTH_QUEUE,
    TALK_EVENTS,
    VIP_CUSTOMER,
    VIP_NUMBER,
    inbound_calls,
    prepare_inbound,
    screen_events,
)
from tests.support.live_campaign import CAMPAIGN
from tests.support.waiting import until

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

CALLER_NUMBER = "13800138000"
LATE_CALLER = "13700137000"
DEAF = "deaf"  # a ring-mode agent of `sales` whose phone rings and is never answered
RING_TIMEOUT_S = 3.0

Setup = Callable[[Database], None]


@contextlib.asynccontextmanager
async def _inbound_engine(url: str, *setups: Setup) -> AsyncIterator[tuple[Database, httpx.AsyncClient]]:
    database = Database(url)  # on SQLite and on PostgreSQL
    database.upgrade()
    prepare_inbound(database, datetime.now(UTC))
    for setup in setups:  # before the engine reads the agents and the queues
        setup(database)
    async with running_engine(database, load_settings()) as client:
        yield database, client
    database.dispose()


@pytest.fixture
async def engine(lab: Lab, empty_database_url: str) -> AsyncIterator[tuple[Database, httpx.AsyncClient]]:
    async with _inbound_engine(empty_database_url) as running:
        yield running


def _ring_mode(strategy: Strategy = Strategy.LONGEST_IDLE, ring_timeout_s: float = RING_TIMEOUT_S) -> Setup:
    """`sales` rings its agents' phones for `ring_timeout_s`: DEAF (level 9, so offered calls first)
    and AGENT (level 5, its phone answers), both in ring mode."""

    def setup(database: Database) -> None:
        change = Change("ring mode", datetime.now(UTC))
        phone = lab_phone(DEAF, answers=False)
        agent_store.create_agent(
            database,
            DEAF,
            display_name=None,
            dial_string=phone,
            agent_number=None,
            groups=["bots"],
            change=change,
        )
        for name in (DEAF, AGENT):
            set_ring_mode(database, name, True, change)
        queue_store.add_member(database, QUEUE, DEAF, change, skill=9)
        settings = {"strategy": strategy, "ring_timeout_s": ring_timeout_s}
        queue_store.update_queue(database, QUEUE, settings, change)

    return setup


async def _ended(database: Database, timeout_s: float = 20.0) -> InboundCall:
    await until(lambda: any(c.ended_at for c in inbound_calls(database)), "ended", timeout_s)
    [call] = inbound_calls(database)
    return call


async def _agent(
    client: httpx.AsyncClient, path: str = "", body: object = None, name: str = AGENT
) -> dict[str, object]:
    if path:
        response = await client.post(f"/agents/{name}{path}", json=body)
    else:
        response = await client.get(f"/agents/{name}")
    assert response.status_code == 200, response.text
    status: dict[str, object] = response.json()
    return status


async def _agent_until(client: httpx.AsyncClient, state: str, name: str = AGENT) -> dict[str, object]:
    states: list[object] = []

    async def poll() -> dict[str, object]:
        while True:
            status = await _agent(client, name=name)
            states.append(status["state"])
            if status["state"] == state:
                return status
            await asyncio.sleep(0.1)

    try:
        return await asyncio.wait_for(poll(), 20)
    except TimeoutError:
        raise AssertionError(f"agent {name} not {state} within 20 s: {states[-1:]}") from None


async def test_a_menu_key_queues_the_caller_to_a_ready_agent(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, client = engine
    await _agent(client, "/login", {"campaign": CAMPAIGN})
    started = time.time()
    await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1", hang_up_after_s=15))
    on_call = await _agent_until(client, "on_call")
    await until(lambda: inbound_calls(database)[0].answered_at is not None, "answered")
    await asyncio.sleep(1.0)
    await _agent(client, "/hangup")  # the agent ends the call: the caller is hung up
    await _agent_until(client, "wrap_up")  # as after an outbound call
    call = await _ended(database)
    assert on_call["call"] == call.uniqueid
    assert (call.outcome, call.queue, call.agent_id, call.flow) == (
        InboundOutcome.ANSWERED,
        QUEUE,
        on_call["agent_id"],
        "hotline",
    )
    assert call.trail is not None
    assert call.trail["path"] == ["main", "sales"]
    assert call.trail["inputs"] == [{"node": "main", "keys": "1", "accepted": True}]
    assert call.caller == "+86" + CALLER_NUMBER and call.did == HOTLINE_DID
    assert call.queued_at is not None and call.answered_at is not None
    assert (call.answered_at - call.queued_at).total_seconds() < 1, "a ready agent takes the call at once"
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=HOTLINE_DID)[0].ended_at), "hung up")
    [carried] = lab.carrier_log(since=started - 1, number=HOTLINE_DID)
    assert (carried.planned, carried.caller_id, carried.responded) == (CALLER, CALLER_NUMBER, "1")
    assert carried.duration_s is not None and carried.duration_s < 15, "hung up by the agent"


async def test_with_nobody_logged_in_the_call_overflows_to_the_queues_voicemail(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, _ = engine
    caller = InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1", hang_up_after_s=20, says="tt-monkeys")
    await call_pbx(carrier_ami, caller)
    await until(lambda: voicemail_store.list_messages(database) != [], "a message kept", 30)
    call = await _ended(database)
    assert (call.outcome, call.queue, call.overflowed_to) == (
        InboundOutcome.OVERFLOWED_VOICEMAIL,
        QUEUE,
        f"voicemail:{QUEUE}",
    )
    assert call.voicemail == f"ringcast-voicemail/{QUEUE}/{call.uniqueid}"
    spool = lab.root / InstanceLayout(PBX).spool_dir.relative_to("/")
    assert voicemail_store.recorded_s(spool / f"{call.voicemail}.wav") >= 1, "the message is stored"
    [message] = voicemail_store.list_messages(database)
    assert (message["file"], message["box"]) == (call.voicemail, f"queue:{QUEUE}")


async def test_a_caller_silent_in_the_box_leaves_no_message_and_ends_abandoned(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, _ = engine
    await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1", hang_up_after_s=14))
    call = await _ended(database, timeout_s=30)
    assert (call.outcome, call.overflowed_to, call.voicemail) == (
        InboundOutcome.ABANDONED,
        f"voicemail:{QUEUE}",
        None,
    ), "sent to voicemail, hung up without a word: abandoned there"
    spool = lab.root / InstanceLayout(PBX).spool_dir.relative_to("/")
    recording = spool / f"ringcast-voicemail/{QUEUE}/{call.uniqueid}.wav"
    assert recording.is_file() and voicemail_store.recorded_s(recording) < 1, "a header-only recording"
    assert voicemail_store.list_messages(database) == []


async def test_a_caller_who_hangs_up_while_waiting_is_recorded_as_abandoned(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink
) -> None:
    database, client = engine
    await _agent(client, "/login", {"campaign": CAMPAIGN})
    await _agent(client, "/pause", {"reason": "break"})  # logged in, paused: the call waits for it
    await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1", hang_up_after_s=5))
    call = await _ended(database)
    assert (call.outcome, call.queue, call.answered_at, call.agent_id) == (
        InboundOutcome.ABANDONED,
        QUEUE,
        None,
        None,
    )
    with database.session() as session:
        [visit] = session.scalars(select(QueueVisit))
    assert visit.result is QueueResult.ABANDONED and visit.wait_ms is not None
    assert (await _agent(client))["state"] == "not_ready"


async def test_a_did_without_a_flow_says_its_message_and_hangs_up(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, _ = engine
    started = time.time()
    await call_pbx(carrier_ami, InboundCaller(MESSAGE_DID, CALLER_NUMBER, hang_up_after_s=15))
    call = await _ended(database)
    assert (call.outcome, call.flow, call.queue) == (InboundOutcome.IVR_ONLY, None, None)
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=MESSAGE_DID)[0].ended_at), "hung up")
    [carried] = lab.carrier_log(since=started - 1, number=MESSAGE_DID)
    assert carried.duration_s is not None and carried.duration_s < 10, "the pbx hung up after the message"
    sound = PromptLibrary.from_settings(load_settings()).sound(MESSAGE, MESSAGE_LANGUAGE)
    assert any(sound in line for line in lab.logs(PBX, 200)), "the message was played"


async def test_a_call_a_previous_run_left_open_is_closed_at_start(lab: Lab, empty_database_url: str) -> None:
    database = Database(empty_database_url)
    database.upgrade()
    prepare_inbound(database, datetime.now(UTC))
    in_queue, in_menu = (
        inbound_store.open_call(
            database,
            uniqueid=f"1700000000.40{n}",  # no such channel on the pbx
            linkedid=None,
            did=HOTLINE_DID,
            caller="+86" + CALLER_NUMBER,
            region=None,
            arrived_at=datetime.now(UTC),
        )
        for n in range(2)
    )
    inbound_store.enter_queue(database, in_queue, "sales", datetime.now(UTC), priority=0)
    async with running_engine(database, load_settings()):
        calls = {call.id: call for call in inbound_calls(database)}
        assert all(call.ended_at is not None for call in calls.values())
        # lost waiting in a queue: a missed call; lost in the menu: it never asked for a person
        assert (calls[in_queue].outcome, calls[in_menu].outcome) == (
            InboundOutcome.FAILED,
            InboundOutcome.IVR_ONLY,
        )
    database.dispose()


def _by_caller(database: Database) -> dict[str, InboundCall]:
    """The calls by their caller's national number (the last call of each)."""
    return {call.caller.removeprefix("+86"): call for call in inbound_calls(database)}


async def test_a_vip_caller_is_answered_before_one_who_waited_longer(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, client = engine
    await _agent(client, "/login", {"campaign": CAMPAIGN})
    await _agent(client, "/pause", {"reason": "break"})  # both callers wait for it
    started = time.time()
    await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, CALLER_NUMBER, hang_up_after_s=10))
    await until(lambda: len([c for c in inbound_calls(database) if c.queued_at]) == 1, "first queued")
    await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, VIP_NUMBER, hang_up_after_s=10))
    await until(lambda: len([c for c in inbound_calls(database) if c.queued_at]) == 2, "both queued")
    ready = await _agent(client, "/ready")
    await until(lambda: any(c.answered_at for c in inbound_calls(database)), "answered")
    calls = _by_caller(database)
    vip, other = calls[VIP_NUMBER], calls[CALLER_NUMBER]
    assert (vip.agent_id, vip.priority, other.priority) == (ready["agent_id"], 10, 0)
    assert other.answered_at is None, "the VIP, who came second, is served first"
    assert other.queued_at is not None and vip.queued_at is not None and other.queued_at < vip.queued_at
    assert vip.trail is not None and vip.trail["flags"] == ["vip"]
    assert (await _agent(client))["inbound"] == {
        "caller": "+86" + VIP_NUMBER,
        "region": "北京市",
        "queue": QUEUE,
        "priority": 10,
        "direct": False,
        "flags": ["vip"],
    }
    carried = lab.carrier_log(since=started - 1, number=DIRECT_DID)
    assert [c.caller_id for c in carried] == [CALLER_NUMBER, VIP_NUMBER], "the VIP called second"
    assert all(c.answered_at is not None for c in carried)


async def test_a_blacklisted_caller_is_refused_busy(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, client = engine
    await _agent(client, "/login", {"campaign": CAMPAIGN})  # ready: the caller would have been served
    started = time.time()
    await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, BLACKLISTED_NUMBER, hang_up_after_s=15))
    call = await _ended(database)
    assert (call.outcome, call.hangup_cause, call.queue, call.agent_id) == (
        InboundOutcome.REFUSED,
        17,
        None,
        None,
    )
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=DIRECT_DID)[0].ended_at), "hung up")
    [carried] = lab.carrier_log(since=started - 1, number=DIRECT_DID)
    assert carried.duration_s is not None and carried.duration_s < 10, "the pbx hung up after the busy tone"
    assert (await _agent(client))["state"] == "ready"


async def test_a_caller_from_guangdong_reaches_the_guangdong_queue(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink
) -> None:
    database, client = engine
    await _agent(client, "/login", {"campaign": CAMPAIGN})  # ready in sales, the default queue
    south = await _agent(client, "/login", {"campaign": CAMPAIGN}, name=SOUTH_AGENT)
    await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, GUANGDONG_NUMBER, hang_up_after_s=3))
    call = await _ended(database)
    assert (call.outcome, call.region, call.queue, call.agent_id) == (
        InboundOutcome.ANSWERED,
        "广东省",
        SOUTH_QUEUE,
        south["agent_id"],
    )


async def test_a_repeat_caller_reaches_the_agent_who_served_it_last(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink
) -> None:
    database, client = engine
    for name in (AGENT, OTHER_AGENT):
        await _agent(client, "/login", {"campaign": CAMPAIGN}, name=name)
    await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, CALLER_NUMBER, hang_up_after_s=2))
    first = await _ended(database)
    served = AGENT if first.agent_id == (await _agent(client))["agent_id"] else OTHER_AGENT
    other = OTHER_AGENT if served == AGENT else AGENT
    if (await _agent(client, name=served))["state"] != "ready":
        await _agent_until(client, "wrap_up", name=served)
        await _agent(client, "/ready", name=served)  # now the other agent has been ready longer
    assert (await _agent(client, name=other))["state"] == "ready"
    await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, CALLER_NUMBER, hang_up_after_s=2))
    await until(
        lambda: len(inbound_calls(database)) == 2 and bool(inbound_calls(database)[1].ended_at), "ended"
    )
    second = inbound_calls(database)[1]
    assert (second.outcome, second.agent_id) == (InboundOutcome.ANSWERED, first.agent_id)


async def test_the_agents_screen_pops_up_with_the_caller_its_trail_and_its_customer_record(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink
) -> None:
    """AGT-3: a known caller presses 1 at the hotline's menu; the agent's event stream (the real API)
    shows the offer with the caller, the DID, the trail, the queue, the customer record and its last
    call, then the connection, the end and each state between."""
    database, client = engine
    earlier = datetime.now(UTC) - timedelta(hours=1)
    vip = "+86" + VIP_NUMBER
    call_id = inbound_store.open_call(
        database,
        uniqueid="1700000000.77",
        linkedid=None,
        did=DIRECT_DID,
        caller=vip,
        region=None,
        arrived_at=earlier,
    )
    inbound_store.end_call(database, call_id, earlier + timedelta(seconds=9), InboundOutcome.IVR_ONLY)
    await _agent(client, "/login", {"campaign": CAMPAIGN})
    events: list[dict[str, Any]] = []
    async with screen_events(client, AGENT) as stream:
        first = await anext(stream)
        assert (first["type"], first["agent"], first["state"]) == ("state", AGENT, "ready")
        await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, VIP_NUMBER, script="1", hang_up_after_s=4))

        async def until_wrap_up() -> None:
            async for event in stream:
                events.append(event)
                if event.get("state") == "wrap_up":
                    return

        await asyncio.wait_for(until_wrap_up(), 30)
    [call] = [c for c in inbound_calls(database) if c.id != call_id]
    kinds = [(e["type"], e.get("state")) for e in events]
    assert kinds == TALK_EVENTS
    offered = events[0]
    assert offered["wait_s"] < 1, "a ready agent is offered the call at once"
    assert {key: offered[key] for key in ("call", "direction", "caller", "region", "carrier", "did")} == {
        "call": call.uniqueid,
        "direction": "inbound",
        "caller": vip,
        "region": "北京市",
        "carrier": "中国移动",
        "did": HOTLINE_DID,
    }
    assert offered["ivr"] == {
        "flow": "hotline",
        "path": ["main", "sales"],
        "inputs": [{"node": "main", "keys": "1", "accepted": True}],
        "variables": {},
    }
    assert (offered["queue"], offered["priority"], offered["direct"], offered["flags"]) == (
        QUEUE,
        0,
        False,
        ["vip"],
    )
    assert (offered["known"], offered["customer"]) == (True, VIP_CUSTOMER)
    assert offered["history"] == [
        {
            "at": earlier.isoformat(),
            "direction": "inbound",
            "outcome": "ivr_only",
            "agent": None,
            "queue": None,
        }
    ]
    assert all(e["call"] == call.uniqueid for e in events if e["type"] != "state")
    assert events[4]["talked"] is True


def _states(database: Database, agent_id: object) -> list[tuple[AgentState, AgentState, str | None]]:
    with database.session() as session:
        rows = session.scalars(
            select(AgentStateLog).where(AgentStateLog.agent_id == agent_id).order_by(AgentStateLog.id)
        )
        return [(row.from_state, row.to_state, row.reason) for row in rows]


async def test_a_ring_mode_agent_who_does_not_answer_is_set_not_ready_and_the_next_agent_gets_the_caller(
    lab: Lab, empty_database_url: str, carrier_ami: AmiLink
) -> None:
    """ACD-6: the caller's queue offers it to DEAF first, whose phone rings out; DEAF is set not ready
    (in the state log) and the call goes on to AGENT, whose phone rings and answers: it gets the caller."""
    async with _inbound_engine(empty_database_url, _ring_mode()) as (database, client):
        deaf = await _agent(client, "/login", {"campaign": CAMPAIGN}, name=DEAF)
        ready = await _agent(client, "/login", {"campaign": CAMPAIGN})
        assert (deaf["state"], deaf["ring_mode"], ready["state"]) == ("ready", True, "ready"), (
            "no phone called"
        )
        started = time.time()
        await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1", hang_up_after_s=20))
        on_call = await _agent_until(client, "on_call")
        await until(lambda: inbound_calls(database)[0].answered_at is not None, "answered")
        assert (await _agent(client, name=DEAF))["reason"] == RING_NO_ANSWER
        await _agent(client, "/hangup")
        await _agent_until(client, "wrap_up")
        call = await _ended(database)
        assert (call.outcome, call.queue, call.agent_id) == (
            InboundOutcome.ANSWERED,
            QUEUE,
            ready["agent_id"],
        )
        assert on_call["call"] == call.uniqueid
        assert call.queued_at is not None and call.answered_at is not None
        waited_s = (call.answered_at - call.queued_at).total_seconds()
        assert RING_TIMEOUT_S <= waited_s < RING_TIMEOUT_S + 3, (
            "DEAF's phone rang its timeout, AGENT's answered"
        )
        assert _states(database, deaf["agent_id"]) == [
            (AgentState.LOGGED_OUT, AgentState.READY, None),
            (AgentState.READY, AgentState.RESERVED, None),  # its phone rings
            (AgentState.RESERVED, AgentState.READY, None),  # the call did not reach it ...
            (AgentState.READY, AgentState.NOT_READY, RING_NO_ANSWER),  # ... and it is set apart
        ]
        phones = {f"agent-noanswer-{DEAF}": DEAF, f"agent-{AGENT}": AGENT}
        await until(
            lambda: all(c.ended_at for c in lab.carrier_log(since=started) if c.number in phones),
            "phones hung up",
        )
        rung = {phones[c.number]: c for c in lab.carrier_log(since=started) if c.number in phones}
        assert rung[DEAF].answered_at is None and rung[DEAF].ended_at is not None
        assert RING_TIMEOUT_S - 1 < rung[DEAF].ended_at - rung[DEAF].started_at < RING_TIMEOUT_S + 1.5
        assert rung[AGENT].started_at >= rung[DEAF].ended_at - 0.5, "rung after DEAF's phone stopped"
        assert rung[AGENT].answered_at is not None and rung[AGENT].caller_id == "4008001234"
        assert rung[AGENT].ended_at is not None, "its phone is hung up with the call"


async def test_with_ring_all_the_first_phone_to_answer_takes_the_caller_and_the_other_stops_ringing(
    lab: Lab, empty_database_url: str, carrier_ami: AmiLink
) -> None:
    async with _inbound_engine(empty_database_url, _ring_mode(Strategy.RING_ALL, 10.0)) as (database, client):
        deaf = await _agent(client, "/login", {"campaign": CAMPAIGN}, name=DEAF)
        ready = await _agent(client, "/login", {"campaign": CAMPAIGN})
        started = time.time()
        await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, CALLER_NUMBER, hang_up_after_s=6))
        call = await _ended(database)
        assert (call.outcome, call.agent_id) == (InboundOutcome.ANSWERED, ready["agent_id"])
        assert call.queued_at is not None and call.answered_at is not None
        assert (call.answered_at - call.queued_at).total_seconds() < 2, "AGENT's phone answered at once"
        assert (await _agent(client, name=DEAF))["state"] == "ready", "not set apart: another answered"
        assert [to for _, to, _ in _states(database, deaf["agent_id"])] == [
            AgentState.READY,
            AgentState.RESERVED,
            AgentState.READY,
        ]
        [stopped] = lab.carrier_log(since=started, number=f"agent-noanswer-{DEAF}")
        assert stopped.answered_at is None and stopped.ended_at is not None
        assert stopped.ended_at - stopped.started_at < 2, "its ringing stopped when AGENT answered"


async def test_a_caller_hanging_up_while_a_phone_rings_stops_the_ringing(
    lab: Lab, empty_database_url: str, carrier_ami: AmiLink
) -> None:
    async with _inbound_engine(empty_database_url, _ring_mode(ring_timeout_s=30.0)) as (database, client):
        deaf = await _agent(client, "/login", {"campaign": CAMPAIGN}, name=DEAF)
        started = time.time()
        await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, CALLER_NUMBER, hang_up_after_s=3))
        call = await _ended(database)
        assert (call.outcome, call.agent_id) == (InboundOutcome.ABANDONED, None)
        assert (await _agent_until(client, "ready", name=DEAF))["reason"] is None, "free again, not set apart"
        await until(
            lambda: all(c.ended_at for c in lab.carrier_log(since=started, number=f"agent-noanswer-{DEAF}")),
            "its phone stopped",
        )
        [rung] = lab.carrier_log(since=started, number=f"agent-noanswer-{DEAF}")
        assert call.ended_at is not None and rung.ended_at is not None
        assert rung.ended_at - call.ended_at.timestamp() < 1.5, "stopped with the caller's hang-up"
        assert [to for _, to, _ in _states(database, deaf["agent_id"])][-2:] == [
            AgentState.RESERVED,
            AgentState.READY,
        ]


async def test_a_caller_arriving_while_the_engine_drains_hears_the_numbers_message(
    lab: Lab, empty_database_url: str, carrier_ami: AmiLink
) -> None:
    """The stop's drain lets the call in progress go on, but queues no new caller: it hears the
    number's message and is hung up (a missed call, `failed`)."""
    async with contextlib.AsyncExitStack() as stack:
        database, client = await stack.enter_async_context(_inbound_engine(empty_database_url))
        await _agent(client, "/login", {"campaign": CAMPAIGN})
        await _agent(client, "/pause", {"reason": "break"})  # the first caller waits: the drain lasts
        await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, CALLER_NUMBER, hang_up_after_s=8))
        await until(lambda: any(c.queued_at for c in inbound_calls(database)), "the first caller queued")
        stopping = asyncio.create_task(stack.aclose())
        await asyncio.sleep(1.0)  # the drain has begun
        started = time.time()
        await call_pbx(carrier_ami, InboundCaller(DIRECT_DID, LATE_CALLER, hang_up_after_s=20))
        await until(lambda: all(c.ended_at for c in inbound_calls(database)), "both ended", 30)
        await stopping
    first, second = inbound_calls(database)
    assert (first.outcome, first.queue) == (InboundOutcome.ABANDONED, QUEUE), "in progress: it went on"
    assert (second.outcome, second.queue, second.queued_at) == (InboundOutcome.FAILED, None, None)
    [carried] = [c for c in lab.carrier_log(since=started, number=DIRECT_DID) if c.caller_id == LATE_CALLER]
    assert carried.ended_at is not None and carried.duration_s is not None
    assert carried.duration_s < 15, "the pbx hung up after the message"
