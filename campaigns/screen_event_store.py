"""Agents' screen-pop events in the database (AGT-3), so that a restarted engine goes on from them.

The engine's feed (`dialer.live.screen_feed`) writes through its database thread, unawaited:
`keep` one event kept, dropping the agent's rows a newer one pushed out; `forget` an agent no
longer followed (a `forgotten` row, its other rows deleted). At start, `load` reads the largest id
given so far and, per agent still followed (its newest row not `forgotten`), its kept events in
order (`Followed`). Table `screen_events` (`campaigns/persistence/models/screen.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from campaigns.persistence.db import Database
from campaigns.persistence.models import ScreenEventRow

FORGOTTEN = "forgotten"


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


def load(database: Database, kept: int) -> tuple[int, dict[str, Followed]]:
    """The largest id given so far (0: none), and each agent still followed with at most its last
    `kept` events."""
    with database.session() as session:
        last = session.scalar(select(func.max(ScreenEventRow.id))) or 0
        rows: dict[str, list[ScreenEventRow]] = {}
        for row in session.scalars(select(ScreenEventRow).order_by(ScreenEventRow.agent, ScreenEventRow.id)):
            rows.setdefault(row.agent, []).append(row)
        followed = {}
        for agent, events in rows.items():
            start = max((n + 1 for n, row in enumerate(events) if row.kind == FORGOTTEN), default=0)
            events = events[start:][-kept:]  # those after the agent was last forgotten
            if not events:
                continue
            followed[agent] = Followed(
                events[0].previous_id, [Row(e.id, e.kind, e.at, e.data) for e in events]
            )
        return last, followed
