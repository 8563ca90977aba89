"""What the engine looks up when an inbound call arrives, in one trip to the database thread
(`arrive`, which also opens the call's record: a trip more would keep the caller waiting behind
the thread's queued writes once more).

- The flow: the DID's plan picks it for the call's instant (`did_plan.flow_for`), parsed once per
  version (`flow_cache.FlowCache`, the engine's, handed in); or, for a number dialled straight to an
  agent or a queue (ACD-9), the plan's `direct` route. An unknown DID, or a plan with neither at
  that instant, has only its message (the number's default message; `ivr_store.DEFAULT_MESSAGE`
  for a DID not configured), said before the hang-up: never dead air.
- The caller (`CallerFacts`, for the flow's conditions and the call's record): the number in E.164
  (`campaigns.number_facts`: a national number read in the engine's `default_region`; a withheld
  caller ID, or one that is no valid number, is kept as the network gave it, with no province), its
  province (号码归属地, mobiles included), and the customer record: the attributes of the latest lead
  with that number, whose `tags` attribute (a list, or text separated by commas) gives the caller's
  tags (vip, malicious...). A number on the VIP list (ACD-3) is tagged vip too, known customer or
  not. An unknown caller otherwise has no tags and an empty record.
- Whether the caller is blacklisted (ACD-10): a blacklist entry of the blocklist in force for every
  campaign (global). DNC entries are about calling people, not about taking their calls. How a
  blacklisted caller is refused (`refuse_with`) is the flow's or the direct route's `blacklisted`,
  else the number's message.
- Caller memory (ACD-4): the agent who last answered a call from the number, and when
  (`inbound_store.last_served`); the queue the call reaches applies its window (`memory_days`
  before the call's arrival). Looked up here, with the rest, rather than as the call joins its
  queue: a read there would wait behind the database thread's writes while the caller waits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from campaigns import hopper, inbound_store, ivr_store
from campaigns.compliance import blocklist_store
from campaigns.compliance.blocklist import Blocklist
from campaigns.ivr_store import StoredFlow
from campaigns.number_facts import number_facts
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import BlockKind
from campaigns.surveys.document import Prompt
from dialer.acd.commands import Refusal
from dialer.ivr.did_plan import flow_for
from dialer.ivr.direct import DirectRoute
from dialer.ivr.facts import VIP, CallerFacts
from dialer.live.flow_cache import FlowCache


@dataclass(frozen=True)
class Arrival:
    flow: StoredFlow | None  # with `direct` None: say `message`, then hang up
    direct: DirectRoute | None  # the number goes straight to an agent or a queue (ACD-9)
    message: Prompt  # the number's default message
    caller: CallerFacts
    blacklisted: bool
    last_served: tuple[int, datetime] | None = None  # (agent id, answered at): caller memory

    @property
    def refuse_with(self) -> Refusal:
        """How a blacklisted caller is refused: as the flow or the direct route says, else with the
        number's message."""
        if self.direct is not None:
            return Refusal(self.direct.blacklisted)
        if self.flow is not None:
            return Refusal(self.flow.flow.blacklisted)
        return Refusal.MESSAGE


def look_up(
    database: Database, flows: FlowCache, did: str, caller_id: str, at: datetime, default_region: str
) -> Arrival:
    """The flow DID `did` runs at `at`, and what is known of the caller `caller_id`."""
    number, region = _number_and_region(caller_id, default_region)
    stored = ivr_store.get_number(database, did)
    flow_name = flow_for(stored.plan, at) if stored is not None else None
    with database.session() as session:
        flow = flows.get(session, flow_name) if flow_name is not None else None
        lead = hopper.latest_lead(session, number)
        record = lead.attributes if lead is not None else None
        lists = Blocklist(blocklist_store.entries_for(session.connection(), number))
        last_served = inbound_store.last_served(session, number)
    blacklisted = lists.entry_of(BlockKind.BLACKLIST, number, None, at) is not None
    vip_listed = lists.entry_of(BlockKind.VIP, number, None, at) is not None
    customer = record or {}
    tags = _tags(customer) | ({VIP} if vip_listed else set())
    caller = CallerFacts(number, region, tags, customer)
    message = stored.default_message if stored is not None else ivr_store.DEFAULT_MESSAGE
    direct = stored.plan.direct if stored is not None else None
    return Arrival(flow, direct, message, caller, blacklisted, last_served)


def arrive(
    database: Database,
    flows: FlowCache,
    did: str,
    caller_id: str,
    at: datetime,
    default_region: str,
    *,
    uniqueid: str,
    linkedid: str | None,
) -> tuple[Arrival, int]:
    """`look_up`, then the call's record opened (`inbound_store.open_call`): the arrival and its id."""
    arrival = look_up(database, flows, did, caller_id, at, default_region)
    caller = arrival.caller
    call_id = inbound_store.open_call(
        database,
        uniqueid=uniqueid,
        linkedid=linkedid,
        did=did,
        caller=caller.number,
        region=caller.region,
        arrived_at=at,
    )
    return arrival, call_id


def _number_and_region(caller_id: str, default_region: str) -> tuple[str, str | None]:
    facts = number_facts(caller_id, default_region)
    return (caller_id, None) if facts is None else (facts.e164, facts.place.region_zh)


def _tags(record: Mapping[str, Any]) -> frozenset[str]:
    tags = record.get("tags") or ()
    if isinstance(tags, str):
        tags = tags.split(",")
    return frozenset(str(tag).strip() for tag in tags if str(tag).strip())
