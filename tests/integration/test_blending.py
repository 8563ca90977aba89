"""Blending inbound with outbound on the lab (ACD-1): inbound-only agents and the inbound reserve.

The campaign of `tests.support.inbound` dials progressively here. An agent logged in inbound-only
works no campaign: it takes the hotline's caller, wraps up until it says ready, is never given an
outbound call (the campaign's pacer does not count it, so nothing is dialled), and its state-log
rows name no campaign. With `inbound_reserve 1` and two blended agents (both of `sales`) logged in
to the campaign, the pacer keeps the one ready last free: the other gets the outbound calls, the
kept one none, and the next inbound caller takes it at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from campaigns import campaign_store
from campaigns.compliance.blocklist_store import Change
from campaigns.config import CampaignSpec
from campaigns.persistence.db import Database
from campaigns.persistence.models import AgentStateLog, Attempt
from dialer.asterisk.ami import AmiLink
from dialer.asterisk.carrier_caller import InboundCaller, call_pbx
from dialer.asterisk.lab import Lab
from tests.integration.test_inbound import _agent, _agent_until, _inbound_engine
from tests.support.inbound import AGENT, HOTLINE_DID, OTHER_AGENT, QUEUE, inbound_calls
from tests.support.live_campaign import CAMPAIGN
from tests.support.waiting import until

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

CALLER_NUMBER = "13800138000"
Engine = tuple[Database, httpx.AsyncClient]


def _progressive(reserve: int) -> Callable[[Database], None]:
    def setup(database: Database) -> None:
        spec = CampaignSpec.parse({"dial_mode": "progressive", "inbound_reserve": reserve})
        campaign_store.update(
            database, CAMPAIGN, spec, Change("blending", datetime.now(UTC)), trunks=["carrier"]
        )

    return setup


@pytest.fixture
async def inbound_only_engine(lab: Lab, empty_database_url: str) -> AsyncIterator[Engine]:
    async with _inbound_engine(empty_database_url, _progressive(0)) as running:
        yield running


@pytest.fixture
async def reserve_engine(lab: Lab, empty_database_url: str) -> AsyncIterator[Engine]:
    async with _inbound_engine(empty_database_url, _progressive(1)) as running:
        yield running


def _attempts(database: Database, agent_id: object = None) -> int:
    query = select(func.count()).select_from(Attempt)
    if agent_id is not None:
        query = query.where(Attempt.agent_id == agent_id)
    with database.session() as session:
        return session.scalar(query) or 0


async def test_an_inbound_only_agent_takes_inbound_calls_and_no_outbound_one(
    inbound_only_engine: Engine, carrier_ami: AmiLink
) -> None:
    database, client = inbound_only_engine
    ready = await _agent(client, "/login", {"inbound_only": True})
    assert (ready["state"], ready["campaign_id"], ready["inbound_only"]) == ("ready", None, True)
    refused = await client.post(f"/agents/{AGENT}/preview")
    assert refused.status_code == 409 and "inbound-only" in refused.text
    await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1", hang_up_after_s=15))
    on_call = await _agent_until(client, "on_call")
    await until(lambda: [c.queue for c in inbound_calls(database)] == [QUEUE], "its queue recorded")
    [call] = inbound_calls(database)
    assert (on_call["call"], call.queue) == (call.uniqueid, QUEUE)
    await asyncio.sleep(1.0)
    await _agent(client, "/hangup")
    await _agent_until(client, "wrap_up")
    await asyncio.sleep(2.0)
    assert (await _agent(client))["state"] == "wrap_up", "no campaign's wrap-up timer: the agent says ready"
    assert (await _agent(client, "/ready"))["state"] == "ready"
    status = (await client.get(f"/campaigns/{CAMPAIGN}/status")).json()
    assert status["running"] and "no agents" in status["decision"]  # its pacer never counted the agent
    assert _attempts(database) == 0, "nothing was dialled for an inbound-only agent"
    with database.session() as session:
        logged = session.scalars(
            select(AgentStateLog.campaign_id).where(AgentStateLog.agent_id == on_call["agent_id"])
        )
        assert set(logged) == {None}


async def test_with_a_reserve_of_one_the_agent_ready_last_stays_free_for_inbound(
    reserve_engine: Engine, carrier_ami: AmiLink
) -> None:
    database, client = reserve_engine
    worker = await _agent(client, "/login", {"campaign": CAMPAIGN})
    kept = await _agent(client, "/login", {"campaign": CAMPAIGN}, name=OTHER_AGENT)  # ready last

    async def kept_ids() -> list[object]:
        status = (await client.get(f"/campaigns/{CAMPAIGN}/status")).json()
        return list(status["kept_for_inbound"])

    deadline = time.monotonic() + 10
    while await kept_ids() != [kept["agent_id"]]:
        assert time.monotonic() < deadline, "the pacer keeps no agent for inbound"
        await asyncio.sleep(0.2)
    await until(lambda: _attempts(database, worker["agent_id"]) > 0, "an outbound call given", 60)
    for _ in range(30):  # the worker talks and wraps up; the kept agent stays free meanwhile
        assert (await _agent(client, name=OTHER_AGENT))["state"] == "ready"
        await asyncio.sleep(0.2)
    assert _attempts(database, kept["agent_id"]) == 0, "no outbound call for the agent kept for inbound"
    await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1", hang_up_after_s=5))
    await _agent_until(client, "on_call", name=OTHER_AGENT)
    await until(lambda: [c.agent_id for c in inbound_calls(database)] == [kept["agent_id"]], "its answer")
    [call] = inbound_calls(database)
    assert call.agent_id == kept["agent_id"]
