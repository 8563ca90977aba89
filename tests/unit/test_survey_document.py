"""Survey documents (SRV-1): parsing, branching, and one clear line per problem with its path."""

from __future__ import annotations

import pytest

from campaigns.surveys.document import END, SurveyError, dump_survey, parse_survey

GOOD = """
name: 满意度回访
intro: {text: 您好，这里是回访电话}
questions:
  - id: score
    prompt: {text: 请为本次服务打分，满意请按5，不满意请按1}
    keys: {"1": 很不满意, "2": 不满意, "3": 一般, "4": 满意, "5": 很满意}
    timeout_s: 6
    invalid: {text: 输入有误}
    next: {"1": callback, "2": callback, default: end}
  - id: callback
    prompt: {audio: custom/callback-offer}
    keys: {"1": 需要回电, "2": 不需要}
closing: {text: 感谢您的配合，再见}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(SurveyError) as raised:
        parse_survey(text)
    assert "\n" not in str(raised.value)
    return raised.value.problems


def test_a_good_survey_parses_and_branches_by_answer() -> None:
    survey = parse_survey(GOOD)
    assert [q.id for q in survey.questions] == ["score", "callback"]
    assert survey.questions[0].retries == 2 and survey.questions[0].timeout_s == 6
    assert [survey.after("score", key) for key in "125"] == ["callback", "callback", END]
    assert survey.after("callback", "1") == END
    assert parse_survey(dump_survey(survey)) == survey  # JSON is YAML too


def test_without_next_the_survey_goes_on_in_order() -> None:
    survey = parse_survey(
        "name: s\nquestions:\n"
        "  - {id: a, prompt: {text: A}, keys: {1: yes, 2: no}}\n"  # as people write YAML
        "  - {id: b, prompt: {text: B}, keys: {'1': yes, '#': skip}}\n"
    )
    assert (survey.after("a", "1"), survey.after("b", "#")) == ("b", END)
    assert survey.questions[0].keys == {"1": "yes", "2": "no"}


def test_unknown_targets_bad_keys_and_missing_prompts_each_named_with_their_path() -> None:
    found = problems(
        "name: s\nquestions:\n"
        "  - {id: a, prompt: {text: A}, keys: {'1': yes, 'x': odd}, next: {'1': b, '2': a, default: zz}}\n"
        "  - {id: b, keys: {'1': yes}}\n"
        "  - {id: c, prompt: {text: C, audio: c}, keys: {'1': yes}}\n"
    )
    assert found == [
        "questions[1].prompt: Field required",
        "questions[2].prompt: give either text (spoken by TTS) or audio (a sound file), not both or neither",
    ]
    found = problems(
        "name: s\nquestions:\n"
        "  - {id: a, prompt: {text: A}, keys: {'1': yes, 'x': odd}, next: {'1': b, '2': a, default: zz}}\n"
        "  - {id: b, prompt: {text: B}, keys: {'1': yes}}\n"
    )
    assert found == [
        "questions[0].keys.x: a key is one of 0-9, * or #",
        "questions[0].next.2: not one of the question's keys (1, x)",
        "questions[0].next.default: no question zz (give a question id or end)",
    ]


def test_unreachable_questions_and_loops_without_exit() -> None:
    found = problems(
        "name: s\nquestions:\n"
        "  - {id: a, prompt: {text: A}, keys: {'1': yes}, next: {'1': b}}\n"
        "  - {id: b, prompt: {text: B}, keys: {'1': yes}, next: {default: a}}\n"
        "  - {id: c, prompt: {text: C}, keys: {'1': yes}}\n"
    )
    assert found == [
        "questions[2] (c): no answer leads to it",
        "questions[0] (a): every answer loops back without reaching the end",
        "questions[1] (b): every answer loops back without reaching the end",
    ]


def test_a_loop_with_an_exit_is_fine() -> None:
    survey = parse_survey(
        "name: s\nquestions:\n"
        "  - {id: a, prompt: {text: A}, keys: {'1': again, '2': done}, next: {'1': a, '2': end}}\n"
    )
    assert survey.after("a", "1") == "a"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: [", "line 1: not valid YAML or JSON"),
        ("- just a list", "the document must be a mapping with name and questions"),
        ("name: s\nquestions: []", "questions: List should have at least 1 item"),
        (
            "name: s\ncolour: red\nquestions: [{id: a, prompt: {text: A}, keys: {'1': y}}]",
            "colour: Extra inputs",
        ),
        (
            "name: s\nquestions: [{id: a, prompt: {text: A}, keys: {1: y}},"
            " {id: a, prompt: {text: B}, keys: {1: y}}]",
            "questions[1].id: a is used by questions[0] too",
        ),
    ],
)
def test_bad_documents(text: str, problem: str) -> None:
    assert problems(text)[0].startswith(problem)


def test_a_follow_up_acts_on_some_of_the_question_keys() -> None:
    with_follow_up = "    timeout_s: 6\n    follow_up: {keys: [1, 2], sms: 抱歉}\n"
    survey = parse_survey(GOOD.replace("    timeout_s: 6\n", with_follow_up))
    follow_up = survey.questions[0].follow_up
    assert follow_up is not None and (follow_up.keys, follow_up.sms) == (["1", "2"], "抱歉")
    assert not survey.asks_for_callbacks
    calling_back = GOOD.replace(
        "    timeout_s: 6\n", "    timeout_s: 6\n    follow_up: {keys: [1], callback_in_s: 600}\n"
    )
    assert parse_survey(calling_back).asks_for_callbacks
    found = problems(GOOD.replace("    timeout_s: 6\n", "    timeout_s: 6\n    follow_up: {keys: ['9']}\n"))
    assert found == [
        "questions[0].follow_up: give sms (its text) or callback_in_s"
        " (an agent calls back that many seconds later)"
    ]
    found = problems(
        GOOD.replace("    timeout_s: 6\n", "    timeout_s: 6\n    follow_up: {keys: ['9'], sms: x}\n")
    )
    assert found == ["questions[0].follow_up.keys: 9 is not one of the question's keys (1, 2, 3, 4, 5)"]
