"""The record of in-call controls (AGT-4, IVR-6): written as agents use them, read per call.

`record_control` runs in the engine's database thread, behind the call's other writes;
`open_transferred` opens the inbound record of an outbound customer sent on to a queue;
`controls_of` is what `GET /calls/CALL/controls` and the tests read: the trail of one
call, oldest first, with the agent's name.

`record_sent_flow` keeps the trail of a flow an agent sent its caller into (IVR-6) with the call,
without a column of its own: an inbound call's `trail` gets it appended under `sent_flows` (the
DID flow's trail stays as it was); an outbound attempt, which has no trail, gets an `audit_log` row
(`call.flow`, entity `attempt`) with it as `details`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from campaigns import inbound_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, AuditEntry, CallControl, InboundCall, Lead


@dataclass(frozen=True, slots=True)
class ControlRecord:
    at: datetime
    agent_id: int
    call: str
    control: str
    target: str | None
    legs: str | None  # None: the agent is off the call
    attempt_id: int | None = None
    inbound_call_id: int | None = None


def record_control(database: Database, record: ControlRecord) -> None:
    with database.session() as session:
        session.add(
            CallControl(
                at=record.at,
                agent_id=record.agent_id,
                call=record.call,
                attempt_id=record.attempt_id,
                inbound_call_id=record.inbound_call_id,
                control=record.control,
                target=record.target,
                legs=record.legs,
            )
        )


TRANSFER_DID = "transfer"  # the DID of the inbound record opened for an outbound customer sent to a queue


def open_transferred(database: Database, call: str, lead_id: int, now: datetime) -> tuple[int, str]:
    """An outbound customer (channel `call`, lead `lead_id`) goes on as an inbound call: its record
    opened (DID `transfer`, the lead's number as the caller); (the record's id, the number)."""
    with database.session() as session:
        number = session.get_one(Lead, lead_id).e164
    call_id = inbound_store.open_call(
        database, uniqueid=call, linkedid=None, did=TRANSFER_DID, caller=number, region=None, arrived_at=now
    )
    return call_id, number


SENT_FLOWS = "sent_flows"  # in an inbound call's trail: the flows agents sent the caller into, in order
FLOW_AUDIT = "call.flow"


def record_sent_flow(
    database: Database, trail: dict[str, Any], *, inbound_call_id: int | None, attempt_id: int | None
) -> None:
    """Keep `trail` (a `CallTrail` as JSON) with the inbound call or the outbound attempt."""
    with database.session() as session:
        if inbound_call_id is not None:
            call = session.get_one(InboundCall, inbound_call_id)
            kept = call.trail or {}
            call.trail = {**kept, SENT_FLOWS: [*kept.get(SENT_FLOWS, []), trail]}
        elif attempt_id is not None:
            session.add(
                AuditEntry(
                    actor="system",
                    action=FLOW_AUDIT,
                    entity="attempt",
                    entity_id=str(attempt_id),
                    details=trail,
                )
            )


def controls_of(database: Database, call: str) -> list[dict[str, Any]]:
    """Every control recorded on the call whose customer channel is `call`, oldest first."""
    with database.session() as session:
        rows = session.execute(
            select(CallControl, Agent.name)
            .join(Agent, Agent.id == CallControl.agent_id)
            .where(CallControl.call == call)
            .order_by(CallControl.id)
        )
        return [
            {
                "at": row.at.isoformat(),
                "agent": name,
                "control": row.control,
                "target": row.target,
                "legs": row.legs,
                "attempt_id": row.attempt_id,
                "inbound_call_id": row.inbound_call_id,
            }
            for row, name in rows
        ]
