"""A survey's responses as they are given (SRV-1, SRV-2): opened, each answer stored at once, closed.

The FastAGI survey application writes through the engine's database thread, behind the call, in
order: `open_response` first, then one `record_answer` per question the moment the respondent's
key is known, then `end_response`. The response's id is only known once the open has run, so the
three share a `ResponseRef` that the open fills in (the thread runs writes in submission order).
A response is complete when the respondent reached the end (`completed_at`), partial otherwise:
a hang-up mid-survey keeps every answer given so far.

An answer whose question has a `follow_up` for its key sets it off at once: the follow-up SMS goes
in the outbox (SMS-8), keyed by response and question so that it is never queued twice, unless the
lead opted out of SMS; a call back is scheduled for the campaign's agents
(`dial_store.follow_up_callback`: the lead waits for it whatever the agent's disposition).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns import dial_store
from campaigns.config import CampaignConfig
from campaigns.persistence.models import Attempt, Lead, SmsMessage, SurveyAnswer, SurveyResponse
from campaigns.persistence.models.enums import AnswerResult
from campaigns.surveys.document import Question
from campaigns.surveys.session import Record
from sms.segments import segments

log = logging.getLogger(__name__)

FOLLOW_UP_PROVIDER = "default"  # the SMS engine's default provider sends follow-ups


@dataclass
class ResponseRef:
    """Who is answering which survey; `id` is set when the response row is written."""

    survey_id: int
    version: int
    attempt_id: int | None
    agent_id: int | None
    campaign_id: int | None
    id: int | None = None


def open_response(session: Session, ref: ResponseRef, at: datetime) -> None:
    response = SurveyResponse(
        survey_id=ref.survey_id,
        survey_version=ref.version,
        attempt_id=ref.attempt_id,
        agent_id=ref.agent_id,
        campaign_id=ref.campaign_id,
        started_at=at,
        partial=True,
    )
    session.add(response)
    session.flush()
    ref.id = response.id


def record_answer(
    session: Session,
    ref: ResponseRef,
    record: Record,
    question: Question,
    campaign: CampaignConfig,
    at: datetime,
) -> None:
    assert ref.id is not None, "the response is opened first"
    session.add(
        SurveyAnswer(
            response_id=ref.id,
            question_id=record.question,
            key=record.key,
            meaning=record.meaning,
            result=AnswerResult(record.reason),
            tries=record.tries,
            answered_at=at,
        )
    )
    follow_up = question.follow_up
    if follow_up is None or record.key not in follow_up.keys or ref.attempt_id is None:
        return
    if follow_up.sms is not None:
        _queue_follow_up_sms(session, ref, record.question, follow_up.sms, at)
    if follow_up.callback_in_s is not None:
        due = at + timedelta(seconds=follow_up.callback_in_s)
        dial_store.follow_up_callback(session, campaign, ref.attempt_id, due, at)


def end_response(session: Session, ref: ResponseRef, at: datetime, *, complete: bool) -> None:
    response = session.get_one(SurveyResponse, ref.id)
    response.ended_at = at
    if complete:
        response.completed_at, response.partial = at, False


def close_open_responses(session: Session, at: datetime) -> int:
    """End every response still open (its engine stopped mid-survey) as partial; how many."""
    result = session.execute(
        update(SurveyResponse).where(SurveyResponse.ended_at.is_(None)).values(ended_at=at, partial=True)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _queue_follow_up_sms(session: Session, ref: ResponseRef, question: str, body: str, at: datetime) -> None:
    lead = session.execute(
        select(Lead.id, Lead.e164, Lead.sms_opt_out)
        .join(Attempt, Attempt.lead_id == Lead.id)
        .where(Attempt.id == ref.attempt_id)
    ).one()
    if lead.sms_opt_out:
        log.info("survey response %s: lead %s opted out of SMS, no follow-up", ref.id, lead.id)
        return
    key = f"survey-follow-up:{ref.id}:{question}"
    if session.scalar(select(SmsMessage.id).where(SmsMessage.idempotency_key == key)) is not None:
        return
    encoding, parts = segments(body)
    session.add(
        SmsMessage(
            idempotency_key=key,
            to_e164=lead.e164,
            body=body,
            segments=parts,
            encoding=encoding,
            campaign_id=ref.campaign_id,
            lead_id=lead.id,
            attempt_id=ref.attempt_id,
            provider=FOLLOW_UP_PROVIDER,
            next_try_at=at,
        )
    )
