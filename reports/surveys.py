"""A survey's results (SRV-4): counts aggregated in SQL, then rates and scores in pure code; its export.

Definitions (responses under any version of the survey; the questions and their keys are those of
its current definition, followed by any other question or key the answers hold):

- responses: survey_responses of the survey (in the date range, by started_at);
- completion rate: responses with completed_at / responses;
- distribution per question: for each question id and key, count and share of the answers with
  result answered; plus counts of `invalid` and `no_input` results;
- score questions: a question whose keys, in the survey's current definition, are exactly the digits
  1..N with N ≥ 3 counts as a score (scale N): 1-5 is one, 0-4, 1-2 and 1, 2, 3, 9 are not; its score
  answers are its answered answers with a key on that scale; CSAT = share of the score answers in
  the top two keys (N and N-1); mean score = mean of the score answers' keys;
- grouped by agent (survey_responses.agent_id → agents name), campaign (survey_responses.campaign_id
  → campaigns name), queue (survey_responses.queue_id → queues name: the queue that served an
  inbound call last, SRV-2) or day (UTC date of started_at; not the campaign's time zone, which
  SQLite cannot convert to); responses without an agent, a campaign or a queue make one group,
  `(none)`;
- date range: `since` and `until` are UTC days, both included; `queue`: only the responses of
  inbound calls that queue served last.

The database returns one count per group, question, result and key (`GROUP BY`), so a report reads
a few hundred rows however many answers there are; `aggregate` turns those counts into rates and
scores. The export (`reports.survey_export`) streams one row per response with its answers as
columns, over the same `response_conditions`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    String,
    case,
    func,
    literal_column,
    null,
    select,
)

from campaigns.agent_store import named
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, CallQueue, Campaign, SurveyAnswer, SurveyResponse
from campaigns.persistence.models.enums import AnswerResult
from campaigns.surveys.document import Question
from campaigns.surveys.store import load_survey_named
from ringcast.errors import UserError

NONE = "(none)"  # the group of responses without an agent, a campaign or a queue
RESULT_COLUMNS = (
    "responses",
    "complete",
    "completion rate",
    "question",
    "answer",
    "meaning",
    "answers",
    "share",
    "CSAT",
    "mean score",
)


class By(StrEnum):
    AGENT = "agent"
    CAMPAIGN = "campaign"
    QUEUE = "queue"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class Period:
    """UTC days, both included; None: no bound."""

    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> Period:
        """The period of `--since` and `--until` (YYYY-MM-DD), or a `UserError` saying which is wrong."""
        period = cls(_day("--since", since), _day("--until", until))
        if period.since and period.until and period.since > period.until:
            raise UserError(
                f"--since {period.since} is after --until {period.until}", hint="give the earlier day first"
            )
        return period

    def conditions(self) -> list[ColumnElement[bool]]:
        """On `survey_responses.started_at`: from midnight UTC of `since` to the end of `until`."""
        conditions = []
        if self.since is not None:
            conditions.append(SurveyResponse.started_at >= datetime.combine(self.since, time(), UTC))
        if self.until is not None:
            end = datetime.combine(self.until + timedelta(days=1), time(), UTC)
            conditions.append(SurveyResponse.started_at < end)
        return conditions


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} {value!r} is not a date", hint="give a UTC day as YYYY-MM-DD") from None


# -- pure: counts in, rates and scores out ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseCount:
    """A group's responses, and how many of them were completed."""

    group: str | None
    responses: int
    complete: int


@dataclass(frozen=True, slots=True)
class AnswerCount:
    """How many answers of a group to `question` ended with `result` and `key` (None unless answered)."""

    group: str | None
    question: str
    result: AnswerResult
    key: str | None
    meaning: str | None  # as one of those answers stored it
    count: int


@dataclass(frozen=True, slots=True)
class KeyCount:
    key: str
    meaning: str | None
    count: int
    share: float  # of the question's answered answers; 0.0 when none was answered


@dataclass(frozen=True, slots=True)
class QuestionResults:
    question: str
    answered: int
    invalid: int
    no_input: int
    keys: tuple[KeyCount, ...]
    scale: int | None  # N for a score question
    csat: float | None  # None: not a score question, or no score answers
    mean_score: float | None


@dataclass(frozen=True, slots=True)
class GroupResults:
    group: str | None
    responses: int
    complete: int
    questions: tuple[QuestionResults, ...]

    @property
    def completion_rate(self) -> float:
        return self.complete / self.responses if self.responses else 0.0


