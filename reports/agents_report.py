"""The `agents` report (RPT-1): each agent's calls, time by state, occupancy, AHT, dispositions, rank.

One row per agent (per bucket and agent with `--by`), for agents with any activity in the period or
bucket: logged-in time above zero or at least one call handled. `--campaign` keeps the calls of that
campaign and the state time the agent spent logged in to it; `--agent` keeps one agent.

Sources. Outbound calls come from `attempts`, inbound calls from `queue_visits` (a visit an agent
answered) with their call's end from `inbound_calls`; time comes from `agent_state_log`, each row
starting a span that lasts until the agent's next row; hold time from `call_controls`
(`reports/agent_holds.py`). ringcast's states map to the usual
contact-center terms:

- `ready` is idle (available: waiting for a call);
- `not_ready` is paused (unavailable, aux or 示忙), whatever its reason, including the dialer's own
  `preview`, `manual call` and `own callback` pauses;
- `reserved` (chosen for a call being connected), `on_call` and `wrap_up` (after-call work) are busy;
- `logged_out` is not counted at all.

Period. Every time is clipped to the period [since, until): a span entered before `since` counts
from `since` (the state an agent was in at `since` is its last log row before `since`, found in SQL
per agent), one still open at `until` counts up to `until`. With `--campaign`, a span counts when
the row that started it was written for that campaign (the campaign the agent was logged in to).

Definitions (durations in seconds, to the millisecond; "None" where a denominator is zero):

- calls handled: attempts bridged to the agent (`agent_id` and `bridged_at` set) whose call ended
  (`ended_at`) in the period or bucket; unbridged attempts (no answer, abandoned, machine) are not
  an agent's. A call counts in the bucket in which it ended, with its whole talk time, so a call from
  23:55 to 00:05 is the next day's, with 600 s of talk, also when `bridged_at` is before `since`.
  Plus the inbound calls the agent answered: queue visits with result `answered` and the agent,
  counted like attempts in the bucket in which their call ended (`inbound_calls.ended_at`). Inbound
  calls belong to queues, not campaigns: `--campaign` leaves them out;
- talk time: sum of `ended_at - bridged_at` over the outbound calls handled (each rounded to the
  ms), plus the inbound visits' `talk_ms` (from the answer until the call ended or went on to another
  queue; a call an engine restart found gone has none and adds no talk, though it is handled), less
  the time the agent held each of those calls: talk excludes hold, as in ICMI's AHT;
- hold time: time the agent's customers were on hold (legs `held` or `consulting`, from
  `call_controls`: `reports/agent_holds.py`), clipped to the period and split across buckets as the
  state times are; a hold never resumed ends at the call's end or the agent's next state;
- wrap-up time: time in `wrap_up` (state log, split exactly across buckets);
- idle time: time in `ready`; paused time: time in `not_ready`;
- logged-in time: time in any state but `logged_out` (idle + paused + reserved + on call + wrap-up);
- busy time (not a column): time in `reserved`, `on_call` or `wrap_up` = logged in - idle - paused;
- occupancy = busy / (busy + idle) (ICMI and COPC: handle time over handle plus available time;
  paused time is in neither). Unlike the campaign summary's utilization (busy / logged in), paused
  time does not lower it;
- AHT = (talk + hold + wrap-up) / calls handled (ICMI's average handle time; talk from the calls,
  wrap-up from the state log of the same period or bucket), None without calls;
- calls per hour = calls handled / (logged-in time / 3600), None without logged-in time;
- dispositions: the outbound calls handled per disposition code, as text, most frequent first then
  by code ("sale 3, callback 1"), `(none)` for calls not (yet) disposed; inbound calls take no
  disposition yet and are not listed. One text column, not one column per code: codes are each
  campaign's own (a report over all campaigns would have their union, mostly empty) and the set
  would change the table's shape from one period to the next; the same code in two campaigns is
  counted together;
- rank: by calls handled, most first, then by lower AHT; agents equal on both share a rank, the
  next rank skipping (1, 2, 2, 4); agents without calls come last. With `--by`, per bucket.

Cost. The database groups the attempts by agent, disposition and quarter hour of `ended_at` (at most
96 rows a day per agent and code) and returns the state changes of the period plus one row per agent
(the state at `since`, an index probe on `ix_agent_state_log_agent_at`); the spans are clipped and
split into buckets here. No attempt row is fetched: the calls are counted from the covering index
`ix_attempts_campaign_ended` (`reports/scope.py`). The inbound calls are grouped by agent (and
quarter hour of their end) in SQL too, one row per group; but no index leads with the calls' end
(`inbound_calls.ended_at`) or the visits' agent, so the database reads every queue visit and its
call's end, whatever the period: its cost grows with the inbound history kept (measured in
`docs/metrics.md`, Agents).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import SQLColumnExpression, func, literal_column, select
from sqlalchemy.orm import Session

from campaigns.agent_store import named
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, AgentStateLog, Attempt, Disposition, InboundCall, QueueVisit
from campaigns.persistence.models.enums import AgentState, QueueResult
from reports.agent_holds import hold_rows, holds
from reports.buckets import QUARTER_S, milliseconds_between, quarter_hour, start_of
from reports.query import ReportQuery
from reports.scope import campaign_ids, ended_in
from reports.tables import Column, Kind, Report, ratio

NONE = "(none)"  # the disposition of calls handled without one
BUSY = frozenset({AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP})

COLUMNS = (
    Column("agent", Kind.TEXT),
    Column("calls handled", Kind.COUNT),
    Column("talk time", Kind.SECONDS),
    Column("hold time", Kind.SECONDS),
    Column("wrap-up time", Kind.SECONDS),
    Column("idle time", Kind.SECONDS),
    Column("paused time", Kind.SECONDS),
    Column("logged-in time", Kind.SECONDS),
    Column("occupancy", Kind.RATE),
    Column("AHT", Kind.SECONDS),
    Column("calls per hour", Kind.COUNT),
    Column("dispositions", Kind.TEXT),
    Column("rank", Kind.COUNT),
)
NOTES = [
    "calls handled: outbound calls bridged to the agent and inbound calls it answered, ended in the period;"
    " a call counts with its whole talk time in the hour/day it ended; --campaign leaves inbound calls out",
    "occupancy = (reserved + on call + wrap-up) / (that + idle); paused time is in neither",
    "talk excludes hold; hold time: customers on hold (held, consulting), clipped to the period",
    "AHT = (talk + hold + wrap-up) / calls handled",
    "state times are clipped to the period and split exactly across hours/days;"
    " definitions: docs/metrics.md (Agents)",
]


# ---- pure: spans of state, buckets, formulas ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    state: AgentState
    start: datetime
    end: datetime


def timeline(
    first: AgentState | None,
    changes: Iterable[tuple[datetime, AgentState | None]],
    since: datetime,
    until: datetime,
) -> list[Span]:
    """An agent's counted states over [since, until).

    `first` is the state at `since` (entered by the last change before it); `changes` are the
    changes from `since` on, in time order, each the state entered (None: not counted, e.g. another
    campaign's). Logged-out and uncounted time and empty spans are left out.
    """
    spans: list[Span] = []
    state, start = first, since
    for at, entered in changes:
        at = min(max(at, since), until)
        if state is not None and state is not AgentState.LOGGED_OUT and at > start:
            spans.append(Span(state, start, at))
        state, start = entered, at
    if state is not None and state is not AgentState.LOGGED_OUT and until > start:
        spans.append(Span(state, start, until))
    return spans


def bucket_starts(query: ReportQuery) -> list[tuple[datetime, str]]:
    """Each bucket's first instant and label over the period, in order (one bucket without `--by`).

    Labels are those `query.bucket_of` gives each quarter hour, as for the grouped attempts.
    """
    if query.by is None:
        return [(query.since, "")]
    starts = [(query.since, query.bucket_of(query.since))]
    quarter = -(-int(query.since.timestamp()) // QUARTER_S)  # the first quarter starting at or after since
    while (instant := start_of(quarter)) < query.until:
        label = query.bucket_of(instant)
        if label != starts[-1][1]:
            starts.append((instant, label))
        quarter += 1
    return starts


def split(span: Span, starts: Sequence[datetime]) -> Iterator[tuple[int, float]]:
    """(bucket index, seconds) of the pieces of `span` in each bucket; `starts` sorted, the first ≤ span."""
    index = max(bisect_right(starts, span.start) - 1, 0)
    start = span.start
    while start < span.end:
        end = min(starts[index + 1], span.end) if index + 1 < len(starts) else span.end
        yield index, (end - start).total_seconds()
        start, index = end, index + 1


def occupancy(busy_s: float, idle_s: float) -> float | None:
    return ratio(busy_s, busy_s + idle_s)


def average_handle_time(talk_s: float, hold_s: float, wrap_s: float, calls: int) -> float | None:
    return ratio(talk_s + hold_s + wrap_s, calls)


def calls_per_hour(calls: int, logged_in_s: float) -> float | None:
    return ratio(calls * 3600, logged_in_s)


def ranks(keys: Sequence[tuple[int, float | None]]) -> list[int]:
    """Competition ranks (1, 2, 2, 4) of (calls handled, AHT): more calls first, then lower AHT."""

    def order(key: tuple[int, float | None]) -> tuple[int, float]:
        calls, aht = key
        return -calls, float("inf") if aht is None else aht

    ordered = sorted(order(key) for key in keys)
    first: dict[tuple[int, float], int] = {}
    for position, key in enumerate(ordered, start=1):
        first.setdefault(key, position)
    return [first[order(key)] for key in keys]


def dispositions_text(counts: Mapping[str | None, int]) -> str:
    """`sale 3, callback 1, (none) 1`: most frequent first, then by code; no disposition is `(none)`."""
    named_counts = Counter({NONE if code is None else code: n for code, n in counts.items() if n})
    return ", ".join(
        f"{code} {n}" for code, n in sorted(named_counts.items(), key=lambda item: (-item[1], item[0]))
    )


@dataclass(slots=True)
class Figures:
    """One agent's totals in one bucket."""

    calls: int = 0
    talk_ms: int = 0
    hold_s: float = 0.0
    seconds: defaultdict[AgentState, float] = field(default_factory=lambda: defaultdict(float))
    dispositions: Counter[str | None] = field(default_factory=Counter)

    @property
    def talk_s(self) -> float:
        return self.talk_ms / 1000

    @property
    def logged_in_s(self) -> float:
        return sum(self.seconds.values())

    @property
    def busy_s(self) -> float:
        return sum(self.seconds[state] for state in BUSY)

    @property
    def active(self) -> bool:
        return self.calls > 0 or self.logged_in_s > 0

    def aht(self) -> float | None:
        return average_handle_time(self.talk_s, self.hold_s, self.seconds[AgentState.WRAP_UP], self.calls)

    def cells(self) -> list[Any]:
        """The row's cells after the agent's name, up to the dispositions (the rank comes last)."""
        idle = self.seconds[AgentState.READY]
        return [
            self.calls,
            _ms(self.talk_s),
            _ms(self.hold_s),
            _ms(self.seconds[AgentState.WRAP_UP]),
            _ms(idle),
            _ms(self.seconds[AgentState.NOT_READY]),
            _ms(self.logged_in_s),
            occupancy(self.busy_s, idle),
            _rounded(self.aht()),
            calls_per_hour(self.calls, self.logged_in_s),
            dispositions_text(self.dispositions),
        ]


def rows(figures: Mapping[tuple[str, str], Figures], labels: Sequence[str], by: bool) -> list[list[Any]]:
    """The table's rows from (bucket label, agent name) → figures: by bucket, then rank, then name."""
    per_bucket: dict[str, list[tuple[str, Figures]]] = defaultdict(list)
    for (label, name), f in figures.items():
        if f.active:
            per_bucket[label].append((name, f))
    table: list[list[Any]] = []
    for label in labels:
        agents = per_bucket.get(label, [])
        placed = ranks([(f.calls, f.aht()) for _, f in agents])
        for rank, (name, f) in sorted(
            zip(placed, agents, strict=True), key=lambda item: (item[0], item[1][0])
        ):
            table.append(([label] if by else []) + [name, *f.cells(), rank])
    return table


def milliseconds(span: timedelta) -> int:
    return round(span.total_seconds() * 1000)


def _ms(seconds: float) -> float:
    return round(seconds, 3)


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else _ms(seconds)


# ---- the database ------------------------------------------------------------------------------------


def agents_report(database: Database, query: ReportQuery) -> Report:
    starts = bucket_starts(query)
    instants = [instant for instant, _ in starts]
    labels = [label for _, label in starts]
    figures: dict[tuple[str, str], Figures] = defaultdict(Figures)
    with database.session() as session:
        campaigns = campaign_ids(session, query.campaign)
        campaign_id = campaigns[0] if query.campaign else None
        agent_id = named(session, Agent, query.agent).id if query.agent else None
        names = _agent_names(session, agent_id)
        for agent, spans in _state_spans(session, query, campaign_id, agent_id):
            for span in spans:
                for index, seconds in split(span, instants):
                    figures[labels[index], names[agent]].seconds[span.state] += seconds
        for agent, quarter, code, calls, talk_ms in _calls(
            session, database.backend, query, campaigns, agent_id
        ):
            f = figures[_label(query, quarter), names[agent]]
            f.calls += calls
            f.talk_ms += talk_ms
            f.dispositions[code] += calls
        if campaign_id is None:  # inbound calls belong to no campaign
            for agent, quarter, calls, talk_ms in _inbound_calls(session, database.backend, query, agent_id):
                f = figures[_label(query, quarter), names[agent]]
                f.calls += calls
                f.talk_ms += talk_ms
        for hold in holds(hold_rows(session, query, campaign_id, agent_id), query.until):
            name = names[hold.agent_id]
            held = Span(AgentState.ON_CALL, max(hold.start, query.since), min(hold.end, query.until))
            for index, seconds in split(held, instants) if held.end > held.start else ():
                figures[labels[index], name].hold_s += seconds
            ended = hold.call_ended_at
            if hold.talked and ended is not None and query.since <= ended < query.until:
                label = query.bucket_of(ended) if query.by is not None else ""
                figures[label, name].talk_ms -= milliseconds(hold.end - hold.start)
    columns = ([Column("bucket", Kind.TEXT)] if query.by is not None else []) + list(COLUMNS)
    last_day = query.local(query.until - timedelta(microseconds=1)).date()
    title = f"Agents, {query.local(query.since).date()} to {last_day} ({query.zone.key})"
    return Report(title, columns, rows(figures, labels, query.by is not None), list(NOTES))


def _label(query: ReportQuery, quarter: int) -> str:
    """The bucket of a quarter hour (the one bucket without `--by`)."""
    return query.bucket_of(start_of(quarter)) if query.by is not None else ""


def _agent_names(session: Session, agent_id: int | None) -> dict[int, str]:
    statement = select(Agent.id, Agent.name)
    if agent_id is not None:
        statement = statement.where(Agent.id == agent_id)
    return {row.id: row.name for row in session.execute(statement)}


def _state_spans(
    session: Session, query: ReportQuery, campaign_id: int | None, agent_id: int | None
) -> Iterator[tuple[int, list[Span]]]:
    """Each agent's counted spans over the period, from its state at `since` and its changes after."""
    log = AgentStateLog
    latest_before = (
        select(log.id)
        .where(log.agent_id == Agent.id, log.at < query.since)
        .order_by(log.at.desc(), log.id.desc())
        .limit(1)
        .correlate(Agent)
        .scalar_subquery()
    )
    at_since = select(log.agent_id, log.to_state).select_from(Agent).join(log, log.id == latest_before)
    changes = (
        select(log.agent_id, log.at, log.to_state, log.campaign_id)
        .where(log.at >= query.since, log.at < query.until)
        .order_by(log.agent_id, log.at, log.id)
    )
    if campaign_id is not None:
        at_since = at_since.where(log.campaign_id == campaign_id)
    if agent_id is not None:
        at_since = at_since.where(Agent.id == agent_id)
        changes = changes.where(log.agent_id == agent_id)
    first: dict[int, AgentState] = {row.agent_id: row.to_state for row in session.execute(at_since)}
    by_agent: dict[int, list[tuple[datetime, AgentState | None]]] = defaultdict(list)
    for row in session.execute(changes):
        counted = campaign_id is None or row.campaign_id == campaign_id
        by_agent[row.agent_id].append((row.at, row.to_state if counted else None))
    for agent in sorted(first.keys() | by_agent.keys()):
        yield agent, timeline(first.get(agent), by_agent.get(agent, []), query.since, query.until)


def _calls(
    session: Session, dialect: str, query: ReportQuery, campaigns: list[int], agent_id: int | None
) -> Iterator[tuple[int, int, str | None, int, int]]:
    """(agent, quarter hour ended (0 without `--by`), disposition code, calls, talk ms), grouped in SQL."""
    keys: list[SQLColumnExpression[Any]] = [Attempt.agent_id, Disposition.code]
    if query.by is not None:
        keys.append(quarter_hour(Attempt.ended_at, dialect).label("quarter"))
    statement = (
        select(
            *keys,
            func.count().label("calls"),
            func.sum(milliseconds_between(Attempt.bridged_at, Attempt.ended_at, dialect)).label("talk_ms"),
        )
        .outerjoin(Disposition, Disposition.id == Attempt.disposition_id)
        .where(
            *ended_in(query, campaigns),
            Attempt.agent_id.is_not(None),
            Attempt.bridged_at.is_not(None),
        )
        .group_by(Attempt.agent_id, Disposition.code)
    )
    if query.by is not None:  # by its name: a repeated expression would bind its own parameters
        statement = statement.group_by(literal_column("quarter"))
    if agent_id is not None:
        statement = statement.where(Attempt.agent_id == agent_id)
    for row in session.execute(statement):
        quarter = int(row.quarter) if query.by is not None else 0
        yield row.agent_id, quarter, row.code, int(row.calls), int(row.talk_ms or 0)


def _inbound_calls(
    session: Session, dialect: str, query: ReportQuery, agent_id: int | None
) -> Iterator[tuple[int, int, int, int]]:
    """(agent, quarter hour the call ended (0 without `--by`), calls, talk ms): the queue visits agents
    answered, of the calls that ended in the period, grouped in SQL."""
    call, visit = InboundCall, QueueVisit
    keys: list[SQLColumnExpression[Any]] = [visit.agent_id]
    if query.by is not None:
        keys.append(quarter_hour(call.ended_at, dialect).label("quarter"))
    statement = (
        select(*keys, func.count().label("calls"), func.sum(visit.talk_ms).label("talk_ms"))
        .select_from(call)
        .join(visit, visit.call_id == call.id)
        .where(
            call.ended_at >= query.since,
            call.ended_at < query.until,
            visit.result == QueueResult.ANSWERED,
            visit.agent_id.is_not(None),
        )
        .group_by(visit.agent_id)
    )
    if query.by is not None:  # by its name, as in `_calls`
        statement = statement.group_by(literal_column("quarter"))
    if agent_id is not None:
        statement = statement.where(visit.agent_id == agent_id)
    for row in session.execute(statement):
        quarter = int(row.quarter) if query.by is not None else 0
        yield row.agent_id, quarter, int(row.calls), int(row.talk_ms or 0)
