"""Survey responses as the FastAGI survey writes them, and how a broadcast call's lead is settled,
on SQLite and PostgreSQL: each answer at once with its meaning and tries, a low score's follow-up
SMS queued once (never to an opted-out lead), partial until the end; a broadcast campaign's answered
lead done when its survey was completed or its message played, retried when the survey was left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaigns import campaign_store, dial_store
from campaigns.campaign_store import CampaignEvent
from campaigns.config import CampaignConfig
from campaigns.persistence.db import Database
from campaigns.persistence.models import Lead, SmsMessage, SurveyAnswer, SurveyResponse
from campaigns.persistence.models.enums import CallbackState, LeadState, SmsEncoding, SmsState
from campaigns.surveys.document import Survey, parse_survey
from campaigns.surveys.responses import ResponseRef, SurveyedCall, end_response, open_response, record_answer
from campaigns.surveys.session import Record
from campaigns.surveys.store import create_survey
from ringcast.errors import UserError
from tests.db.test_dial_store import BY, LATER, NOW, add_list, answered_attempt, callbacks, create, row

pytestmark = pytest.mark.db

SURVEY = parse_survey(
    "name: csat\nquestions:\n"
    "  - id: score\n    prompt: {text: 请打分}\n    keys: {'1': 很差, '5': 很好}\n"
    "    follow_up: {keys: ['1'], sms: 很抱歉，我们会改进}\n"
    "  - {id: again, prompt: {text: 还会再来吗}, keys: {'1': 会, '2': 不会}}\n"
)


def survey_call(
    database: Database, survey: Survey = SURVEY, **given: object
) -> tuple[CampaignConfig, int, ResponseRef]:
    """A campaign with the survey, one lead answered, and its response opened."""
    add_list(database, "leads", row(1))
    survey_id = create_survey(database, survey)
    campaign = create(database, survey=survey.name, **given)
    attempt_id = answered_attempt(database, campaign)
    ref = ResponseRef(survey_id, 1, SurveyedCall(attempt_id, None, campaign.id))
    database.in_transaction(open_response, ref, NOW)
    return campaign, attempt_id, ref


def answers(database: Database) -> list[tuple[str, str | None, str | None, str, int]]:
    with database.session() as session:
        found = session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id))
        return [(a.question_id, a.key, a.meaning, a.result.value, a.tries) for a in found]


def test_each_answer_is_stored_with_its_meaning_and_the_response_ends_partial_or_complete(
    database: Database,
) -> None:
    campaign, attempt_id, ref = survey_call(database)
    score, again = SURVEY.questions
    database.in_transaction(record_answer, ref, Record("score", "5", "很好", 2), score, campaign, NOW)
    database.in_transaction(
        record_answer, ref, Record("again", None, None, 3, "no_input"), again, campaign, NOW
    )
    assert answers(database) == [("score", "5", "很好", "answered", 2), ("again", None, None, "no_input", 3)]
    with database.session() as session:
        response = session.scalars(select(SurveyResponse)).one()
        assert (response.attempt_id, response.partial, response.ended_at) == (attempt_id, True, None)
    database.in_transaction(end_response, ref, NOW + timedelta(seconds=30), complete=True)
    with database.session() as session:
        response = session.scalars(select(SurveyResponse)).one()
        assert response.partial is False and response.completed_at == response.ended_at
        assert response.ended_at == NOW + timedelta(seconds=30)


def test_a_low_score_queues_its_follow_up_sms_once(database: Database) -> None:
    campaign, attempt_id, ref = survey_call(database)
    score = SURVEY.questions[0]
    database.in_transaction(record_answer, ref, Record("score", "1", "很差", 1), score, campaign, NOW)
    with database.session() as session:
        sms = session.scalars(select(SmsMessage)).one()
        assert (sms.to_e164, sms.body, sms.state, sms.encoding, sms.segments) == (
            "+8613800000001",
            "很抱歉，我们会改进",
            SmsState.QUEUED,
            SmsEncoding.UCS2,
            1,
        )
        assert (sms.attempt_id, sms.campaign_id, sms.idempotency_key) == (
            attempt_id,
            campaign.id,
            f"survey-follow-up:{ref.id}:score",
        )


def test_no_follow_up_sms_to_a_lead_that_opted_out_or_for_other_keys(database: Database) -> None:
    campaign, _, ref = survey_call(database)
    with database.session() as session:
        session.execute(update(Lead).values(sms_opt_out=True))
    score = SURVEY.questions[0]
    database.in_transaction(record_answer, ref, Record("score", "1", "很差", 1), score, campaign, NOW)
    with database.session() as session:
        sms = session.scalars(select(SmsMessage)).one()  # written, and cancelled before any send
        assert (sms.state, sms.reason) == (SmsState.CANCELLED, "opted_out")
        assert len(session.scalars(select(SurveyAnswer)).all()) == 1  # the answer is kept all the same


@pytest.mark.parametrize(
    ("complete", "settled"), [(True, LeadState.DONE), (False, LeadState.RETRY)], ids=["completed", "left"]
)
def test_a_broadcast_lead_is_settled_by_what_became_of_its_survey(
    database: Database, complete: bool, settled: LeadState
) -> None:
    campaign, attempt_id, ref = survey_call(database, dial_mode="broadcast", max_lines=10)
    database.in_transaction(end_response, ref, NOW, complete=complete)
    assert database.in_transaction(dial_store.settle_undisposed, campaign, attempt_id, NOW) is True
    with database.session() as session:
        assert session.scalars(select(Lead.state)).one() is settled


def test_a_broadcast_message_lead_is_done_once_answered(database: Database) -> None:
    add_list(database, "leads", row(1))
    campaign = create(database, dial_mode="broadcast", max_lines=10, broadcast_message="custom/promo")
    attempt_id = answered_attempt(database, campaign)
    assert database.in_transaction(dial_store.settle_undisposed, campaign, attempt_id, NOW) is True
    with database.session() as session:
        assert session.scalars(select(Lead.state)).one() is LeadState.DONE


CALLING_BACK = parse_survey(
    "name: csat-callback\nquestions:\n"
    "  - id: score\n    prompt: {text: 请打分}\n    keys: {'1': 很差, '5': 很好}\n"
    "    follow_up: {keys: ['1'], callback_in_s: 3600}\n"
)


@pytest.mark.parametrize("disposed_first", [False, True], ids=["survey-first", "agent-first"])
def test_a_low_score_after_an_agent_call_has_an_agent_call_back_whatever_the_disposition(
    database: Database, disposed_first: bool
) -> None:
    campaign, attempt_id, ref = survey_call(database, CALLING_BACK)
    answer = (record_answer, ref, Record("score", "1", "很差", 1), CALLING_BACK.questions[0], campaign, LATER)
    if disposed_first:
        assert dial_store.dispose_attempt(database, campaign, attempt_id, "sale", LATER) is LeadState.DONE
    database.in_transaction(*answer)
    if not disposed_first:  # the agent's disposition comes during the survey, after the score
        assert dial_store.dispose_attempt(database, campaign, attempt_id, "sale", LATER) is LeadState.CALLBACK
    assert callbacks(database) == [(1, CallbackState.PENDING, LATER + timedelta(hours=1))]
    with database.session() as session:
        assert session.scalars(select(Lead.state)).one() is LeadState.CALLBACK


def test_a_broadcast_campaign_cannot_start_with_a_survey_that_asks_for_callbacks(database: Database) -> None:
    add_list(database, "leads", row(1))
    create_survey(database, CALLING_BACK)
    with pytest.raises(UserError, match="survey csat-callback has agents call respondents back"):
        create(database, dial_mode="broadcast", max_lines=5, survey="csat-callback")
        campaign_store.change_state(database, "秋季回访", CampaignEvent.START, BY, trunks=("carrier",))


def test_an_agents_own_callback_during_the_survey_brings_the_customers_forward(database: Database) -> None:
    campaign, attempt_id, ref = survey_call(database, CALLING_BACK)
    database.in_transaction(
        record_answer, ref, Record("score", "1", "很差", 1), CALLING_BACK.questions[0], campaign, LATER
    )
    sooner = LATER + timedelta(minutes=10)
    state = dial_store.dispose_attempt(
        database, campaign, attempt_id, "call_back_later", LATER, callback_at=sooner
    )
    assert state is LeadState.CALLBACK
    assert callbacks(database) == [(1, CallbackState.PENDING, sooner)]