@dataclass(frozen=True, slots=True)
class SurveyResults:
    survey: str
    by: By | None
    period: Period
    groups: tuple[GroupResults, ...]  # without `by`: one, named after the survey


def score_scale(keys: Collection[str]) -> int | None:
    """N when `keys` are exactly the digits 1..N with N ≥ 3, else None."""
    n = len(keys)
    return n if n >= 3 and set(keys) == {str(k) for k in range(1, n + 1)} else None


def aggregate(
    questions: Sequence[Question], responses: Iterable[ResponseCount], answers: Iterable[AnswerCount]
) -> tuple[GroupResults, ...]:
    """Every group (by name, `None` last) with every question: defined ones first, then others seen."""
    answers = sorted(answers, key=lambda a: (a.question, a.key or ""))
    meanings: dict[str, dict[str, str | None]] = {q.id: dict(q.keys) for q in questions}
    for answer in answers:
        keys = meanings.setdefault(answer.question, {})
        if answer.key is not None:
            keys.setdefault(answer.key, answer.meaning)
    scales = {q.id: score_scale(q.keys) for q in questions}
    counted: Counter[tuple[str | None, str, AnswerResult, str | None]] = Counter()
    for answer in answers:
        counted[answer.group, answer.question, answer.result, answer.key] += answer.count
    return tuple(
        GroupResults(
            group.group,
            group.responses,
            group.complete,
            tuple(
                _question(question, keys, scales.get(question), counted, group.group)
                for question, keys in meanings.items()
            ),
        )
        for group in sorted(responses, key=lambda r: (r.group is None, r.group or ""))
    )


def _question(
    question: str,
    meanings: Mapping[str, str | None],
    scale: int | None,
    counted: Mapping[tuple[str | None, str, AnswerResult, str | None], int],
    group: str | None,
) -> QuestionResults:
    def count(result: AnswerResult, key: str | None = None) -> int:
        return counted.get((group, question, result, key), 0)

    by_key = {key: count(AnswerResult.ANSWERED, key) for key in meanings}
    answered = sum(by_key.values())
    on_scale = {str(k) for k in range(1, scale + 1)} if scale is not None else set()
    scores = {int(key): n for key, n in by_key.items() if key in on_scale}
    scored = sum(scores.values())
    return QuestionResults(
        question=question,
        answered=answered,
        invalid=count(AnswerResult.INVALID),
        no_input=count(AnswerResult.NO_INPUT),
        keys=tuple(
            KeyCount(key, meaning, by_key[key], by_key[key] / answered if answered else 0.0)
            for key, meaning in meanings.items()
        ),
        scale=scale,
        csat=(scores[scale] + scores[scale - 1]) / scored if scale is not None and scored else None,
        mean_score=sum(k * n for k, n in scores.items()) / scored if scored else None,
    )


def result_header(by: By | None) -> list[str]:
    return [by.value if by is not None else "survey", *RESULT_COLUMNS]


def result_rows(results: SurveyResults) -> Iterator[list[Any]]:
    """One row per group, question and key, then one each for `invalid` and `no_input` (no share).

    Rates are fractions to 4 places, the mean score to 2; the group's and the question's figures
    are repeated on each of their rows, so that a spreadsheet can filter and pivot them.
    """
    for group in results.groups:
        head = [group.group or NONE, group.responses, group.complete, _fraction(group.completion_rate)]
        for question in group.questions:
            score = [_fraction(question.csat), _round(question.mean_score, 2)]
            for key in question.keys:
                share = _fraction(key.share)
                yield [*head, question.question, key.key, key.meaning, key.count, share, *score]
            for result, count in (
                (AnswerResult.INVALID, question.invalid),
                (AnswerResult.NO_INPUT, question.no_input),
            ):
                yield [*head, question.question, result.value, None, count, None, *score]


def display_rows(results: SurveyResults) -> list[list[str]]:
    """`result_rows` as text for a terminal: percentages, and a group's or question's figures once."""
    shown: list[list[str]] = []
    previous: list[Any] = [None] * len(_SHOW)
    for row in result_rows(results):
        cells = [show(value) for show, value in zip(_SHOW, row, strict=True)]
        if row[0] == previous[0]:
            for n in _GROUP_CELLS:
                cells[n] = ""
            if row[4] == previous[4]:
                for n in _QUESTION_CELLS:
                    cells[n] = ""
        shown.append(cells)
        previous = row
    return shown


