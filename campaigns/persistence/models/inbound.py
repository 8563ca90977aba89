"""Inbound queues (ACD-1) and the record of every inbound call (issue 9): `queues`, `queue_members`,
`inbound_calls` and `queue_visits`.

A queue's `settings` are every `dialer.acd.queues.QueueConfig` field but its name and members, as
JSON written and read only through `QueueConfig` (`campaigns.queue_store`), so they are checked by
the same rules the router trusts. Its members are rows in `position` order (the linear strategy's
and round robin's; gaps are allowed), one per agent, with a skill level of 1-10.

`inbound_calls` is one row per call, kept for compliance and reports like `attempts`: who called
which number when, the IVR path and inputs (`trail`), the queue it was last in, when it first
queued, the agent who first answered it, and how it ended. `queue_visits` is one row per queue a
call waited in: a call that overflows from queue A to queue B has a visit to A ending `overflowed`
and a visit to B, so each queue counts it offered (docs/metrics.md, "Queues"). A visit keeps the
queue's short-abandon and service-level thresholds as they were when the call entered, so a later
change of the queue's settings does not rewrite past figures; `wait_ms` and `talk_ms` are the
measured spans, NULL where unknown (a call found gone at an engine restart). A visit of a call
dialled straight to one agent (ACD-9) keeps that agent (`direct_agent_id`) and when its number
falls back to the queue's other agents (`fallback_at`): a restarted engine takes the caller back
as it was waiting (docs/acd.md, "Restart").

Indexes: the queues report counts a period's visits per queue from `ix_queue_visits_queue_entered`
alone (queue, entry time, and every column it reads; `reports/queues_report.py`); caller memory
(ACD-4) finds the last agent of a number from `ix_inbound_calls_caller_answered`; the engine's
restart finds the open calls from the partial `ix_inbound_calls_open`. A call waits in at most one
queue at a time (`uq_queue_visits_call_id_waiting`). Queues are referred to by name, so the calls
keep their queue's name, and a queue with calls recorded is never deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, CreatedUpdated, JSONType, UTCDateTime, str_enum
from campaigns.persistence.models.enums import InboundOutcome, QueueResult

_OPEN = text("ended_at IS NULL")
_WAITING = text("result IS NULL")
# What the queues report reads of a visit, besides queue and entry: in `ix_queue_visits_queue_entered`.
VISIT_REPORTED = ("result", "wait_ms", "talk_ms", "short_abandon_ms", "answer_within_ms")


class CallQueue(CreatedUpdated, Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType)


class QueueMembership(Base):
    """An agent in a queue, with its skill level there (1-10, higher first) and supervisor flag."""

    __tablename__ = "queue_members"
    __table_args__ = (CheckConstraint("skill BETWEEN 1 AND 10", name="skill_range"),)

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True, index=True)
    skill: Mapped[int] = mapped_column(Integer)
    supervisor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    position: Mapped[int] = mapped_column(Integer)


class InboundCall(Base):
    __tablename__ = "inbound_calls"
    __table_args__ = (
        Index("ix_inbound_calls_open", "uniqueid", sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_inbound_calls_caller_answered", "caller", "answered_at", "agent_id"),
        Index("ix_inbound_calls_arrived", "arrived_at", "did", "outcome", "answered_at", "ended_at"),
        CheckConstraint("ended_at IS NULL OR outcome IS NOT NULL", name="ended_has_outcome"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(150), unique=True)  # the caller's Asterisk channel
    linkedid: Mapped[str | None] = mapped_column(String(150))
    did: Mapped[str] = mapped_column(String(32))  # the number dialled
    caller: Mapped[str] = mapped_column(String(64))  # E.164, or as the network gave it
    region: Mapped[str | None] = mapped_column(String(64))  # the caller's province (号码归属地)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime())
    flow: Mapped[str | None] = mapped_column(String(100))
    trail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # IVR path and inputs (随路信息)
    queue: Mapped[str | None] = mapped_column(String(64))  # the queue it was last in
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when it first entered a queue
    priority: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first joined an agent
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[InboundOutcome | None] = mapped_column(str_enum(InboundOutcome, "outcome", length=24))
    overflowed_to: Mapped[str | None] = mapped_column(String(200))  # queue:NAME, number:+86..., voicemail:BOX
    voicemail: Mapped[str | None] = mapped_column(String(255))  # the message's file
    hangup_cause: Mapped[int | None] = mapped_column(Integer)  # Q.850 cause code


class QueueVisit(Base):
    """A call's wait in one queue, from `entered_at` to `left_at` (`result` NULL while waiting),
    and, once answered, the agent's talk until the call ended or went on to another queue."""

    __tablename__ = "queue_visits"
    __table_args__ = (
        Index("ix_queue_visits_queue_entered", "queue", "entered_at", *VISIT_REPORTED),
        Index(
            "uq_queue_visits_call_id_waiting",
            "call_id",
            unique=True,
            sqlite_where=_WAITING,
            postgresql_where=_WAITING,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("inbound_calls.id", ondelete="CASCADE"), index=True
    )
    queue: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the wait ended
    result: Mapped[QueueResult | None] = mapped_column(str_enum(QueueResult, "result"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    wait_ms: Mapped[int | None] = mapped_column(Integer)
    talk_ms: Mapped[int | None] = mapped_column(Integer)
    short_abandon_ms: Mapped[int] = mapped_column(Integer)  # the queue's thresholds at entry
    answer_within_ms: Mapped[int] = mapped_column(Integer)
    direct_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))  # dialled straight to it
    fallback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # then the queue's other agents
