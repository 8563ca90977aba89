"""The `queues` report (RPT-2): how each inbound queue served its callers, per time bucket.

Counted over the queue visits (`queue_visits`: one per call per queue it waited in) that entered
the queue in the period; a call belongs to the bucket in which it entered the queue, with its whole
wait and talk, however long they lasted. A call overflowing from queue A to queue B is offered in
both: overflowed in A, and whatever became of it in B. Definitions (docs/metrics.md, "Queues"):

- offered: those visits; answered, abandoned, overflowed, failed by how the wait ended, waiting
  while it has not. Abandons are split by the queue's short-abandon threshold (at entry; default
  5 s): a caller who hung up sooner is a short abandon, counted apart, not abandoned. offered =
  answered + abandoned + short abandons + overflowed + failed + waiting;
- abandon rate: abandoned / (offered − short abandons − waiting);
- service level: visits answered within the queue's threshold (at entry; `wait <= threshold`) /
  (offered − short abandons − waiting): Cisco Unified ICM/CCE's service level with abandons
  counting against it and short calls left out; target: the queue's current goal (`80% in 20 s`);
- ASA: the answered visits' total wait / answered; longest wait: the longest measured wait, however
  it ended; average talk: the answered visits' total talk / those with a measured talk.

Aggregated in SQL: one GROUP BY over the period's visits by queue (and quarter hour when bucketed),
read from the covering index `ix_queue_visits_queue_entered`; rows come back per group, not per call.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, literal_column, select
from sqlalchemy.sql import ColumnElement

from campaigns.agent_store import named
from campaigns.persistence.db import Database
from campaigns.persistence.models import CallQueue, QueueVisit
from campaigns.persistence.models.enums import QueueResult
from campaigns.queue_store import settings_by_name
from dialer.acd.queues import QueueConfig
from reports.buckets import quarter_hour, start_of
from reports.query import ReportQuery
from reports.tables import Column, Kind, Report, ratio
from ringcast.errors import UserError

COLUMNS = (
    Column("offered"),
    Column("answered"),
    Column("abandoned"),
    Column("short abandons"),
    Column("overflowed"),
    Column("failed"),
    Column("waiting"),
    Column("abandon rate", Kind.RATE),
    Column("service level", Kind.RATE),
    Column("target", Kind.TEXT),
    Column("ASA", Kind.SECONDS),
    Column("longest wait", Kind.SECONDS),
    Column("average talk", Kind.SECONDS),
)
NOTES = [
    "calls that entered the queue in the period, in the bucket they entered; an overflow from A to B"
    " is offered in both; definitions: docs/metrics.md (Queues)",
    "short abandons: hung up before the queue's threshold (default 5 s); left out of offered for the"
    " abandon rate and the service level, as are the calls still waiting",
    "abandon rate = abandoned / (offered - short abandons - waiting); service level = answered within"
    " the queue's threshold / (offered - short abandons - waiting); target: the queue's current goal",
    "ASA = wait of the answered calls / answered; offered = answered + abandoned + short abandons"
    " + overflowed + failed + waiting",
]
_V = QueueVisit
_ANSWERED = _V.result == QueueResult.ANSWERED
_ABANDONED = _V.result == QueueResult.ABANDONED


@dataclass
class _Tally:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0  # all of them, short ones included
    short: int = 0
    overflowed: int = 0
    failed: int = 0
    answered_in_time: int = 0
    answered_wait_ms: int = 0
    longest_ms: int | None = None
    talk_ms: int = 0
    talks: int = 0

    def add(self, row: Any) -> None:
        for name in ("offered", "answered", "abandoned", "short", "overflowed", "failed", "answered_in_time"):
            setattr(self, name, getattr(self, name) + int(getattr(row, name)))
        self.answered_wait_ms += int(row.answered_wait_ms or 0)
        self.talk_ms += int(row.talk_ms or 0)
        self.talks += int(row.talks)
        if row.longest_ms is not None:
            self.longest_ms = max(self.longest_ms or 0, int(row.longest_ms))

    def cells(self, target: str) -> list[Any]:
        waiting = self.offered - self.answered - self.abandoned - self.overflowed - self.failed
        counted = self.offered - self.short - waiting
        return [
            self.offered,
            self.answered,
            self.abandoned - self.short,
            self.short,
            self.overflowed,
            self.failed,
            waiting,
            ratio(self.abandoned - self.short, counted),
            ratio(self.answered_in_time, counted),
            target,
            ratio(self.answered_wait_ms / 1000, self.answered),
            None if self.longest_ms is None else self.longest_ms / 1000,
            ratio(self.talk_ms / 1000, self.talks),
        ]


def queues_report(database: Database, query: ReportQuery, queue: str | None = None) -> Report:
    """The report (see the module docstring) for `query`: every queue with calls, or `queue`'s."""
    if query.campaign is not None or query.agent is not None:
        raise UserError(
            "the queues report counts inbound calls by queue: give --queue, not --campaign or --agent"
        )
    with database.session() as session:
        if queue is not None:
            named(session, CallQueue, queue)  # one clear error for a name no queue has
        queues = settings_by_name(session, queue)
        keys: list[Any] = [_V.queue]
        if query.by is not None:
            keys.append(quarter_hour(_V.entered_at, session.get_bind().dialect.name).label("quarter"))
        grouped = (
            select(*keys, *_FIGURES)
            .where(_V.queue.in_(list(queues)), _V.entered_at >= query.since, _V.entered_at < query.until)
            .group_by(_V.queue)
        )
        if query.by is not None:  # by its name: a repeated expression would bind its own parameters
            grouped = grouped.group_by(literal_column("quarter"))
        tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
        for row in session.execute(grouped):
            label = query.bucket_of(start_of(int(row.quarter))) if query.by is not None else ""
            tallies[(label, row.queue)].add(row)
    head = [Column("bucket", Kind.TEXT)] if query.by is not None else []
    rows = [
        ([label] if query.by is not None else []) + [name, *tally.cells(_target(queues[name]))]
        for (label, name), tally in sorted(tallies.items())
    ]
    return Report("queues", [*head, Column("queue", Kind.TEXT), *COLUMNS], rows, NOTES)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


_FIGURES = (
    func.count().label("offered"),
    _count(_ANSWERED).label("answered"),
    _count(_ABANDONED).label("abandoned"),
    _count(and_(_ABANDONED, _V.wait_ms < _V.short_abandon_ms)).label("short"),
    _count(_V.result == QueueResult.OVERFLOWED).label("overflowed"),
    _count(_V.result == QueueResult.FAILED).label("failed"),
    _count(and_(_ANSWERED, _V.wait_ms <= _V.answer_within_ms)).label("answered_in_time"),
    func.sum(case((_ANSWERED, _V.wait_ms))).label("answered_wait_ms"),
    func.max(_V.wait_ms).label("longest_ms"),
    func.sum(_V.talk_ms).label("talk_ms"),
    func.count(_V.talk_ms).label("talks"),
)


def _target(queue: QueueConfig) -> str:
    level = queue.service_level
    return f"{level.share:.0%} in {level.within_s:g} s"
