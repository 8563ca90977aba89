"""The `trunks` report's inbound section (RPT-3): calls per inbound number (DID), per time bucket.

Counted over the inbound calls that arrived in the period (`arrived_at` in [from, to)): a call
belongs to the bucket in which it arrived, with its whole talk. A row is a DID. Definitions
(docs/metrics.md, "Trunks"):

- calls: those calls; each ends one way (`inbound_calls.outcome`), or is still in progress:
  answered (an agent took it), IVR only (it ended in the flow: messages, a flow's hang-up or
  voicemail node, the number's message), abandoned (the caller hung up waiting in a queue),
  voicemail (sent to a box by a queue's overflow), forwarded (sent on to an external number),
  refused (blacklisted), failed (lost by the network or the engine), in progress;
- answer rate = answered / (calls − in progress);
- talk time: the sum of `ended_at − answered_at` over the answered calls (to the ms: from the agent's
  answer, queue time and IVR left out); average talk = talk time / answered.

Inbound calls belong to no campaign: with `--campaign` this section is left out. Aggregated in
SQL from the covering index `ix_inbound_calls_arrived`; rows come back per group, not per call.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, literal_column, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import InboundCall
from campaigns.persistence.models.enums import InboundOutcome
from reports.buckets import milliseconds_between, quarter_hour, start_of
from reports.query import ReportQuery
from reports.tables import Column, Kind, Report, ratio

_SHOWN = (  # column, outcome (None: in progress)
    ("answered", InboundOutcome.ANSWERED),
    ("IVR only", InboundOutcome.IVR_ONLY),
    ("abandoned", InboundOutcome.ABANDONED),
    ("voicemail", InboundOutcome.OVERFLOWED_VOICEMAIL),
    ("forwarded", InboundOutcome.OVERFLOWED_NUMBER),
    ("refused", InboundOutcome.REFUSED),
    ("failed", InboundOutcome.FAILED),
    ("in progress", None),
)
COLUMNS = (
    Column("calls"),
    *(Column(name) for name, _ in _SHOWN),
    Column("answer rate", Kind.RATE),
    Column("talk time", Kind.SECONDS),
    Column("average talk", Kind.SECONDS),
)
NOTES = [
    "inbound calls that arrived in the period, in the bucket they arrived; definitions: docs/metrics.md"
    " (Trunks, inbound numbers)",
    "answer rate = answered / ended calls; talk time from the agent's answer to the end",
]


def inbound_numbers_report(database: Database, query: ReportQuery) -> Report | None:
    """The section (see the module docstring), or None with `--campaign` (no inbound call has one)."""
    if query.campaign is not None:
        return None
    with database.session() as session:
        dialect = session.get_bind().dialect.name
        keys: list[Any] = [InboundCall.did, InboundCall.outcome]
        if query.by is not None:
            keys.append(quarter_hour(InboundCall.arrived_at, dialect).label("quarter"))
        talk_ms = milliseconds_between(InboundCall.answered_at, InboundCall.ended_at, dialect)
        grouped = (
            select(*keys, func.count().label("calls"), func.sum(talk_ms).label("talk_ms"))
            .where(InboundCall.arrived_at >= query.since, InboundCall.arrived_at < query.until)
            .group_by(InboundCall.did, InboundCall.outcome)
        )
        if query.by is not None:  # by its name: a repeated expression would bind its own parameters
            grouped = grouped.group_by(literal_column("quarter"))
        outcomes: dict[tuple[str, str], Counter[InboundOutcome | None]] = defaultdict(Counter)
        talk: Counter[tuple[str, str]] = Counter()
        for row in session.execute(grouped):
            label = query.bucket_of(start_of(int(row.quarter))) if query.by is not None else ""
            outcome = None if row.outcome is None else InboundOutcome(str(row.outcome))
            outcomes[(label, row.did)][outcome] += int(row.calls)
            talk[(label, row.did)] += int(row.talk_ms or 0)
    rows = []
    for (label, did), counts in sorted(outcomes.items()):
        calls, answered = sum(counts.values()), counts[InboundOutcome.ANSWERED]
        talk_s = talk[(label, did)] / 1000
        cells: list[Any] = [calls, *(counts[outcome] for _, outcome in _SHOWN)]
        cells += [ratio(answered, calls - counts[None]), talk_s, ratio(talk_s, answered)]
        rows.append(([label] if query.by is not None else []) + [did, *cells])
    head = [Column("bucket", Kind.TEXT)] if query.by is not None else []
    return Report("trunks: inbound numbers", [*head, Column("DID", Kind.TEXT), *COLUMNS], rows, NOTES)
