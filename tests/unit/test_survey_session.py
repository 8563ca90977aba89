"""A respondent going through a survey: branching, retries on invalid keys and silence, partial ends."""

from __future__ import annotations

import pytest

from campaigns.surveys.document import Prompt, parse_survey
from campaigns.surveys.session import Ask, Finish, Record, Say, SurveySession
from tests.unit.test_survey_document import GOOD

SURVEY = parse_survey(GOOD)
INTRO, CLOSING = Prompt(text="您好，这里是回访电话"), Prompt(text="感谢您的配合，再见")
SCORE = Ask("score", SURVEY.questions[0].prompt, frozenset("12345"), 6.0)
CALLBACK = Ask("callback", SURVEY.questions[1].prompt, frozenset("12"), 5.0)
INVALID = Say(Prompt(text="输入有误"))


def test_a_low_score_branches_to_the_callback_offer_and_completes() -> None:
    session = SurveySession(SURVEY)
    assert session.start() == [Say(INTRO), SCORE]
    assert session.on_key("2") == [Record("score", "2", "不满意", 1), CALLBACK]
    assert session.on_key("1") == [Record("callback", "1", "需要回电", 1), Say(CLOSING), Finish(True)]
    assert session.finished


def test_a_high_score_ends_at_once() -> None:
    session = SurveySession(SURVEY)
    session.start()
    assert session.on_key("5") == [Record("score", "5", "很满意", 1), Say(CLOSING), Finish(True)]


def test_invalid_keys_and_silence_are_retried_then_recorded_unanswered() -> None:
    session = SurveySession(SURVEY)
    session.start()
    assert session.on_key("9") == [INVALID, SCORE]  # retries: 2 (the default)
    assert session.on_key(None) == [INVALID, SCORE]
    assert session.on_key("#") == [Record("score", None, None, 3, "invalid"), Say(CLOSING), Finish(False)]
    with pytest.raises(RuntimeError):
        session.on_key("1")


def test_a_retry_that_succeeds_counts_its_tries() -> None:
    session = SurveySession(SURVEY)
    session.start()
    session.on_key(None)
    assert session.on_key("4") == [Record("score", "4", "满意", 2), Say(CLOSING), Finish(True)]


def test_without_intro_closing_or_invalid_prompt_nothing_extra_is_said() -> None:
    survey = parse_survey("name: s\nquestions:\n  - {id: a, prompt: {text: A}, keys: {1: yes}, retries: 1}\n")
    session = SurveySession(survey)
    ask = Ask("a", Prompt(text="A"), frozenset("1"), 5.0)
    assert session.start() == [ask]
    assert session.on_key(None) == [ask]
    assert session.on_key(None) == [Record("a", None, None, 2, "no_input"), Finish(False)]
