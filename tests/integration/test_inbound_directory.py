"""Numbers that need no flow, the VIP list and screening at the DID, end to end on the lab.

A caller dialling an agent's number (直拨, ACD-9) reaches that agent, though another agent of its
queue has been ready longer; with the number's fallback, the queue's other agent takes it once the
fallback's wait is over, the agent dialled being paused; a caller dialling a queue's number
reaches that queue's agent, though an agent of another queue is ready too; a caller on the VIP
list, who is no customer and has no tag, is answered before one who waited longer (ACD-3); a
blacklisted caller is refused busy before the flow's first prompt (ACD-10). Each call's record
(`inbound_calls`) and the carrier's own log of it are checked. Set-up: `tests.support.inbound`
and `tests.support.inbound_directory`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from campaigns import hopper, ivr_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import QueueVisit
from campaigns.persistence.models.enums import InboundOutcome, QueueResult
from dialer.asterisk.ami import AmiLink
from dialer.asterisk.carrier_caller import InboundCaller, call_pbx
from dialer.asterisk.lab import Lab
from dialer.ivr.did_plan import DidPlan
from dialer.ivr.direct import DirectRoute
from tests.integration.test_inbound import (
    CALLER_NUMBER,
    _agent,
    _agent_until,
    _by_caller,
    _ended,
    _inbound_engine,
)
from tests.support.inbound import (
    BLACKLISTED_NUMBER,
    OTHER_AGENT,
    QUEUE,
    SOUTH_AGENT,
    SOUTH_QUEUE,
    inbound_calls,
)
from tests.support.inbound_directory import (
    AGENT_DID,
    AGENT_NUMBER,
    QUEUE_DID,
    SCREENED_DID,
    VIP_LISTED_NUMBER,
    VIP_PRIORITY,
    prepare_directory,
)
from tests.support.live_campaign import CAMPAIGN
from tests.support.waiting import until

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

FALLBACK_S = 3.0  # the agent's number falls back to its queue after this long
BUSY_S = 6.0  # the busy tone's 3 s and the call's set-up: less than the screened flow's welcome takes


@pytest.fixture
async def engine(lab: Lab, empty_database_url: str) -> AsyncIterator[tuple[Database, httpx.AsyncClient]]:
    def directory(database: Database) -> None:
        prepare_directory(database, datetime.now(UTC))

    async with _inbound_engine(empty_database_url, directory) as running:
        yield running


async def test_a_caller_dialling_an_agents_number_reaches_that_agent(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, client = engine
    await _agent(client, "/login", {"campaign": CAMPAIGN})  # ready the longest: a queue's call would be its
    asked = await _agent(client, "/login", {"campaign": CAMPAIGN}, name=OTHER_AGENT)
    started = time.time()
    await call_pbx(carrier_ami, InboundCaller(AGENT_DID, CALLER_NUMBER, hang_up_after_s=8))
    on_call = await _agent_until(client, "on_call", name=OTHER_AGENT)
    assert on_call["inbound"] == {
        "caller": "+86" + CALLER_NUMBER,
        "region": "北京市",
        "queue": QUEUE,
        "priority": 0,
        "direct": True,
        "flags": [],
    }
    assert (await _agent(client))["state"] == "ready", "the other agent of the queue is not offered it"
    call = await _ended(database)
    assert (call.outcome, call.agent_id, call.queue, call.flow) == (
        InboundOutcome.ANSWERED,
        asked["agent_id"],
        QUEUE,
        None,
    )
    assert call.trail == {"directory": {"agent": OTHER_AGENT}, "outcome": f"agent {OTHER_AGENT}"}
    assert call.queued_at is not None and call.answered_at is not None
    assert (call.answered_at - call.queued_at).total_seconds() < 1, "no prompt, no menu: at once"
    [carried] = lab.carrier_log(since=started - 1, number=AGENT_DID)
    assert carried.answered_at is not None and carried.caller_id == CALLER_NUMBER


async def test_an_agents_number_that_falls_back_goes_to_the_queues_other_agent_after_its_wait(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink
) -> None:
    database, client = engine
    falling_back = DirectRoute(agent=AGENT_NUMBER, fallback_after_s=FALLBACK_S)
    ivr_store.set_number(database, AGENT_DID, DidPlan(direct=falling_back), Change("test", datetime.now(UTC)))
    other = await _agent(client, "/login", {"campaign": CAMPAIGN})  # ready: the queue's other agent
    asked = await _agent(client, "/login", {"campaign": CAMPAIGN}, name=OTHER_AGENT)
    await _agent(client, "/pause", {"reason": "break"}, name=OTHER_AGENT)  # the agent dialled is busy
    await call_pbx(carrier_ami, InboundCaller(AGENT_DID, CALLER_NUMBER, hang_up_after_s=FALLBACK_S + 4))
    call = await _ended(database, 30)
    assert (call.outcome, call.agent_id, call.queue) == (InboundOutcome.ANSWERED, other["agent_id"], QUEUE)
    assert call.queued_at is not None and call.answered_at is not None
    assert (call.answered_at - call.queued_at).total_seconds() >= FALLBACK_S, "not before its fallback"
    with database.session() as session:
        visits = session.scalars(select(QueueVisit).where(QueueVisit.call_id == call.id)).all()
    assert [(v.queue, v.result, v.direct_agent_id) for v in visits] == [
        (QUEUE, QueueResult.ANSWERED, asked["agent_id"])  # one visit: its wait went on, with its arrival
    ]


async def test_a_caller_dialling_a_queues_number_reaches_an_agent_of_that_queue(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink
) -> None:
    database, client = engine
    await _agent(client, "/login", {"campaign": CAMPAIGN})  # ready, in `sales` only
    south = await _agent(client, "/login", {"campaign": CAMPAIGN}, name=SOUTH_AGENT)
    await call_pbx(carrier_ami, InboundCaller(QUEUE_DID, CALLER_NUMBER, hang_up_after_s=3))
    call = await _ended(database)
    assert (call.outcome, call.region, call.queue, call.agent_id) == (
        InboundOutcome.ANSWERED,
        "北京市",  # not 广东: the number, not the region, chose the queue
        SOUTH_QUEUE,
        south["agent_id"],
    )
    assert call.trail == {"directory": {"queue": SOUTH_QUEUE}, "outcome": f"queue {SOUTH_QUEUE}"}


async def test_a_vip_listed_caller_is_answered_before_one_who_waited_longer(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, client = engine
    with database.session() as session:
        assert hopper.latest_lead(session, "+86" + VIP_LISTED_NUMBER) is None, "no customer, no tag"
    await _agent(client, "/login", {"campaign": CAMPAIGN}, name=SOUTH_AGENT)
    await _agent(client, "/pause", {"reason": "break"}, name=SOUTH_AGENT)  # both callers wait for it
    started = time.time()
    await call_pbx(carrier_ami, InboundCaller(QUEUE_DID, CALLER_NUMBER, hang_up_after_s=10))
    await until(lambda: len([c for c in inbound_calls(database) if c.queued_at]) == 1, "first queued")
    await call_pbx(carrier_ami, InboundCaller(QUEUE_DID, VIP_LISTED_NUMBER, hang_up_after_s=10))
    await until(lambda: len([c for c in inbound_calls(database) if c.queued_at]) == 2, "both queued")
    ready = await _agent(client, "/ready", name=SOUTH_AGENT)
    await until(lambda: any(c.answered_at for c in inbound_calls(database)), "answered")
    calls = _by_caller(database)
    vip, other = calls[VIP_LISTED_NUMBER], calls[CALLER_NUMBER]
    assert (vip.agent_id, vip.priority, other.priority) == (ready["agent_id"], VIP_PRIORITY, 0)
    assert other.answered_at is None, "the VIP, who came second, is served first"
    assert other.queued_at is not None and vip.queued_at is not None and other.queued_at < vip.queued_at
    assert vip.trail is not None and vip.trail["flags"] == ["vip"]
    status = await _agent(client, name=SOUTH_AGENT)
    assert isinstance(status["inbound"], dict) and status["inbound"]["flags"] == ["vip"]
    carried = lab.carrier_log(since=started - 1, number=QUEUE_DID)
    assert [c.caller_id for c in carried] == [CALLER_NUMBER, VIP_LISTED_NUMBER], "the VIP called second"


async def test_a_blacklisted_caller_is_refused_before_any_prompt(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, client = engine
    await _agent(client, "/login", {"campaign": CAMPAIGN})  # ready: the caller would have been served
    started = time.time()
    await call_pbx(carrier_ami, InboundCaller(SCREENED_DID, BLACKLISTED_NUMBER, hang_up_after_s=20))
    call = await _ended(database)
    assert (call.outcome, call.hangup_cause, call.queue, call.agent_id, call.flow) == (
        InboundOutcome.REFUSED,
        17,
        None,
        None,
        "screened",
    )
    assert call.trail == {
        "flow": "screened",
        "path": [],  # not even the welcome node
        "inputs": [],
        "variables": {},
        "outcome": "refused (busy)",
    }
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=SCREENED_DID)[0].ended_at), "hung up")
    [carried] = lab.carrier_log(since=started - 1, number=SCREENED_DID)
    assert carried.duration_s is not None and carried.duration_s < BUSY_S, (
        "hung up by the pbx after the busy tone, sooner than the welcome alone would take"
    )
    assert (await _agent(client))["state"] == "ready"
