"""A survey's responses as they are given (SRV-1, SRV-2): opened, each answer stored at once, closed.

The FastAGI survey application writes through the engine's database thread, behind the call, in
order: `open_response` first, then one `record_answer` per question the moment the respondent's
key is known, then `end_response`. The response's id is only known once the open has run, so the
three share a `ResponseRef` that the open fills in (the thread runs writes in submission order).
A response is complete when the respondent reached the end (`completed_at`), partial otherwise:
a hang-up mid-survey keeps every answer given so far. The response is linked to the call it was
asked on (`SurveyedCall`): an outbound attempt, with its agent and campaign; or an inbound call,
with its agent and the queue that served it last (after the agent, SRV-2), or neither (a survey
node of its IVR flow).

An answer whose question has a `follow_up` for its key sets it off at once: the follow-up SMS goes
in the outbox (SMS-8), keyed by response and question so that it is never queued twice (the
sender cancels it if the number opted out); a call back is scheduled for the campaign's agents
(`dial_store.follow_up_callback`: the lead waits for it whatever the agent's disposition). A
numeric key is a score for the campaign's `survey_score` hang-up SMS rules (`sms.hangup`). Both
are an outbound attempt's: an inbound caller's answers set nothing off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns import dial_store
from campaigns.config import CampaignConfig
from campaigns.persistence.models import CallQueue, SurveyAnswer, SurveyResponse
from campaigns.persistence.models.enums import AnswerResult
from campaigns.surveys.document import Question
from campaigns.surveys.session import Record
from sms import hangup, store
from sms.hangup_rules import SurveyScored
from sms.outbox import E164_RULES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SurveyedCall:
    """The call a survey is asked on: an outbound attempt (its agent, its campaign) or an inbound
    call (its agent, and the queue, by name, that served it last)."""

    attempt_id: int | None = None
    agent_id: int | None = None
    campaign_id: int | None = None
    inbound_call_id: int | None = None
    queue: str | None = None


@dataclass
class ResponseRef:
    """Who is answering which survey; `id` is set when the response row is written."""

    survey_id: int
    version: int
    call: SurveyedCall
    id: int | None = None


def open_response(session: Session, ref: ResponseRef, at: datetime) -> None:
    call = ref.call
    queue_id = (
        None
        if call.queue is None
        else session.scalar(select(CallQueue.id).where(CallQueue.name == call.queue))
    )
    response = SurveyResponse(
        survey_id=ref.survey_id,
        survey_version=ref.version,
        attempt_id=call.attempt_id,
        agent_id=call.agent_id,
        campaign_id=call.campaign_id,
        inbound_call_id=call.inbound_call_id,
        queue_id=queue_id,
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
    campaign: CampaignConfig | None,
    at: datetime,
) -> None:
    """Store one answer; an outbound attempt's sets off its follow-ups (`campaign` is its)."""
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
    attempt_id = ref.call.attempt_id
    if attempt_id is None or campaign is None:
        return
    if record.key is not None and record.key.isdigit():
        hangup.fire(session, attempt_id, SurveyScored(int(record.key)), at)
    follow_up = question.follow_up
    if follow_up is None or record.key not in follow_up.keys:
        return
    if follow_up.sms is not None:
        _queue_follow_up_sms(session, ref.id, attempt_id, record.question, follow_up.sms, at)
    if follow_up.callback_in_s is not None:
        due = at + timedelta(seconds=follow_up.callback_in_s)
        dial_store.follow_up_callback(session, campaign, attempt_id, due, at)


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


def _queue_follow_up_sms(
    session: Session, response_id: int, attempt_id: int, question: str, body: str, at: datetime
) -> None:
    key = f"survey-follow-up:{response_id}:{question}"
    store.queue_to_customer(session, attempt_id, body, "survey", E164_RULES, at, key=key)
