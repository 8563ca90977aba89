"""Agents' screen-pop events kept across engine runs (AGT-3): `screen_events`.

One row per event kept (`dialer.live.screen_pop`): its id (given by the engine, unique and
increasing across runs: a new run goes on after the largest), the agent, the previous kept event's
id (`previous_id`; for the oldest row of an agent, the id a reader coming back must have reached to
be replayed without a gap), the event's type, instant and data (JSON). At most the last `KEPT` rows
per agent: each write drops the ones past it. A row of type `forgotten` says the agent is no longer
followed (its other rows are deleted with it); its id keeps the largest id from going back. A
row of type `closed` for agent "" (no agent's name) is the mark a run leaves as its last write
when it stops cleanly (`campaigns.screen_event_store`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, JSONType, UTCDateTime


class ScreenEventRow(Base):
    __tablename__ = "screen_events"
    __table_args__ = (Index("ix_screen_events_agent_id", "agent", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    agent: Mapped[str] = mapped_column(String(64))
    previous_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
