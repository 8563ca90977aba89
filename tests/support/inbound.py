"""Shared set-up of the inbound lab tests: DIDs, a flow, a queue and agents to take the calls.

- `HOTLINE_DID` runs flow `hotline`: a menu whose key 1 queues the caller to `sales`;
- `DIRECT_DID` runs flow `direct`: no menu, callers from Guangdong to `guangdong`, the others to
  `sales`; VIP callers get priority 10, blacklisted ones are refused busy;
- `MESSAGE_DID` has no flow, only its default message;
- queue `sales` has agents `bot1` and `bot2`, `guangdong` has `bot3`; each waits at most
  `MAX_WAIT_S`, then overflows to its voicemail box;
- `VIP_NUMBER` is a known customer tagged vip (a lead of a list no campaign dials), its record
  `VIP_CUSTOMER`;
- the agents log in to a running preview campaign (`live_campaign.prepare`): an agent works a
  campaign, and a preview campaign dials nothing by itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from campaigns import ivr_store, queue_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import ContactList, InboundCall, Lead
from campaigns.persistence.models.enums import LeadState
from campaigns.surveys.document import Prompt
from dialer.ivr.did_plan import DidPlan
from tests.support.live_campaign import prepare

HOTLINE_DID = "4008001000"
MESSAGE_DID = "4008002000"
DIRECT_DID = "4008003000"
QUEUE = "sales"
SOUTH_QUEUE = "guangdong"
AGENT, OTHER_AGENT, SOUTH_AGENT = "bot1", "bot2", "bot3"
VIP_NUMBER = "13501234567"  # 北京市
VIP_CUSTOMER = {"tags": "vip", "name": "王芳", "plan": "gold"}  # the customer record of VIP_NUMBER
BLACKLISTED_NUMBER = "13990001234"  # under the lab's blacklisted prefix +861399
GUANGDONG_NUMBER = "13802880000"  # a 广东省 mobile
MAX_WAIT_S = 20.0
TALK_EVENTS = [  # the screen pops (type, state) of a call an agent takes, talks on, then loses
    ("offered", None),
    ("state", "reserved"),
    ("connected", None),
    ("state", "on_call"),
    ("ended", None),
    ("state", "wrap_up"),
]
MESSAGE = Prompt(text="您好，本号码暂停服务。")
HOTLINE_FLOW = """
name: hotline
language: en
start: main
nodes:
  main:
    type: menu
    prompt: {text: For sales press one.}
    keys: {"1": sales}
    timeout_s: 3
    retries: 0
  sales: {type: queue, queue: sales}
"""
DIRECT_FLOW = """
name: direct
vip_priority: 10
blacklisted: busy
start: route
nodes:
  route: {type: queue, queue: sales, area_routing: {广东: guangdong}}
"""


def prepare_inbound(database: Database, now: datetime) -> None:
    """The DIDs, the flow, the queue, and the preview campaign with its agents."""
    prepare(database, now, mode="preview")
    change = Change("inbound", now)
    for flow, did in ((HOTLINE_FLOW, HOTLINE_DID), (DIRECT_FLOW, DIRECT_DID)):
        stored = ivr_store.save_flow(database, flow, change, new=True, activate=True)
        ivr_store.set_number(database, did, DidPlan(flow=stored.name), change)
    ivr_store.set_number(database, MESSAGE_DID, DidPlan(), change, MESSAGE)
    for queue, agents in ((QUEUE, (AGENT, OTHER_AGENT)), (SOUTH_QUEUE, (SOUTH_AGENT,))):
        queue_store.create_queue(database, queue, {"max_wait_s": MAX_WAIT_S}, change)
        for agent in agents:
            queue_store.add_member(database, queue, agent, change)
    with database.session() as session:
        customers = ContactList(name="customers", source_file="generated")
        session.add(customers)
        session.flush()
        vip = "+86" + VIP_NUMBER
        session.add(
            Lead(
                list_id=customers.id,
                e164=vip,
                raw_input=vip,
                attributes=VIP_CUSTOMER,
                priority=0,
                state=LeadState.DONE,
            )
        )


@asynccontextmanager
async def screen_events(
    client: httpx.AsyncClient, agent: str
) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """The agent's screen pops (`GET /agents/NAME/events`), each event's JSON as it comes."""
    async with client.stream("GET", f"/agents/{agent}/events") as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield _sse_data(response.aiter_lines())


async def _sse_data(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    data: list[str] = []
    async for line in lines:
        if line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif not line and data:
            yield json.loads("\n".join(data))
            data = []


def inbound_calls(database: Database) -> list[InboundCall]:
    with database.session() as session:
        return list(session.scalars(select(InboundCall).order_by(InboundCall.id)))
