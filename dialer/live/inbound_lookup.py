"""What the engine looks up when an inbound call arrives, in one trip to the database thread.

- The flow: the DID's plan picks it for the call's instant (`did_plan.flow_for`). An unknown DID,
  or a plan with no flow at that instant, has only its message (the number's default message;
  `ivr_store.DEFAULT_MESSAGE` for a DID not configured), said before the hang-up: never dead air.
- The caller (`CallerFacts`, for the flow's conditions and the call's record): the number in E.164
  (a national number read in the engine's default region; one that does not parse is kept as the
  network gave it), its province (号码归属地, `imports.number_facts`, mobiles included), and the
  customer record: the attributes of the latest lead with that number, whose `tags` attribute (a
  list, or text separated by commas) gives the caller's tags (vip, malicious...). An unknown caller
  has no tags and an empty record.
- Whether the caller is blacklisted (ACD-10): a blacklist entry of the blocklist in force for every
  campaign (global). DNC entries are about calling people, not about taking their calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers

from campaigns import hopper, ivr_store
from campaigns.compliance import blocklist_store
from campaigns.ivr_store import StoredFlow
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import BlockKind
from campaigns.surveys.document import Prompt
from dialer.ivr.did_plan import flow_for
from dialer.ivr.facts import CallerFacts
from imports.number_facts import Invalid, describe


@dataclass(frozen=True)
class Arrival:
    flow: StoredFlow | None  # None: say `message`, then hang up
    message: Prompt  # the number's default message
    caller: CallerFacts
    blacklisted: bool


def look_up(database: Database, did: str, caller_id: str, at: datetime, default_region: str) -> Arrival:
    """The flow DID `did` runs at `at`, and what is known of the caller `caller_id`."""
    number, region = _number_and_region(caller_id, default_region)
    stored = ivr_store.get_number(database, did)
    flow_name = flow_for(stored.plan, at) if stored is not None else None
    flow = ivr_store.get_flow(database, flow_name) if flow_name is not None else None
    with database.session() as session:
        lead = hopper.latest_lead(session, number)
        record = lead.attributes if lead is not None else None
        entries = blocklist_store.entries_for(session.connection(), number)
    blacklisted = any(e.kind is BlockKind.BLACKLIST and e.applies((), at) for e in entries)
    customer = record or {}
    caller = CallerFacts(number, region, _tags(customer), customer)
    message = stored.default_message if stored is not None else ivr_store.DEFAULT_MESSAGE
    return Arrival(flow, message, caller, blacklisted)


def _number_and_region(caller_id: str, default_region: str) -> tuple[str, str | None]:
    try:
        parsed = phonenumbers.parse(caller_id, default_region)
    except phonenumbers.NumberParseException:
        return caller_id, None
    facts = describe(parsed)
    region = None if isinstance(facts, Invalid) else facts[1].region_zh
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), region


def _tags(record: Mapping[str, Any]) -> frozenset[str]:
    tags = record.get("tags") or ()
    if isinstance(tags, str):
        tags = tags.split(",")
    return frozenset(str(tag).strip() for tag in tags if str(tag).strip())
