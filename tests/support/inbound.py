"""Shared set-up of the inbound lab tests: DIDs, a flow, a queue and agents to take the calls.

- `HOTLINE_DID` runs flow `hotline`: a menu whose key 1 queues the caller to `sales`;
- `MESSAGE_DID` has no flow, only its default message;
- queue `sales` has agent `bot1`, waits at most `MAX_WAIT_S`, then overflows to its voicemail box;
- the agents log in to a running preview campaign (`live_campaign.prepare`): an agent works a
  campaign, and a preview campaign dials nothing by itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from campaigns import ivr_store, queue_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import InboundCall
from campaigns.surveys.document import Prompt
from dialer.ivr.did_plan import DidPlan
from tests.support.live_campaign import prepare

HOTLINE_DID = "4008001000"
MESSAGE_DID = "4008002000"
QUEUE = "sales"
AGENT = "bot1"
MAX_WAIT_S = 20.0
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


def prepare_inbound(database: Database, now: datetime) -> None:
    """The DIDs, the flow, the queue, and the preview campaign with its agents."""
    prepare(database, now, mode="preview")
    change = Change("inbound", now)
    ivr_store.save_flow(database, HOTLINE_FLOW, change, new=True, activate=True)
    ivr_store.set_number(database, HOTLINE_DID, DidPlan(flow="hotline"), change)
    ivr_store.set_number(database, MESSAGE_DID, DidPlan(), change, MESSAGE)
    queue_store.create_queue(database, QUEUE, {"max_wait_s": MAX_WAIT_S}, change)
    queue_store.add_member(database, QUEUE, AGENT, change)


def inbound_calls(database: Database) -> list[InboundCall]:
    with database.session() as session:
        return list(session.scalars(select(InboundCall).order_by(InboundCall.id)))
