"""The customer record an agent fills in on its screen for the caller of an inbound call (AGT-3).

`save_for_call` runs in the engine's database thread, one transaction. The call must be an inbound
call the agent answered: the call's record says who answered first; a later agent is known by the
queue visit it answered (a transfer to a queue) or by the control that gave it the call (`transfer`
or a completed attended transfer to `agent:NAME`, `call_controls`). True during the call, in its
wrap-up and any time after, across restarts. The caller's record is the one the screen pop reads,
`hopper.latest_lead`:

- a known caller: the fields go into its latest lead's attributes (each replaces the attribute of
  its name; the others, `tags` among them, stay);
- an unknown caller: a new lead of the `INBOUND_LIST` list (created with its first lead), with the
  number's place, carrier, type and time zones, as an import would give them. No campaign dials
  that list: an agent's record of a caller is not a request to call it back, and a lead of a
  campaign's own `manual-<campaign>` list (click-to-call, missed-call callbacks) would be new and
  due, dialled by the campaign at once. Attaching the list to a campaign (`ringcast campaign
  attach`) is the operator's decision.

Either way the lead is the number's latest, so its next call's screen pop shows `known` and this
record. Audited (`customer.save`, actor `agent:NAME`, the lead): the call, whether the lead is new,
and the names of the fields, not their values (the record is personal data; the lead holds it).

`CustomerRecord` is the request: `name` and free `attributes`, strings within the limits below; a
record out of them is refused whole, before anything is read or written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns import hopper
from campaigns.agent_store import audit, named
from campaigns.compliance.blocklist_store import Change
from campaigns.number_facts import E164_ONLY, number_facts
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, CallControl, ContactList, InboundCall, Lead, QueueVisit
from campaigns.persistence.models.enums import QueueResult
from campaigns.place_store import place_id, texts_of
from ringcast.errors import UserError

INBOUND_LIST = "inbound-callers"  # the leads of callers first recorded by an agent
NAME_MAX = 100  # characters of the customer's name
KEY_MAX = 64  # characters of an attribute's name
VALUE_MAX = 500  # characters of an attribute's value
ATTRIBUTES_MAX = 50  # attributes in one record
ACTION = "customer.save"
HANDED_OVER = ("transfer", "complete")  # the controls (`call_controls`) that give the call to their target

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=VALUE_MAX)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=KEY_MAX)]


class CustomerRecord(BaseModel):
    """What the agent filled in: the customer's name and any other attributes (strings)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
    attributes: dict[Key, Text] = Field(default_factory=dict, max_length=ATTRIBUTES_MAX)

    @model_validator(mode="after")
    def _name_once(self) -> CustomerRecord:
        if "name" in self.attributes:
            raise ValueError("give the name as `name`, not among the attributes")
        return self

    def fields(self) -> dict[str, str]:
        return {**self.attributes, "name": self.name}


def save_for_call(
    database: Database, agent_name: str, call_uniqueid: str, record: CustomerRecord, now: datetime
) -> dict[str, Any]:
    """Save `record` as the customer record of the caller of inbound call `call_uniqueid`, which
    agent `agent_name` answered; a `UserError` (nothing written) otherwise."""
    with database.session() as session:
        agent = named(session, Agent, agent_name)
        caller = _caller_of(session, call_uniqueid, agent)
        lead = hopper.latest_lead(session, caller)
        created = lead is None
        if lead is None:
            lead = _new_lead(session, caller, now)
        fields = record.fields()
        lead.attributes = {**(lead.attributes or {}), **fields}
        session.flush()  # the new lead's id
        what = {"call": call_uniqueid, "created": created, "fields": sorted(fields)}
        audit(session, Change(f"agent:{agent_name}", now), ACTION, "lead", str(lead.id), **what)
        return {"lead_id": lead.id, "created": created, "customer": dict(lead.attributes)}


def _caller_of(session: Session, call_uniqueid: str, agent: Agent) -> str:
    found = session.execute(
        select(InboundCall.id, InboundCall.caller, InboundCall.agent_id).where(
            InboundCall.uniqueid == call_uniqueid
        )
    ).one_or_none()
    if found is None:
        raise UserError(f"no inbound call {call_uniqueid!r}")
    call_id, caller, agent_id = found
    if agent_id != agent.id and not _given_to(session, call_id, call_uniqueid, agent):
        raise UserError(f"inbound call {call_uniqueid} is not agent {agent.name}'s: it did not answer it")
    return str(caller)


def _given_to(session: Session, call_id: int, call_uniqueid: str, agent: Agent) -> bool:
    """Whether the call reached `agent` after its first answer: a queue visit the agent answered (a
    transfer to a queue), or a transfer to the agent (blind, or an attended one completed)."""
    answered_visit = select(QueueVisit.id).where(
        QueueVisit.call_id == call_id,
        QueueVisit.agent_id == agent.id,
        QueueVisit.result == QueueResult.ANSWERED,
    )
    transferred = select(CallControl.id).where(
        CallControl.call == call_uniqueid,
        CallControl.control.in_(HANDED_OVER),
        CallControl.target == f"agent:{agent.name}",
    )
    return any(session.scalar(select(found.exists())) for found in (answered_visit, transferred))


def _new_lead(session: Session, caller: str, now: datetime) -> Lead:
    facts = number_facts(caller, E164_ONLY)
    if facts is None:
        raise UserError(f"the caller's number {caller!r} is withheld or not valid: no record is kept for it")
    place = facts.place
    contacts = session.scalar(select(ContactList).where(ContactList.name == INBOUND_LIST))
    if contacts is None:
        contacts = ContactList(name=INBOUND_LIST, source_file="agents' screens", imported_at=now)
        session.add(contacts)
        session.flush()
    texts = texts_of(place)
    lead = Lead(
        list_id=contacts.id,
        e164=facts.e164,
        raw_input=caller,
        number_type=facts.number_type,
        place_id=place_id(session.connection(), texts),
        time_zones=list(place.time_zones),
        next_attempt_at=now,
    )
    session.add(lead)
    return lead
