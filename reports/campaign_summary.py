"""A campaign's short summary (the demo's report, the first figures of RPT-4), aggregated in SQL.

Definitions (attempts dialled from `since`, cancelled ones excluded: they never reached anybody):

- attempts: attempts whose call ended;
- answer rate: attempts answered (by a person or a machine) / attempts;
- human answers: outcomes `answered` + `abandoned`; machine answers: outcome `machine` (AMD);
- connects: attempts joined to an agent;
- abandon rate: `abandoned` / human answers (the live calls, as the compliance presets count them);
- connection delay: median and worst `connect_ms` (human known → customer in the agent's conference);
- agent utilization: time reserved, on a call or in wrap-up / time logged in (ready, reserved, on a
  call, wrap-up or paused), from the agents' state log (`utilization`, pure).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import AgentStateLog, Attempt
from campaigns.persistence.models.enums import AgentState, CallOutcome

_WORKING = frozenset({AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP})


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    attempts: int
    answered: int
    human: int
    machine: int
    connects: int
    abandoned: int
    connect_ms_median: int | None
    connect_ms_max: int | None
    agent_utilization: float | None

    @property
    def answer_rate(self) -> float:
        return self.answered / self.attempts if self.attempts else 0.0

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.human if self.human else 0.0


def utilization(changes: Iterable[tuple[int, AgentState, datetime]], until: datetime) -> float | None:
    """Working / logged-in time, from all agents' state changes (agent, new state, when) in time order."""
    since: dict[int, tuple[AgentState, datetime]] = {}
    working = logged_in = 0.0
    for agent_id, state, at in changes:
        if agent_id in since:
            previous, start = since[agent_id]
            seconds = (at - start).total_seconds()
            if previous is not AgentState.LOGGED_OUT:
                logged_in += seconds
                working += seconds if previous in _WORKING else 0.0
        since[agent_id] = (state, at)
    for previous, start in since.values():
        if previous is not AgentState.LOGGED_OUT:
            seconds = max((until - start).total_seconds(), 0.0)
            logged_in += seconds
            working += seconds if previous in _WORKING else 0.0
    return working / logged_in if logged_in else None


def summarise(database: Database, campaign_id: int, since: datetime, until: datetime) -> CampaignSummary:
    ended = (
        Attempt.campaign_id == campaign_id,
        Attempt.dialed_at >= since,
        Attempt.ended_at.is_not(None),
        Attempt.outcome != CallOutcome.CANCELLED,
    )

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    with database.session() as session:
        row = session.execute(
            select(
                func.count(),
                count(Attempt.answered_at.is_not(None)),
                count(Attempt.outcome.in_([CallOutcome.ANSWERED, CallOutcome.ABANDONED])),
                count(Attempt.outcome == CallOutcome.MACHINE),
                count(Attempt.bridged_at.is_not(None)),
                count(Attempt.outcome == CallOutcome.ABANDONED),
                func.max(Attempt.connect_ms),
            ).where(*ended)
        ).one()
        delays = sorted(
            ms
            for ms in session.scalars(
                select(Attempt.connect_ms).where(*ended, Attempt.connect_ms.is_not(None))
            )
            if ms is not None
        )
        changes = session.execute(
            select(AgentStateLog.agent_id, AgentStateLog.to_state, AgentStateLog.at)
            .where(AgentStateLog.campaign_id == campaign_id)
            .where(AgentStateLog.at >= since, AgentStateLog.at <= until)
            .order_by(AgentStateLog.at, AgentStateLog.id)
        ).all()
    attempts, answered, human, machine, connects, abandoned, worst = (int(v or 0) for v in row)
    return CampaignSummary(
        attempts=attempts,
        answered=answered,
        human=human,
        machine=machine,
        connects=connects,
        abandoned=abandoned,
        connect_ms_median=delays[len(delays) // 2] if delays else None,
        connect_ms_max=worst if delays else None,
        agent_utilization=utilization(((a, s, t) for a, s, t in changes), until),
    )
