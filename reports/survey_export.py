"""A survey's responses, one row each (SRV-4 export): its call, campaign or queue, agent, number
and answers, streamed from the database.

`response_rows` yields a `ResponseRow` per response of the survey over a `Period` (optionally only
those of inbound calls a queue served), its answers by question id; `cells` is its row under
`export_header` (CSV, XLSX), `as_json` its JSON item. The phone is the number the attempt dialled,
or the inbound caller's; `queue` and `inbound_call_id` are an inbound call's (SRV-2, IVR-2).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import (
    Agent,
    Attempt,
    CallQueue,
    Campaign,
    InboundCall,
    SurveyAnswer,
    SurveyResponse,
)
from campaigns.persistence.models.enums import AnswerResult
from campaigns.surveys.store import load_survey_named
from reports.files import neutralise
from reports.surveys import Period, response_conditions

EXPORT_COLUMNS = (
    "response_id",
    "started_at",
    "ended_at",
    "status",
    "campaign",
    "agent",
    "attempt_id",
    "phone",
    "queue",
    "inbound_call_id",
)
_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class Answer:
    key: str | None
    meaning: str | None
    result: AnswerResult


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """One response with its answers by question id."""

    id: int
    started_at: datetime
    ended_at: datetime | None
    complete: bool
    campaign: str | None
    agent: str | None
    attempt_id: int | None
    phone: str | None  # the number the attempt dialled, or the inbound caller's
    answers: Mapping[str, Answer]
    queue: str | None = None  # that served the inbound call last
    inbound_call_id: int | None = None

    @property
    def status(self) -> str:
        return "complete" if self.complete else "partial"

    def cells(self, questions: Sequence[str]) -> list[Any]:
        """The row of a CSV or XLSX file under `export_header(questions)`, text neutralised.

        An unanswered question has an empty key and its result as meaning: `(invalid)`, `(no_input)`.
        """
        cells: list[Any] = [
            self.id,
            _iso(self.started_at),
            _iso(self.ended_at),
            self.status,
            neutralise(self.campaign or ""),
            neutralise(self.agent or ""),
            self.attempt_id,
            self.phone,
            neutralise(self.queue or ""),
            self.inbound_call_id,
        ]
        for question in questions:
            answer = self.answers.get(question)
            if answer is None:
                cells += [None, None]
            elif answer.result is AnswerResult.ANSWERED:
                cells += [answer.key, neutralise(answer.meaning or "")]
            else:
                cells += [None, f"({answer.result.value})"]
        return cells

    def as_json(self) -> dict[str, Any]:
        return {
            "response_id": self.id,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "status": self.status,
            "campaign": self.campaign,
            "agent": self.agent,
            "attempt_id": self.attempt_id,
            "phone": self.phone,
            "queue": self.queue,
            "inbound_call_id": self.inbound_call_id,
            "answers": {
                question: {"key": a.key, "meaning": a.meaning, "result": a.result.value}
                for question, a in self.answers.items()
            },
        }


def export_header(questions: Sequence[str]) -> list[str]:
    return [*EXPORT_COLUMNS, *(f"{q}.{part}" for q in questions for part in ("key", "meaning"))]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


@contextmanager
def response_rows(
    database: Database, name: str, period: Period, queue: str | None = None
) -> Iterator[tuple[list[str], Iterator[ResponseRow]]]:
    """The question ids (defined ones first, then any other the answers hold) and the responses of
    survey `name` over `period` (of inbound calls served by `queue`, if given), by id, streamed
    from the database while the block runs."""
    survey = load_survey_named(database, name)
    where = response_conditions(database, survey.id, period, queue)
    defined = [q.id for q in survey.survey.questions]
    with database.connect() as connection:
        answered = connection.scalars(
            select(SurveyAnswer.question_id)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(*where)
            .group_by(SurveyAnswer.question_id)
        )
        yield [*defined, *sorted(set(answered) - set(defined))], _stream(connection, where)


def _stream(connection: Connection, where: Iterable[ColumnElement[bool]]) -> Iterator[ResponseRow]:
    query = (
        select(
            SurveyResponse.id,
            SurveyResponse.started_at,
            SurveyResponse.ended_at,
            SurveyResponse.completed_at,
            Campaign.name,
            Agent.name,
            SurveyResponse.attempt_id,
            func.coalesce(Attempt.e164, InboundCall.caller),
            CallQueue.name,
            SurveyResponse.inbound_call_id,
            SurveyAnswer.question_id,
            SurveyAnswer.key,
            SurveyAnswer.meaning,
            SurveyAnswer.result,
        )
        .select_from(SurveyResponse)
        .outerjoin(Campaign, Campaign.id == SurveyResponse.campaign_id)
        .outerjoin(Agent, Agent.id == SurveyResponse.agent_id)
        .outerjoin(Attempt, Attempt.id == SurveyResponse.attempt_id)
        .outerjoin(InboundCall, InboundCall.id == SurveyResponse.inbound_call_id)
        .outerjoin(CallQueue, CallQueue.id == SurveyResponse.queue_id)
        .outerjoin(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(*where)
        .order_by(SurveyResponse.id)
    )
    rows = connection.execution_options(stream_results=True, yield_per=_BATCH).execute(query)
    for response_id, group in groupby(rows, key=itemgetter(0)):
        lines = list(group)
        _, started, ended, completed, campaign, agent, attempt_id, phone, queue, call_id = lines[0][:10]
        answers = {
            question: Answer(key, meaning, result)
            for question, key, meaning, result in (line[10:] for line in lines)
            if question is not None
        }
        yield ResponseRow(
            response_id,
            started,
            ended,
            completed is not None,
            campaign,
            agent,
            attempt_id,
            phone,
            answers,
            queue,
            call_id,
        )
