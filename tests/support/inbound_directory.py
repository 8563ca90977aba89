"""Set-up of the inbound directory lab tests (ACD-3, ACD-9, ACD-10), on top of `tests.support.inbound`'s
(queue `sales` with bot1 and bot2, `guangdong` with bot3, the blacklisted prefix +861399):

- `AGENT_DID` goes straight to bot2, given by its agent number `AGENT_NUMBER` (工号), waiting in its
  own queue `sales`;
- `QUEUE_DID` goes straight to queue `guangdong`, VIP callers with priority 10;
- `SCREENED_DID` runs flow `screened`: a long welcome, then queue `sales`; blacklisted callers are
  refused busy;
- `VIP_LISTED_NUMBER` is on the VIP list and is no customer (no lead, no tags).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from campaigns import ivr_store
from campaigns.compliance import blocklist_store
from campaigns.compliance.blocklist import BlockEntry
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent
from campaigns.persistence.models.enums import BlockKind
from dialer.ivr.did_plan import DidPlan
from dialer.ivr.direct import DirectRoute
from tests.support.inbound import OTHER_AGENT, SOUTH_QUEUE

AGENT_DID = "4008005001"
QUEUE_DID = "4008005002"
SCREENED_DID = "4008005003"
AGENT_NUMBER = "8002"  # OTHER_AGENT's
VIP_LISTED_NUMBER = "13601234567"
VIP_PRIORITY = 10
SCREENED_FLOW = """
name: screened
language: en
blacklisted: busy
start: welcome
nodes:
  welcome:
    type: play
    prompt:
      text: >-
        Welcome to the screened line. This greeting is long on purpose, so that a caller who hears
        it stays on the line for many seconds before it waits for an agent.
    next: sales
  sales: {type: queue, queue: sales}
"""


def prepare_directory(database: Database, now: datetime) -> None:
    """The direct numbers, the screened flow's number and the VIP list (after `prepare_inbound`)."""
    change = Change("inbound directory", now)
    with database.session() as session:
        agent = session.scalars(select(Agent).where(Agent.name == OTHER_AGENT)).one()
        agent.agent_number = AGENT_NUMBER
    ivr_store.set_number(database, AGENT_DID, DidPlan(direct=DirectRoute(agent=AGENT_NUMBER)), change)
    to_queue = DirectRoute(queue=SOUTH_QUEUE, vip_priority=VIP_PRIORITY)
    ivr_store.set_number(database, QUEUE_DID, DidPlan(direct=to_queue), change)
    screened = ivr_store.save_flow(database, SCREENED_FLOW, change, new=True, activate=True)
    ivr_store.set_number(database, SCREENED_DID, DidPlan(flow=screened.name), change)
    vip = BlockEntry(BlockKind.VIP, "+86" + VIP_LISTED_NUMBER, reason="大客户", source="crm")
    blocklist_store.add(database, vip, change)
