"""Hold time for the `agents` report (RPT-1): when agents' customers were on hold, from `call_controls`.

A customer is on hold while its legs are `held` or `consulting` (held while the agent consults a third
party, AGT-4). A hold starts at the control row that puts the legs there and ends at the next row
that takes them elsewhere (`resume`, `conference`, a transfer, `complete`, `cancel`...); a hold that
never got such a row ends at the call's end or at the agent's next state change (the hang-up's
wrap-up, a lost phone), whichever comes first, else it is still going (counted up to the period's
end). `holds` is that walk, pure; `hold_rows` reads what it needs.

Rows read: those of the period; for the calls that ended in it, their earlier rows too (a call's
talk loses its holds, whenever they were); and for the calls held at the period's start, the row
that held them (the call's latest before the start). With `--campaign` only outbound calls of that
campaign (inbound calls belong to no campaign); with `--agent` only that agent's rows. `call_controls`
holds a row per control an agent used, far fewer than calls: the rows up to the period's end are
filtered in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from campaigns.persistence.models import AgentStateLog, Attempt, CallControl, InboundCall, QueueVisit
from campaigns.persistence.models.enums import QueueResult
from reports.query import ReportQuery

HELD = ("held", "consulting")  # legs with the customer on hold


@dataclass(frozen=True, slots=True)
class ControlRow:
    """One control on a call: its legs after it and what bounds a hold it starts."""

    call: str
    at: datetime
    agent_id: int
    legs: str | None
    next_state_at: datetime | None  # the agent's first state change after `at`
    call_ended_at: datetime | None
    talked: bool  # the agent's talk on this call is the report's (it handled it)


@dataclass(frozen=True, slots=True)
class Hold:
    agent_id: int
    call: str
    start: datetime
    end: datetime
    call_ended_at: datetime | None
    talked: bool


def holds(rows: Iterable[ControlRow], until: datetime) -> list[Hold]:
    """The holds of `rows` (grouped by call, in time order), each ended as the module docstring says;
    one still going ends at `until`."""
    found: list[Hold] = []
    for _, of_call in groupby(rows, key=lambda row: row.call):
        opened: ControlRow | None = None
        for row in of_call:
            if opened is None and row.legs in HELD:
                opened = row
            elif opened is not None and row.legs not in HELD:
                found.extend(_hold(opened, row.at))
                opened = None
        if opened is not None:
            found.extend(_hold(opened, until))
    return found


def _hold(opened: ControlRow, end: datetime) -> list[Hold]:
    bounds = [at for at in (end, opened.next_state_at, opened.call_ended_at) if at is not None]
    end = min(bounds)
    if end <= opened.at:
        return []
    return [Hold(opened.agent_id, opened.call, opened.at, end, opened.call_ended_at, opened.talked)]


def hold_rows(
    session: Session, query: ReportQuery, campaign_id: int | None, agent_id: int | None
) -> list[ControlRow]:
    """The control rows `holds` needs for the period (see the module docstring), by call and time."""
    control, later = CallControl, aliased(CallControl)
    since, until = query.since, query.until
    next_state = (
        select(func.min(AgentStateLog.at))
        .where(AgentStateLog.agent_id == control.agent_id, AgentStateLog.at > control.at)
        .correlate(control)
        .scalar_subquery()
    )
    answered_visit = exists(
        select(QueueVisit.id).where(
            QueueVisit.call_id == control.inbound_call_id,
            QueueVisit.agent_id == control.agent_id,
            QueueVisit.result == QueueResult.ANSWERED,
        )
    )
    held_at_since = and_(
        control.at < since,
        control.legs.in_(HELD),
        ~exists(
            select(later.id).where(
                later.call == control.call,
                later.at < since,
                or_(later.at > control.at, and_(later.at == control.at, later.id > control.id)),
            )
        ),
    )
    ended = func.coalesce(Attempt.ended_at, InboundCall.ended_at)
    statement = (
        select(
            control.call,
            control.at,
            control.agent_id,
            control.legs,
            control.attempt_id,
            next_state.label("next_state_at"),
            ended.label("call_ended_at"),
            Attempt.agent_id.label("attempt_agent_id"),
            answered_visit.label("answered_visit"),
        )
        .outerjoin(Attempt, Attempt.id == control.attempt_id)
        .outerjoin(InboundCall, InboundCall.id == control.inbound_call_id)
        .where(
            control.at < until, or_(control.at >= since, held_at_since, and_(ended >= since, ended < until))
        )
        .order_by(control.call, control.at, control.id)
    )
    if campaign_id is not None:
        statement = statement.where(Attempt.campaign_id == campaign_id)
    if agent_id is not None:
        statement = statement.where(control.agent_id == agent_id)
    return [
        ControlRow(
            row.call,
            row.at,
            row.agent_id,
            row.legs,
            row.next_state_at,
            row.call_ended_at,
            row.attempt_agent_id == row.agent_id if row.attempt_id is not None else bool(row.answered_visit),
        )
        for row in session.execute(statement)
    ]
