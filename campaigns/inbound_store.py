"""The record of every inbound call (issue 9): what the engine writes to `inbound_calls` and
`queue_visits` as a call goes, and what it reads back (caller memory, restart).

Each function is one transaction, with aware UTC datetimes, and safe to repeat where the engine may
repeat itself: `open_call` returns the call already opened for a channel, `enter_queue` into the
queue the call is waiting in changes nothing, a second `end_call` is ignored.

A call's life: `open_call` -> `record_trail` (the IVR path and inputs, as often as it changes) ->
per queue: `enter_queue` -> `answer` | `overflow` -> ... -> `end_call`. A wait in a queue (a visit)
ends, measured from its entry:

- answered: `answer`; the agent's talk then runs until the call ends, or until it enters another
  queue (a transfer);
- overflowed: `overflow`, or `enter_queue` into another queue while waiting;
- abandoned, overflowed or failed: `end_call` while waiting, by its outcome (abandoned; overflowed
  to a number or voicemail; anything else is a failure: the call was lost while waiting);
- failed, unmeasured: `close_stale`, the engine's restart reconciliation, for the calls a previous
  run left open that it does not take back (`left_open`; their channels gone, or not waiting in a
  queue): when they ended is not known, so neither the wait nor the talk is. A caller taken back
  keeps its open visit, which ends as it would have (one offered call, not two).

The call keeps the queue it was last in, when it first queued, and the agent who first answered it
(caller memory, `last_served`, sends a repeat caller to that agent). A visit keeps its queue's
short-abandon and service-level thresholds at entry (a queue not stored: `QueueConfig`'s defaults).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.inbound_followups import after_inbound_call
from campaigns.persistence.db import Database
from campaigns.persistence.models import Base, InboundCall, QueueVisit
from campaigns.persistence.models.enums import InboundOutcome, QueueResult
from campaigns.persistence.upsert import insert_unless_present
from campaigns.queue_store import overflow_text, parse_overflow, settings_by_name
from dialer.acd.queues import QueueConfig, ToQueue
from dialer.acd.restart import LeftOpen, LeftWaiting

__all__ = [
    "InboundOutcome",
    "answer",
    "close_stale",
    "end_call",
    "enter_queue",
    "last_served",
    "left_open",
    "open_call",
    "overflow",
    "record_trail",
]

_CALLS = Base.metadata.tables["inbound_calls"]
# How a wait still open when the call ends, ends.
_WAIT_ENDED_BY = {
    InboundOutcome.ABANDONED: QueueResult.ABANDONED,
    InboundOutcome.OVERFLOWED_NUMBER: QueueResult.OVERFLOWED,
    InboundOutcome.OVERFLOWED_VOICEMAIL: QueueResult.OVERFLOWED,
}


def open_call(
    database: Database,
    *,
    uniqueid: str,
    linkedid: str | None,
    did: str,
    caller: str,
    region: str | None,
    arrived_at: datetime,
) -> int:
    """The call's id: a new record, or the one already opened for channel `uniqueid`."""
    with database.session() as session:
        connection = session.connection()
        values = {
            "uniqueid": uniqueid,
            "linkedid": linkedid,
            "did": did,
            "caller": caller,
            "region": region,
            "arrived_at": arrived_at,
        }
        connection.execute(insert_unless_present(connection, _CALLS, ["uniqueid"]).values(values))
        return session.execute(select(InboundCall.id).where(InboundCall.uniqueid == uniqueid)).scalar_one()


def record_trail(database: Database, call_id: int, flow: str | None, trail: dict[str, Any]) -> None:
    """The IVR flow the call ran and its path and inputs so far (随路信息), replacing what was kept."""
    with database.session() as session:
        call = _call(session, call_id)
        call.flow, call.trail = flow, trail


def enter_queue(
    database: Database,
    call_id: int,
    queue: str,
    at: datetime,
    priority: int,
    direct_agent: int | None = None,
    fallback_at: datetime | None = None,
) -> None:
    """The call starts waiting in `queue` (for `direct_agent` alone, dialled straight to it, until
    `fallback_at`): a wait elsewhere ends overflowed to it, an agent's talk ends (a transfer)."""
    with database.session() as session:
        call = _call(session, call_id)
        visit = _last_visit(session, call_id)
        if visit is not None and visit.result is None and visit.queue == queue:
            return
        if visit is not None:
            if visit.result is None:
                call.overflowed_to = overflow_text(ToQueue(queue))
            _finish(visit, QueueResult.OVERFLOWED, at)
        config = settings_by_name(session, queue).get(queue) or QueueConfig(queue, ())
        session.add(
            QueueVisit(
                call_id=call_id,
                queue=queue,
                entered_at=at,
                priority=priority,
                short_abandon_ms=round(config.short_abandon_s * 1000),
                answer_within_ms=round(config.service_level.within_s * 1000),
                direct_agent_id=direct_agent,
                fallback_at=fallback_at,
            )
        )
        call.queue, call.priority = queue, priority
        call.queued_at = call.queued_at or at


def answer(database: Database, call_id: int, agent_id: int, at: datetime) -> None:
    """The call joined agent `agent_id`: its wait ends answered (the first answer is the call's)."""
    with database.session() as session:
        call = _call(session, call_id)
        visit = _last_visit(session, call_id)
        if visit is not None and visit.result is None:
            visit.agent_id = agent_id
            _finish(visit, QueueResult.ANSWERED, at)
        if call.answered_at is None:
            call.answered_at, call.agent_id = at, agent_id


