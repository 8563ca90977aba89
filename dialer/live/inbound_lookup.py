"""What the engine looks up when an inbound call arrives, in one trip to the database thread.

- The flow: the DID's plan picks it for the call's instant (`did_plan.flow_for`), parsed once per
  version (`flow_cache.FlowCache`, the engine's, handed in). An unknown DID, or a plan with no flow
  at that instant, has only its message (the number's default message; `ivr_store.DEFAULT_MESSAGE`
  for a DID not configured), said before the hang-up: never dead air.
- The caller (`CallerFacts`, for the flow's conditions and the call's record): the number in E.164
  (`campaigns.number_facts`: a national number read in the engine's `default_region`; a withheld
  caller ID, or one that is no valid number, is kept as the network gave it, with no province), its
  province (号码归属地, mobiles included), and the customer record: the attributes of the latest lead
  with that number, whose `tags` attribute (a list, or text separated by commas) gives the caller's
  tags (vip, malicious...). An unknown caller has no tags and an empty record.
- Whether the caller is blacklisted (ACD-10): a blacklist entry of the blocklist in force for every
  campaign (global). DNC entries are about calling people, not about taking their calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from campaigns import hopper, ivr_store
from campaigns.compliance import blocklist_store
from campaigns.ivr_store import StoredFlow
from campaigns.number_facts import number_facts
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import BlockKind
from campaigns.surveys.document import Prompt
from dialer.ivr.did_plan import flow_for
from dialer.ivr.facts import CallerFacts
from dialer.live.flow_cache import FlowCache


@dataclass(frozen=True)
class Arrival:
    flow: StoredFlow | None  # None: say `message`, then hang up
    message: Prompt  # the number's default message
    caller: CallerFacts
    blacklisted: bool


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
        entries = blocklist_store.entries_for(session.connection(), number)
    blacklisted = any(e.kind is BlockKind.BLACKLIST and e.applies((), at) for e in entries)
    customer = record or {}
    caller = CallerFacts(number, region, _tags(customer), customer)
    message = stored.default_message if stored is not None else ivr_store.DEFAULT_MESSAGE
    return Arrival(flow, message, caller, blacklisted)


def _number_and_region(caller_id: str, default_region: str) -> tuple[str, str | None]:
    facts = number_facts(caller_id, default_region)
    return (caller_id, None) if facts is None else (facts.e164, facts.place.region_zh)


def _tags(record: Mapping[str, Any]) -> frozenset[str]:
    tags = record.get("tags") or ()
    if isinstance(tags, str):
        tags = tags.split(",")
    return frozenset(str(tag).strip() for tag in tags if str(tag).strip())
