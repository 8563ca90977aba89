"""Agents' screen-pop events in the database (AGT-3), so that a restarted engine goes on from them.

The engine's feed (`dialer.live.screen_feed`) writes through its database thread, unawaited:
`keep` one event kept, dropping the agent's rows a newer one pushed out; `forget` an agent no
longer followed (a `forgotten` row, its other rows deleted); `close` as the last write of a run
that stops cleanly, a `closed` mark (agent "", no agent's name) with an id above every id the run
gave. At start, `take_over` reads the largest id given so far, per agent still followed (its
newest row not `forgotten`) its kept events in order (`Followed`), and whether the last run
stopped cleanly (its mark holds the largest id: every event it gave is written), and removes the
mark in the same transaction, so that a crash of the new run is never taken for a clean stop.
Table `screen_events` (`campaigns/persistence/models/screen.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from campaigns.persistence.db import Database
from campaigns.persistence.models import ScreenEventRow

FORGOTTEN = "forgotten"
CLOSED = "closed"
RUN_MARK = ""  # the agent of the `closed` mark: no agent's name is empty


@dataclass(frozen=True, slots=True)
class Row:
    """One kept event as read back: its id, type, instant and data."""

    id: int
    kind: str
    at: datetime
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Followed:
    """An agent still followed: `since` (the id a reader must have reached to miss none of the
    agent's events no longer kept) and its kept events, oldest first."""

    since: int
    events: list[Row] = field(default_factory=list)


def keep(
    session: Session,
    seq: int,
    agent: str,
    previous: int,
    kind: str,
    at: datetime,
    data: Mapping[str, Any],
    dropped: int | None,
) -> None:
    """Event `seq` of `agent` kept; its rows up to `dropped` (when given) no longer are."""
    if dropped is not None:
        gone = delete(ScreenEventRow).where(ScreenEventRow.agent == agent, ScreenEventRow.id <= dropped)
        session.execute(gone)
    session.add(ScreenEventRow(id=seq, agent=agent, previous_id=previous, kind=kind, at=at, data=dict(data)))


def forget(session: Session, agent: str, seq: int, at: datetime) -> None:
    """`agent` no longer followed (id `seq` taken for it): its rows go, a `forgotten` row stays."""
    session.execute(delete(ScreenEventRow).where(ScreenEventRow.agent == agent))
    session.add(ScreenEventRow(id=seq, agent=agent, previous_id=seq, kind=FORGOTTEN, at=at, data={}))


class TakenOver(NamedTuple):
    last: int  # the largest id given so far (0: none)
    followed: dict[str, Followed]  # each agent still followed, with at most its last `kept` events
    clean: bool  # the last run stopped cleanly: every event it gave is written


def close(session: Session, seq: int, at: datetime) -> None:
    """The run stops cleanly (this is its last write; `seq` is above every id it gave): the mark."""
    session.execute(delete(ScreenEventRow).where(ScreenEventRow.agent == RUN_MARK))
    session.add(ScreenEventRow(id=seq, agent=RUN_MARK, previous_id=seq, kind=CLOSED, at=at, data={}))


def take_over(database: Database, kept: int) -> TakenOver:
    """What a new run goes on from (see the module doc); the last run's mark is removed."""
    with database.session() as session:
        last = session.scalar(select(func.max(ScreenEventRow.id))) or 0
        rows: dict[str, list[ScreenEventRow]] = {}
        for row in session.scalars(select(ScreenEventRow).order_by(ScreenEventRow.agent, ScreenEventRow.id)):
            rows.setdefault(row.agent, []).append(row)
        marks = rows.pop(RUN_MARK, [])
        clean = any(mark.kind == CLOSED and mark.id == last for mark in marks)
        if marks:
            session.execute(delete(ScreenEventRow).where(ScreenEventRow.agent == RUN_MARK))
        followed = {}
        for agent, events in rows.items():
            start = max((n + 1 for n, row in enumerate(events) if row.kind == FORGOTTEN), default=0)
            events = events[start:][-kept:]  # those after the agent was last forgotten
            if not events:
                continue
            followed[agent] = Followed(
                events[0].previous_id, [Row(e.id, e.kind, e.at, e.data) for e in events]
            )
        return TakenOver(last, followed, clean)