def overflow(database: Database, call_id: int, at: datetime, to: str) -> None:
    """The call leaves its queue for `to`: `queue:NAME` (then `enter_queue`), `number:+86...` or
    `voicemail:BOX`."""
    target = overflow_text(parse_overflow(to))
    with database.session() as session:
        call = _call(session, call_id)
        call.overflowed_to = target
        visit = _last_visit(session, call_id)
        if visit is not None and visit.result is None:
            _finish(visit, QueueResult.OVERFLOWED, at)


def end_call(
    database: Database,
    call_id: int,
    at: datetime,
    outcome: InboundOutcome,
    cause: int | None = None,
    voicemail: str | None = None,
) -> None:
    """The call ended (a second end is ignored): a wait still open ends by `outcome`, a talk ends."""
    with database.session() as session:
        end_call_in(session, call_id, at, outcome, cause, voicemail)


def end_call_in(
    session: Session,
    call_id: int,
    at: datetime,
    outcome: InboundOutcome,
    cause: int | None = None,
    voicemail: str | None = None,
) -> None:
    """`end_call` within the caller's transaction."""
    call = _call(session, call_id)
    if call.ended_at is not None:
        return
    visit = _last_visit(session, call_id)
    if visit is not None:
        _finish(visit, _WAIT_ENDED_BY.get(outcome, QueueResult.FAILED), at)
    call.ended_at, call.outcome, call.hangup_cause, call.voicemail = at, outcome, cause, voicemail
    after_inbound_call(session, call, at)


def last_served(session: Session, caller: str) -> tuple[int, datetime] | None:
    """The agent who last answered a call from `caller`, and when (ACD-4; the queue's window is
    applied by the ACD)."""
    found = session.execute(
        select(InboundCall.agent_id, InboundCall.answered_at)
        .where(
            InboundCall.caller == caller,
            InboundCall.answered_at.is_not(None),
            InboundCall.agent_id.is_not(None),
        )
        .order_by(InboundCall.answered_at.desc())
        .limit(1)
    ).first()
    if found is None or found.agent_id is None or found.answered_at is None:
        return None
    return found.agent_id, found.answered_at


def left_open(database: Database) -> list[LeftOpen]:
    """Every call not ended, oldest first, with its wait when one is open: what a previous run left."""
    with database.session() as session:
        rows = session.execute(
            select(InboundCall, QueueVisit)
            .outerjoin(QueueVisit, (QueueVisit.call_id == InboundCall.id) & QueueVisit.result.is_(None))
            .where(InboundCall.ended_at.is_(None))
            .order_by(InboundCall.id)
        )
        return [_left(call, visit) for call, visit in rows]


def _left(call: InboundCall, visit: QueueVisit | None) -> LeftOpen:
    flags = tuple((call.trail or {}).get("flags", ()))
    waiting = None
    if visit is not None:
        waiting = LeftWaiting(
            visit.queue, visit.entered_at, visit.priority, visit.direct_agent_id, visit.fallback_at
        )
    return LeftOpen(call.id, call.uniqueid, call.caller, call.region, call.arrived_at, flags, waiting)


def close_stale(database: Database, at: datetime, call_ids: Collection[int]) -> int:
    """End at `at` the calls `call_ids` a previous run left open whose channels are gone, those
    still open; how many. When they really ended is unknown: a wait open ends failed unmeasured, a
    talk stays unmeasured. A call an agent had answered ends `answered` (the caller was served), one
    lost in a queue `failed` (a missed call: its number's SMS and callback follow,
    `inbound_followups`), one that never reached a queue `ivr_only`."""
    with database.session() as session:
        gone = session.scalars(
            select(InboundCall)
            .where(InboundCall.id.in_(list(call_ids)), InboundCall.ended_at.is_(None))
            .with_for_update()
        ).all()
        for call in gone:
            visit = _last_visit(session, call.id)
            if visit is not None and visit.result is None:
                visit.result = QueueResult.FAILED
            call.ended_at, call.outcome = at, _lost_outcome(call)
            after_inbound_call(session, call, at)
        return len(gone)


def _lost_outcome(call: InboundCall) -> InboundOutcome:
    if call.answered_at is not None:
        return InboundOutcome.ANSWERED
    return InboundOutcome.FAILED if call.queued_at is not None else InboundOutcome.IVR_ONLY


def _finish(visit: QueueVisit, result: QueueResult, at: datetime) -> None:
    """End the visit's wait with `result` at `at`, or, once answered, the agent's talk."""
    if visit.result is None:
        visit.result, visit.left_at, visit.wait_ms = result, at, _ms(at - visit.entered_at)
    elif visit.result is QueueResult.ANSWERED and visit.talk_ms is None and visit.left_at is not None:
        visit.talk_ms = _ms(at - visit.left_at)


def _call(session: Session, call_id: int) -> InboundCall:
    return session.get_one(InboundCall, call_id, with_for_update=True)


def _last_visit(session: Session, call_id: int) -> QueueVisit | None:
    query = select(QueueVisit).where(QueueVisit.call_id == call_id).order_by(QueueVisit.id.desc()).limit(1)
    return session.scalar(query)


def _ms(span: timedelta) -> int:
    return round(span.total_seconds() * 1000)
