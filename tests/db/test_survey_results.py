"""Survey results aggregated in SQL, grouped each way and over a period, and the export's rows, exactly."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.persistence.db import Database
from reports.survey_export import Answer, ResponseRow, response_rows
from reports.surveys import By, Period, SurveyResults, survey_results
from ringcast.errors import UserError
from tests.db.rows import Seed
from tests.db.survey_rows import NAME, PHONE, A, SurveyData, add_survey_data, at

pytestmark = pytest.mark.db

NO_SCORES = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}


@pytest.fixture
def data(database: Database, seed: Seed) -> SurveyData:
    return add_survey_data(database, seed)


def figures(results: SurveyResults) -> list[tuple[Any, ...]]:
    """Per group: its responses, complete, then per question (answered, invalid, no_input, CSAT,
    mean, counts by key), rates to 4 places."""
    return [
        (
            group.group,
            group.responses,
            group.complete,
            round(group.completion_rate, 4),
            {
                q.question: (
                    q.answered,
                    q.invalid,
                    q.no_input,
                    None if q.csat is None else round(q.csat, 4),
                    None if q.mean_score is None else round(q.mean_score, 4),
                    {key.key: key.count for key in q.keys},
                )
                for q in group.questions
            },
        )
        for group in results.groups
    ]


def questions(
    score: tuple[int, int, int, float | None, float | None, dict[str, int]],
    callback: int = 0,
    old: int = 0,
) -> dict[str, Any]:
    return {
        "score": score,
        "callback": (callback, 0, 0, None, None, {"1": callback, "2": 0}),
        "old": (old, 0, 0, None, None, {"2": old}),
    }


@pytest.mark.usefixtures("data")
def test_the_whole_survey(database: Database) -> None:
    results = survey_results(database, NAME, None, Period())
    assert figures(results) == [
        (
            NAME,
            6,
            4,
            0.6667,
            questions((4, 1, 1, 0.75, 3.5, {**NO_SCORES, "1": 1, "4": 2, "5": 1}), callback=1, old=1),
        )
    ]
    score = results.groups[0].questions[0]
    assert (score.scale, [(k.key, k.meaning, k.share) for k in score.keys]) == (
        5,
        [
            ("1", "很不满意", 0.25),
            ("2", "不满意", 0.0),
            ("3", "一般", 0.0),
            ("4", "满意", 0.5),
            ("5", "很满意", 0.25),
        ],
    )
    assert [(k.key, k.meaning) for k in results.groups[0].questions[2].keys] == [("2", "是")]


@pytest.mark.usefixtures("data")
def test_by_agent(database: Database) -> None:
    assert figures(survey_results(database, NAME, By.AGENT, Period())) == [
        (
            "agent1",
            3,
            3,
            1.0,
            questions((3, 0, 0, 0.6667, 3.3333, {**NO_SCORES, "1": 1, "4": 1, "5": 1}), 1, 1),
        ),
        ("agent2", 2, 1, 0.5, questions((1, 1, 0, 1.0, 4.0, {**NO_SCORES, "4": 1}))),
        (None, 1, 0, 0.0, questions((0, 0, 1, None, None, NO_SCORES))),
    ]


@pytest.mark.usefixtures("data")
def test_by_campaign(database: Database) -> None:
    assert figures(survey_results(database, NAME, By.CAMPAIGN, Period())) == [
        ("冬季回访", 2, 0, 0.0, questions((0, 1, 1, None, None, NO_SCORES))),
        ("秋季回访", 4, 4, 1.0, questions((4, 0, 0, 0.75, 3.5, {**NO_SCORES, "1": 1, "4": 2, "5": 1}), 1, 1)),
    ]


@pytest.mark.usefixtures("data")
def test_by_utc_day(database: Database) -> None:
    assert figures(survey_results(database, NAME, By.DAY, Period())) == [
        ("2026-11-23", 2, 2, 1.0, questions((2, 0, 0, 0.5, 3.0, {**NO_SCORES, "1": 1, "5": 1}), callback=1)),
        ("2026-11-24", 3, 1, 0.3333, questions((1, 1, 1, 1.0, 4.0, {**NO_SCORES, "4": 1}))),
        ("2026-11-25", 1, 1, 1.0, questions((1, 0, 0, 1.0, 4.0, {**NO_SCORES, "4": 1}), old=1)),
    ]


@pytest.mark.usefixtures("data")
def test_a_period_is_whole_utc_days_both_included(database: Database) -> None:
    def days(since: str | None, until: str | None) -> list[tuple[str | None, int]]:
        results = survey_results(database, NAME, By.DAY, Period.parse(since, until))
        return [(group.group, group.responses) for group in results.groups]

    assert days("2026-11-24", None) == [("2026-11-24", 3), ("2026-11-25", 1)]
    assert days(None, "2026-11-23") == [("2026-11-23", 2)]
    assert days("2026-11-24", "2026-11-24") == [("2026-11-24", 3)]
    assert days("2026-11-26", None) == []
    overall = survey_results(database, NAME, None, Period.parse("2026-12-01", None))
    assert overall.groups == ()


@pytest.mark.usefixtures("data")
def test_an_unknown_survey(database: Database) -> None:
    with pytest.raises(UserError) as raised:
        survey_results(database, "满意度", None, Period())
    assert str(raised.value) == "no survey named '满意度' (`ringcast survey list` shows them)"


def test_export_rows(database: Database, data: SurveyData) -> None:
    r1, r2, r3, r4, r5, r6 = data.responses
    a1, a2, a3, a4 = data.attempts
    with response_rows(database, NAME, Period()) as (question_ids, rows):
        assert question_ids == ["score", "callback", "old"]
        exported = list(rows)

    def row(
        id: int,
        started: tuple[int, int, int],
        complete: bool,
        campaign: str,
        agent: str | None,
        attempt: int | None,
        **answers: Answer,
    ) -> ResponseRow:
        start = at(*started)
        phone = PHONE if attempt else None
        ended = start.replace(second=40)
        return ResponseRow(id, start, ended, complete, campaign, agent, attempt, phone, answers)

    assert exported == [
        row(r1, (23, 1, 30), True, "秋季回访", "agent1", a1, score=Answer("5", "很满意", A.ANSWERED)),
        row(
            r2,
            (23, 23, 30),
            True,
            "秋季回访",
            "agent1",
            a2,
            score=Answer("1", "很不满意", A.ANSWERED),
            callback=Answer("1", "需要回电", A.ANSWERED),
        ),
        row(r3, (24, 2, 0), False, "冬季回访", "agent2", a3, score=Answer(None, None, A.INVALID)),
        row(r4, (24, 3, 0), False, "冬季回访", None, None, score=Answer(None, None, A.NO_INPUT)),
        row(r5, (24, 4, 0), True, "秋季回访", "agent2", a4, score=Answer("4", "满意", A.ANSWERED)),
        row(
            r6,
            (25, 0, 10),
            True,
            "秋季回访",
            "agent1",
            None,
            score=Answer("4", "满意", A.ANSWERED),
            old=Answer("2", "是", A.ANSWERED),
        ),
    ]


@pytest.mark.usefixtures("data")
def test_export_rows_over_a_period(database: Database) -> None:
    with response_rows(database, NAME, Period.parse("2026-11-25", None)) as (question_ids, rows):
        assert question_ids == ["score", "callback", "old"]
        assert [len(row.answers) for row in rows] == [2]
    with response_rows(database, NAME, Period.parse(None, "2026-11-23")) as (question_ids, rows):
        assert question_ids == ["score", "callback"]  # `old` was answered later
        assert [row.started_at for row in rows] == [at(23, 1, 30), at(23, 23, 30)]
