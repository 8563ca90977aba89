"""Survey results from counts, computed by hand: shares, CSAT, mean score, the rows of each output."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from campaigns.persistence.models.enums import AnswerResult
from campaigns.surveys.document import parse_survey
from reports.survey_export import Answer, ResponseRow, export_header
from reports.surveys import (
    AnswerCount,
    By,
    KeyCount,
    Period,
    QuestionResults,
    ResponseCount,
    SurveyResults,
    aggregate,
    display_rows,
    result_header,
    result_rows,
    results_json,
    score_scale,
)
from ringcast.errors import UserError
from tests.unit.test_survey_document import GOOD

A = AnswerResult
QUESTIONS = parse_survey(GOOD).questions  # score: 1..5, callback: 1 需要回电, 2 不需要
MEANINGS = {"1": "很不满意", "2": "不满意", "3": "一般", "4": "满意", "5": "很满意"}


def answered(group: str | None, question: str, key: str, count: int, meaning: str = "") -> AnswerCount:
    return AnswerCount(group, question, A.ANSWERED, key, meaning or None, count)


def test_a_score_is_keys_1_to_n_with_n_at_least_3() -> None:
    assert score_scale(["1", "2", "3"]) == 3
    assert score_scale(["5", "4", "3", "2", "1"]) == 5
    assert score_scale([str(k) for k in range(1, 10)]) == 9
    assert score_scale(["1", "2"]) is None
    assert score_scale(["0", "1", "2", "3", "4"]) is None
    assert score_scale(["1", "2", "3", "9"]) is None
    assert score_scale(["1", "2", "3", "#"]) is None


def test_distribution_csat_and_mean_per_group() -> None:
    groups = aggregate(
        QUESTIONS,
        [ResponseCount(None, 2, 0), ResponseCount("agent1", 6, 5), ResponseCount("agent0", 1, 1)],
        [
            answered("agent1", "score", "5", 2),
            answered("agent1", "score", "4", 1),
            answered("agent1", "score", "1", 1),
            AnswerCount("agent1", "score", A.INVALID, None, None, 2),
            answered("agent1", "callback", "1", 1),
            AnswerCount(None, "score", A.NO_INPUT, None, None, 2),
            answered("agent0", "score", "3", 1),
        ],
    )
    assert [(g.group, g.responses, g.complete, g.completion_rate) for g in groups] == [
        ("agent0", 1, 1, 1.0),
        ("agent1", 6, 5, 5 / 6),
        (None, 2, 0, 0.0),  # no agent: last
    ]
    agent0, agent1, nobody = (g.questions for g in groups)
    score, callback = agent1
    assert score == QuestionResults(
        question="score",
        answered=4,
        invalid=2,
        no_input=0,
        keys=(
            KeyCount("1", "很不满意", 1, 0.25),
            KeyCount("2", "不满意", 0, 0.0),
            KeyCount("3", "一般", 0, 0.0),
            KeyCount("4", "满意", 1, 0.25),
            KeyCount("5", "很满意", 2, 0.5),
        ),
        scale=5,
        csat=3 / 4,  # 4 and 5
        mean_score=(1 + 4 + 5 + 5) / 4,
    )
    assert callback == QuestionResults(
        "callback",
        1,
        0,
        0,
        (KeyCount("1", "需要回电", 1, 1.0), KeyCount("2", "不需要", 0, 0.0)),
        None,
        None,
        None,
    )
    assert (agent0[0].csat, agent0[0].mean_score) == (0.0, 3.0)
    assert (nobody[0].answered, nobody[0].no_input, nobody[0].csat, nobody[0].mean_score) == (
        0,
        2,
        None,
        None,
    )
    assert [key.share for key in nobody[0].keys] == [0.0] * 5


def test_keys_and_questions_only_the_answers_know_come_after_the_defined_ones() -> None:
    (group,) = aggregate(
        QUESTIONS,
        [ResponseCount("all", 3, 3)],
        [
            answered("all", "score", "5", 1),
            answered("all", "score", "0", 1, "旧选项"),  # a key of an older version: counted, not a score
            answered("all", "old", "2", 1, "是"),
            answered("all", "aaa", "1", 2, "好"),
        ],
    )
    assert [q.question for q in group.questions] == ["score", "callback", "aaa", "old"]
    score = group.questions[0]
    assert [(k.key, k.meaning, k.count, k.share) for k in score.keys][-2:] == [
        ("5", "很满意", 1, 0.5),
        ("0", "旧选项", 1, 0.5),
    ]
    assert (score.answered, score.csat, score.mean_score) == (2, 1.0, 5.0)
    assert group.questions[2] == QuestionResults(
        "aaa", 2, 0, 0, (KeyCount("1", "好", 2, 1.0),), None, None, None
    )


def test_the_stored_meaning_never_replaces_the_definitions() -> None:
    (group,) = aggregate(
        QUESTIONS, [ResponseCount("all", 1, 1)], [answered("all", "score", "5", 1, "旧的很满意")]
    )
    assert group.questions[0].keys[4] == KeyCount("5", "很满意", 1, 1.0)


def test_no_responses_no_groups() -> None:
    assert aggregate(QUESTIONS, [], []) == ()


def results() -> SurveyResults:
    """agent1: 4 responses, 3 complete; score 5, 5, 4 and one invalid; callback not asked."""
    groups = aggregate(
        QUESTIONS,
        [ResponseCount("agent1", 4, 3), ResponseCount(None, 1, 0)],
        [
            answered("agent1", "score", "5", 2),
            answered("agent1", "score", "4", 1),
            AnswerCount("agent1", "score", A.INVALID, None, None, 1),
            AnswerCount(None, "score", A.NO_INPUT, None, None, 1),
        ],
    )
    return SurveyResults("满意度回访", By.AGENT, Period(date(2026, 11, 1), None), groups)


def test_result_rows_repeat_group_and_question_figures() -> None:
    assert result_header(By.AGENT)[:2] == ["agent", "responses"]
    assert result_header(None)[0] == "survey"
    rows = list(result_rows(results()))
    head = ["agent1", 4, 3, 0.75]  # then CSAT 3/3 in the top two keys, mean (5 + 5 + 4) / 3
    assert rows[:7] == [
        [*head, "score", "1", "很不满意", 0, 0.0, 1.0, 4.67],
        [*head, "score", "2", "不满意", 0, 0.0, 1.0, 4.67],
        [*head, "score", "3", "一般", 0, 0.0, 1.0, 4.67],
        [*head, "score", "4", "满意", 1, 0.3333, 1.0, 4.67],
        [*head, "score", "5", "很满意", 2, 0.6667, 1.0, 4.67],
        [*head, "score", "invalid", None, 1, None, 1.0, 4.67],
        [*head, "score", "no_input", None, 0, None, 1.0, 4.67],
    ]
    assert rows[7:11] == [
        [*head, "callback", "1", "需要回电", 0, 0.0, None, None],
        [*head, "callback", "2", "不需要", 0, 0.0, None, None],
        [*head, "callback", "invalid", None, 0, None, None, None],
        [*head, "callback", "no_input", None, 0, None, None, None],
    ]
    assert rows[17] == ["(none)", 1, 0, 0.0, "score", "no_input", None, 1, None, None, None]
    assert len(rows) == 2 * 11


def test_display_rows_show_percentages_and_each_figure_once() -> None:
    rows = display_rows(results())
    assert rows[:3] == [
        ["agent1", "4", "3", "75.0%", "score", "1", "很不满意", "0", "0.0%", "100.0%", "4.67"],
        ["", "", "", "", "", "2", "不满意", "0", "0.0%", "", ""],
        ["", "", "", "", "", "3", "一般", "0", "0.0%", "", ""],
    ]
    assert rows[5] == ["", "", "", "", "", "invalid", "", "1", "", "", ""]
    assert rows[7] == ["", "", "", "", "callback", "1", "需要回电", "0", "0.0%", "", ""]
    assert rows[11] == ["(none)", "1", "0", "0.0%", "score", "1", "很不满意", "0", "0.0%", "", ""]


def test_results_json() -> None:
    data = results_json(results())
    assert {k: v for k, v in data.items() if k != "groups"} == {
        "survey": "满意度回访",
        "by": "agent",
        "since": "2026-11-01",
        "until": None,
    }
    agent1 = data["groups"][0]
    assert (agent1["group"], agent1["responses"], agent1["complete"], agent1["completion_rate"]) == (
        "agent1",
        4,
        3,
        0.75,
    )
    score = agent1["questions"][0]
    assert (score["question"], score["answered"], score["invalid"], score["scale"], score["csat"]) == (
        "score",
        3,
        1,
        5,
        1.0,
    )
    assert score["keys"][4] == {"key": "5", "meaning": "很满意", "count": 2, "share": 2 / 3}
    assert data["groups"][1]["group"] is None


def test_a_period_is_parsed_from_utc_days() -> None:
    assert Period.parse(None, None) == Period()
    assert Period.parse("2026-11-01", "2026-11-30") == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert Period.parse("2026-11-01", "2026-11-01").since == date(2026, 11, 1)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-11-31", None, "--since '2026-11-31' is not a date (give a UTC day as YYYY-MM-DD)"),
        (None, "yesterday", "--until 'yesterday' is not a date (give a UTC day as YYYY-MM-DD)"),
        (
            "2026-12-01",
            "2026-11-30",
            "--since 2026-12-01 is after --until 2026-11-30 (give the earlier day first)",
        ),
    ],
)
def test_a_bad_period_is_one_line(since: str | None, until: str | None, message: str) -> None:
    with pytest.raises(UserError) as raised:
        Period.parse(since, until)
    assert str(raised.value) == message


def test_an_export_row_neutralises_text_and_says_why_a_question_has_no_key() -> None:
    row = ResponseRow(
        id=7,
        started_at=datetime(2026, 11, 23, 1, 30, tzinfo=UTC),
        ended_at=None,
        complete=False,
        campaign="=HYPERLINK(1)",
        agent=None,
        attempt_id=None,
        phone="+8613800138000",
        answers={"score": Answer("5", "@很满意", A.ANSWERED), "callback": Answer(None, None, A.NO_INPUT)},
        queue="=售后",
        inbound_call_id=12,
    )
    questions = ["score", "callback", "old"]
    assert export_header(questions)[8:] == [
        "queue",
        "inbound_call_id",
        "score.key",
        "score.meaning",
        "callback.key",
        "callback.meaning",
        "old.key",
        "old.meaning",
    ]
    assert row.cells(questions) == [
        7,
        "2026-11-23T01:30:00+00:00",
        None,
        "partial",
        "'=HYPERLINK(1)",
        "",
        None,
        "+8613800138000",
        "'=售后",
        12,
        "5",
        "'@很满意",
        None,
        "(no_input)",
        None,
        None,
    ]
    assert row.as_json() == {
        "response_id": 7,
        "started_at": "2026-11-23T01:30:00+00:00",
        "ended_at": None,
        "status": "partial",
        "campaign": "=HYPERLINK(1)",
        "agent": None,
        "attempt_id": None,
        "phone": "+8613800138000",
        "queue": "=售后",
        "inbound_call_id": 12,
        "answers": {
            "score": {"key": "5", "meaning": "@很满意", "result": "answered"},
            "callback": {"key": None, "meaning": None, "result": "no_input"},
        },
    }