def results_json(results: SurveyResults) -> dict[str, Any]:
    period = results.period
    return {
        "survey": results.survey,
        "by": results.by.value if results.by is not None else None,
        "since": period.since.isoformat() if period.since else None,
        "until": period.until.isoformat() if period.until else None,
        "groups": [
            {
                "group": group.group,
                "responses": group.responses,
                "complete": group.complete,
                "completion_rate": group.completion_rate,
                "questions": [asdict(question) for question in group.questions],
            }
            for group in results.groups
        ],
    }


def _fraction(value: float | None) -> float | None:
    return _round(value, 4)


def _round(value: float | None, places: int) -> float | None:
    return round(value, places) if value is not None else None


def _percent(value: Any) -> str:
    return f"{value:.1%}" if value is not None else ""


def _number(value: Any) -> str:
    return f"{value:,}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


_SHOW: tuple[Callable[[Any], str], ...] = (
    _text,
    _number,
    _number,
    _percent,
    _text,
    _text,
    _text,
    _number,
    _percent,
    _percent,
    lambda mean: f"{mean:.2f}" if mean is not None else "",
)
_GROUP_CELLS = (0, 1, 2, 3)  # group, responses, complete, completion rate
_QUESTION_CELLS = (4, 9, 10)  # question, CSAT, mean score


# -- queries ------------------------------------------------------------------------------------------


def survey_results(
    database: Database, name: str, by: By | None, period: Period, queue: str | None = None
) -> SurveyResults:
    """The results of survey `name` over `period` (of the inbound calls `queue` served, if given),
    grouped `by` (None: the whole survey)."""
    label = _label(by, database.backend)
    keys = [label] if by is not None else []
    response_query = select(
        label,
        func.count(),
        func.sum(case((SurveyResponse.completed_at.is_not(None), 1), else_=0)),
    ).select_from(SurveyResponse)
    answer_query = select(
        label,
        SurveyAnswer.question_id,
        SurveyAnswer.result,
        SurveyAnswer.key,
        func.max(SurveyAnswer.meaning),
        func.count(),
    ).join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
    survey = load_survey_named(database, name)
    where = response_conditions(database, survey.id, period, queue)
    with database.connect() as connection:
        response_counts = [
            ResponseCount(group if by is not None else name, int(n), int(complete or 0))
            for group, n, complete in connection.execute(
                _joined(response_query, by).where(*where).group_by(*keys)
            )
            if n
        ]
        answer_counts = [
            AnswerCount(group if by is not None else name, question, result, key, meaning, int(n))
            for group, question, result, key, meaning, n in connection.execute(
                _joined(answer_query, by)
                .where(*where)
                .group_by(*keys, SurveyAnswer.question_id, SurveyAnswer.result, SurveyAnswer.key)
            )
        ]
    groups = aggregate(survey.survey.questions, response_counts, answer_counts)
    return SurveyResults(name, by, period, groups)


def response_conditions(
    database: Database, survey_id: int, period: Period, queue: str | None
) -> list[ColumnElement[bool]]:
    """The responses of survey `survey_id` over `period`, those of queue `queue` only if given (a
    `UserError` for a queue there is not)."""
    conditions = [SurveyResponse.survey_id == survey_id, *period.conditions()]
    if queue is not None:
        with database.session() as session:
            conditions.append(SurveyResponse.queue_id == named(session, CallQueue, queue).id)
    return conditions


def _label(by: By | None, backend: str) -> SQLColumnExpression[Any]:
    """The group's name as text: the agent's, campaign's or queue's name, the UTC day, or NULL (no
    `by`)."""
    if by is By.AGENT:
        return Agent.name
    if by is By.CAMPAIGN:
        return Campaign.name
    if by is By.QUEUE:
        return CallQueue.name
    if by is By.DAY:
        if backend == "sqlite":  # naive UTC text
            return func.date(SurveyResponse.started_at, type_=String)
        # constants inline, so that PostgreSQL sees GROUP BY the very expression it selects
        utc = func.timezone(literal_column("'UTC'"), SurveyResponse.started_at)
        return func.to_char(utc, literal_column("'YYYY-MM-DD'"), type_=String)
    return null()


def _joined(query: Select[Any], by: By | None) -> Select[Any]:
    if by is By.AGENT:
        return query.outerjoin(Agent, Agent.id == SurveyResponse.agent_id)
    if by is By.CAMPAIGN:
        return query.outerjoin(Campaign, Campaign.id == SurveyResponse.campaign_id)
    if by is By.QUEUE:
        return query.outerjoin(CallQueue, CallQueue.id == SurveyResponse.queue_id)
    return query
