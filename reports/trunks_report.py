"""The `trunks` report (RPT-3): calls per trunk and per number presented, per time bucket.

Counted over attempts that ended in the period (`ended_at` in [from, to)), cancelled ones left out,
as the campaign report counts them (a call spanning midnight counts on the day it ended). A row is
a trunk (the PJSIP endpoint the call went out on; none recorded is the default endpoint,
`carrier`, the one the dialer then dials through) and the caller ID presented on it (`(none)`: the
campaign presented none, the trunk's own applies). Outbound, the number is the caller ID; inbound
numbers (DIDs) are the report's second section (`reports/inbound_numbers.py`). When a trunk
presented several caller IDs in a bucket, a row `(all)` after them totals the trunk. Definitions
(docs/metrics.md, "Trunks"):

- attempts: those calls;
- answered: a person or a machine picked up (outcomes `answered`, `abandoned`, `machine`), as in
  the campaign report (a call hung up during AMD was answered by the carrier but is a no answer
  there and here); answer rate = answered / attempts: the ASR, answer-seizure ratio, of ITU-T
  E.411 / E.425 (seizures answered / seizures);
- failed: outcome `failed`: the network or the number refused the call (congestion 34, 38, 41,
  42; invalid numbers 1, 3, 28; other causes), or the call was found gone at an engine restart;
  failure rate = failed / attempts; the hang-up causes tell them apart;
- busy, no answer: outcomes `busy`, `no_answer` (answered + failed + busy + no answer = attempts);
- talk time: the sum of `ended_at - answered_at` over the answered calls (each rounded to the ms),
  an approximation of the minutes the carrier bills (it bills from its answer signal, rounded up
  per its own increments); calls closed at an engine restart have no answer time and add none;
- average call: talk time / answered: the ACD, average call duration, of carriers' reports; empty
  without answers;
- hang-up causes: the Q.850 causes, the three most frequent first (`16 normal 40, 17 busy 3`),
  then `other N`; `(no cause)` for calls Asterisk gave none.

Aggregated in SQL: one GROUP BY over the period's attempts by trunk, caller ID, quarter hour (when
bucketed), outcome and hang-up cause; rows come back per group, not per call.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal_column, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt
from campaigns.persistence.models.enums import CallOutcome
from dialer.asterisk.confgen import TRUNK_ENDPOINT
from reports.buckets import milliseconds_between, quarter_hour, start_of
from reports.query import ReportQuery
from reports.scope import campaign_ids, ended_in
from reports.tables import Column, Kind, Report, ratio

_ANSWERED = (CallOutcome.ANSWERED, CallOutcome.ABANDONED, CallOutcome.MACHINE)
NO_CALLER_ID = "(none)"
ALL_CALLER_IDS = "(all)"
TOP_CAUSES = 3
# Q.850 cause values as people name them (ITU-T Q.850 table 1), the ones trunks give.
CAUSE_NAMES = {
    0: "unknown",
    1: "unallocated",
    2: "no route to network",
    3: "no route",
    16: "normal",
    17: "busy",
    18: "no response",
    19: "no answer",
    20: "absent",
    21: "rejected",
    22: "number changed",
    27: "destination down",
    28: "invalid format",
    29: "facility rejected",
    31: "normal unspecified",
    34: "no circuit",
    38: "network down",
    41: "temporary failure",
    42: "congestion",
    44: "channel unavailable",
    47: "resource unavailable",
    50: "not subscribed",
    58: "bearer unavailable",
    88: "incompatible destination",
    102: "timer expired",
    111: "protocol error",
    127: "interworking",
}
COLUMNS = (
    Column("attempts"),
    Column("answered"),
    Column("answer rate", Kind.RATE),
    Column("failed"),
    Column("failure rate", Kind.RATE),
    Column("busy"),
    Column("no answer"),
    Column("talk time", Kind.SECONDS),
    Column("average call", Kind.SECONDS),
    Column("hang-up causes", Kind.TEXT),
)
NOTES = [
    "attempts ended in the period, cancelled ones left out; definitions: docs/metrics.md (Trunks)",
    f"trunk: the PJSIP endpoint (none recorded: {TRUNK_ENDPOINT}); caller ID: the number presented,"
    f" {ALL_CALLER_IDS} the trunk's total when it presented several (do not add it to them)",
    "outbound calls; inbound calls per number (DID): the next section",
    "answer rate = answered / attempts (ASR); average call = talk time / answered (ACD);"
    " talk time approximates the billed minutes",
]


@dataclass
class _Tally:
    outcomes: Counter[CallOutcome] = field(default_factory=Counter)
    causes: Counter[int | None] = field(default_factory=Counter)
    talk_ms: int = 0

    def add(self, outcome: CallOutcome, cause: int | None, count: int, talk_ms: int) -> None:
        self.outcomes[outcome] += count
        self.causes[cause] += count
        if outcome in _ANSWERED:
            self.talk_ms += talk_ms

    def merge(self, other: _Tally) -> None:
        self.outcomes.update(other.outcomes)
        self.causes.update(other.causes)
        self.talk_ms += other.talk_ms

    def cells(self) -> list[Any]:
        attempts = sum(self.outcomes.values())
        answered = sum(self.outcomes[o] for o in _ANSWERED)
        failed = self.outcomes[CallOutcome.FAILED]
        talk = self.talk_ms / 1000
        return [
            attempts,
            answered,
            ratio(answered, attempts),
            failed,
            ratio(failed, attempts),
            self.outcomes[CallOutcome.BUSY],
            self.outcomes[CallOutcome.NO_ANSWER],
            talk,
            ratio(talk, answered),
            causes_text(self.causes),
        ]


def causes_text(causes: Counter[int | None]) -> str:
    """The most frequent causes first (then by code), `other N` for the rest: `16 normal 40, 17 busy 3`."""
    ranked = sorted(causes.items(), key=lambda item: (-item[1], -1 if item[0] is None else item[0]))
    parts = [f"{_cause_name(cause)} {count}" for cause, count in ranked[:TOP_CAUSES]]
    rest = sum(count for _, count in ranked[TOP_CAUSES:])
    return ", ".join(parts + ([f"other {rest}"] if rest else []))


def _cause_name(cause: int | None) -> str:
    if cause is None:
        return "(no cause)"
    name = CAUSE_NAMES.get(cause)
    return f"{cause} {name}" if name else str(cause)


def trunks_report(database: Database, query: ReportQuery) -> Report:
    """The report (see the module docstring) for `query`: every trunk with calls, or `--campaign`'s."""
    with database.session() as session:
        dialect = session.get_bind().dialect.name
        keys: list[Any] = [Attempt.trunk, Attempt.caller_id, Attempt.outcome, Attempt.hangup_cause]
        if query.by is not None:
            keys.append(quarter_hour(Attempt.ended_at, dialect).label("quarter"))
        talk_ms = milliseconds_between(Attempt.answered_at, Attempt.ended_at, dialect)
        grouped = (
            select(*keys, func.count().label("calls"), func.sum(talk_ms).label("talk_ms"))
            .where(
                *ended_in(query, campaign_ids(session, query.campaign)),
                Attempt.outcome != CallOutcome.CANCELLED,
            )
            .group_by(Attempt.trunk, Attempt.caller_id, Attempt.outcome, Attempt.hangup_cause)
        )
        if query.by is not None:  # by its name: a repeated expression would bind its own parameters
            grouped = grouped.group_by(literal_column("quarter"))
        tallies: dict[tuple[str, str, str], _Tally] = defaultdict(_Tally)
        for row in session.execute(grouped):
            label = query.bucket_of(start_of(int(row.quarter))) if query.by is not None else ""
            trunk = row.trunk or TRUNK_ENDPOINT  # the dialer's default when the campaign names none
            number = row.caller_id or NO_CALLER_ID
            cause = None if row.hangup_cause is None else int(row.hangup_cause)
            tallies[(label, trunk, number)].add(
                CallOutcome(str(row.outcome)), cause, int(row.calls), int(row.talk_ms or 0)
            )
    head = [Column("bucket", Kind.TEXT)] if query.by is not None else []
    columns = [*head, Column("trunk", Kind.TEXT), Column("caller ID", Kind.TEXT), *COLUMNS]
    return Report("trunks: outbound", columns, _rows(tallies, query.by is not None), NOTES)


def _rows(tallies: dict[tuple[str, str, str], _Tally], bucketed: bool) -> list[list[Any]]:
    """Per bucket and trunk, its caller IDs in order, then `(all)` when there are several (a chart of
    the report draws a trunk's last row of each bucket: its total)."""
    by_trunk: dict[tuple[str, str], list[tuple[str, _Tally]]] = defaultdict(list)
    for (label, trunk, number), tally in sorted(tallies.items()):
        by_trunk[(label, trunk)].append((number, tally))
    rows = []
    for (label, trunk), numbers in by_trunk.items():
        if len(numbers) > 1:
            total = _Tally()
            for _, tally in numbers:
                total.merge(tally)
            numbers = [*numbers, (ALL_CALLER_IDS, total)]
        for number, tally in numbers:
            rows.append(([label] if bucketed else []) + [trunk, number, *tally.cells()])
    return rows
