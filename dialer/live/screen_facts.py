"""What an agent's screen shows of a call offered to it (AGT-3), read in the engine's database thread.

- An inbound call (`inbound_facts`, by the caller's uniqueid): the DID it dialled, the caller's
  city and carrier (号码归属地, `campaigns.number_facts`), its IVR trail (flow, path, inputs,
  variables: recorded before the call queued, and the database thread runs jobs in order; none for
  a number dialled straight to an agent or a queue), and the customer record: the attributes of
  the latest lead with the caller's number (`known`), else an empty record to fill in.
- An outbound call (`outbound_facts`, by its channel id, the attempt's uniqueid): the campaign and
  the lead's card (`hopper.lead_card`).
- For both, the number's recent history: its last `HISTORY` calls either way (attempts and inbound
  calls, the one offered left out), newest first, each with its outcome and agent.

Only named fields are read out: no address, token or dial string can reach an agent's screen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns import hopper
from campaigns.number_facts import E164_ONLY, number_facts
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, Attempt, Campaign, InboundCall

HISTORY = 5  # calls of the number's history on a screen pop
TRAIL_FIELDS = ("flow", "path", "inputs", "variables")


def inbound_facts(database: Database, uniqueid: str, history: int = HISTORY) -> dict[str, Any]:
    with database.session() as session:
        call = session.scalars(select(InboundCall).where(InboundCall.uniqueid == uniqueid)).one()
        lead = hopper.latest_lead(session, call.caller)
        trail = call.trail or {}
        return {
            "did": call.did,
            **_place(call.caller),
            "ivr": {field: trail.get(field) for field in TRAIL_FIELDS} if trail.get("flow") else None,
            "known": lead is not None,
            "lead_id": lead.id if lead is not None else None,
            "customer": dict(lead.attributes or {}) if lead is not None else {},
            "history": _history(session, call.caller, uniqueid, history),
        }


def outbound_facts(database: Database, channel_id: str, history: int = HISTORY) -> dict[str, Any]:
    with database.session() as session:
        lead_id, e164, campaign = session.execute(
            select(Attempt.lead_id, Attempt.e164, Campaign.name)
            .join(Campaign, Campaign.id == Attempt.campaign_id)
            .where(Attempt.uniqueid == channel_id)
        ).one()
        calls = _history(session, e164, channel_id, history)
    return {"campaign": campaign, "lead": hopper.lead_card(database, lead_id), "history": calls}


def _place(number: str) -> dict[str, str | None]:
    """City and carrier of the stored caller: E.164, else as the network gave it (no place)."""
    facts = number_facts(number, E164_ONLY)
    place = facts.place if facts is not None else None
    return {"city": place.city_zh if place else None, "carrier": place.carrier_zh if place else None}


def _history(session: Session, e164: str, offered: str, limit: int) -> list[dict[str, Any]]:
    attempts = session.execute(
        select(Attempt.dialed_at, Attempt.outcome, Agent.name, Campaign.name)
        .join(Campaign, Campaign.id == Attempt.campaign_id)
        .outerjoin(Agent, Agent.id == Attempt.agent_id)
        .where(Attempt.e164 == e164, Attempt.uniqueid.is_distinct_from(offered))
        .order_by(Attempt.dialed_at.desc())
        .limit(limit)
    )
    inbound = session.execute(
        select(InboundCall.arrived_at, InboundCall.outcome, Agent.name, InboundCall.queue)
        .outerjoin(Agent, Agent.id == InboundCall.agent_id)
        .where(InboundCall.caller == e164, InboundCall.uniqueid != offered)
        .order_by(InboundCall.arrived_at.desc())
        .limit(limit)
    )
    calls: list[tuple[Any, ...]] = [("outbound", "campaign", *row) for row in attempts]
    calls += [("inbound", "queue", *row) for row in inbound]
    calls.sort(key=lambda call: call[2], reverse=True)
    return [_past_call(*call) for call in calls[:limit]]


def _past_call(
    direction: str, where: str, at: datetime, outcome: Any, agent: str | None, place: str | None
) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "direction": direction,
        "outcome": outcome.value if outcome is not None else None,
        "agent": agent,
        where: place,
    }
