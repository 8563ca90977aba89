"""Surveys on inbound calls end to end on the lab (SRV-2, IVR-2): the carrier calls the pbx's DIDs.

After the agent: the caller presses 1 at the hotline's menu and is queued to `sales`, whose
survey is `inbound-csat`; the agent (a bot on the carrier) takes the call and hangs up on it; the
caller stays on for the survey, presses 5, and the response is stored complete, linked to the
inbound call (which ended answered when the survey began), its agent and `sales`; the agent is in
wrap-up meanwhile. In a flow: a DID whose flow starts with a survey node asks the survey, then
goes on to its next node; the response is linked to the inbound call, with neither agent nor queue.

The caller's script has a 5 for every prompt after the menu's 1: the queue's music may or may not
be heard before the agent takes the call (a 5 then goes into the agent's conference, unheeded), so
the survey's question gets a 5 either way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from campaigns import ivr_store, queue_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import CallQueue, SurveyAnswer, SurveyResponse
from campaigns.persistence.models.enums import InboundOutcome
from campaigns.surveys.document import parse_survey
from campaigns.surveys.store import create_survey
from dialer.asterisk.ami import AmiLink
from dialer.asterisk.carrier_caller import InboundCaller, call_pbx
from dialer.asterisk.lab import Lab
from dialer.asterisk.prompts import PromptLibrary
from dialer.engine import running_engine
from dialer.ivr.did_plan import DidPlan
from ringcast.settings import load_settings
from tests.integration.test_inbound import _agent, _agent_until
from tests.support.inbound import HOTLINE_DID, QUEUE, inbound_calls, prepare_inbound
from tests.support.live_campaign import CAMPAIGN
from tests.support.waiting import until

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

CALLER_NUMBER = "13800138000"
FEEDBACK_DID = "4008009100"
SURVEY = """
name: inbound-csat
language: en
intro: {text: "Before you go: one question."}
questions:
  - id: score
    prompt: {text: Please rate the call from one to five.}
    keys: {"1": very poor, "2": poor, "3": fair, "4": good, "5": very good}
    timeout_s: 4
    retries: 2
closing: {text: Thank you. Goodbye.}
"""
FEEDBACK_FLOW = """
name: feedback
language: en
start: rate
nodes:
  rate: {type: survey, survey: inbound-csat, next: bye}
  bye: {type: hangup, prompt: {text: Have a nice day.}}
"""


@pytest.fixture
async def engine(lab: Lab, empty_database_url: str) -> AsyncIterator[tuple[Database, httpx.AsyncClient]]:
    database = Database(empty_database_url)  # on SQLite and on PostgreSQL
    database.upgrade()
    now = datetime.now(UTC)
    prepare_inbound(database, now)
    survey = parse_survey(SURVEY)
    PromptLibrary.from_settings(load_settings()).render_missing(survey)
    create_survey(database, survey)
    change = Change("inbound surveys", now)
    queue_store.update_queue(database, QUEUE, {"survey": survey.name}, change)
    ivr_store.save_flow(database, FEEDBACK_FLOW, change, new=True, activate=True)
    ivr_store.set_number(database, FEEDBACK_DID, DidPlan(flow="feedback"), change)
    async with running_engine(database, load_settings()) as client:
        yield database, client
    database.dispose()


def _responses(database: Database) -> list[tuple[SurveyResponse, list[tuple[str, str | None]]]]:
    with database.session() as session:
        responses = session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)).all()
        answers = session.execute(
            select(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.key).order_by(
                SurveyAnswer.id
            )
        ).all()
        session.expunge_all()
    return [(r, [(q, k) for rid, q, k in answers if rid == r.id]) for r in responses]


async def test_after_the_agent_hangs_up_the_caller_answers_the_queues_survey(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, client = engine
    await _agent(client, "/login", {"campaign": CAMPAIGN})
    started = time.time()
    caller = InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1555", hang_up_after_s=60)
    await call_pbx(carrier_ami, caller)
    on_call = await _agent_until(client, "on_call")
    await until(
        lambda: bool(inbound_calls(database)) and inbound_calls(database)[0].answered_at is not None,
        "answered",
    )
    await asyncio.sleep(1.0)
    await _agent(client, "/hangup")  # the agent ends the call: the caller goes on to the survey
    await _agent_until(client, "wrap_up")
    await until(lambda: any(r.ended_at for r, _ in _responses(database)), "the survey ended", 40)

    [(response, answers)] = _responses(database)
    [call] = inbound_calls(database)
    with database.session() as session:
        sales = session.scalars(select(CallQueue.id).where(CallQueue.name == QUEUE)).one()
    assert answers == [("score", "5")] and response.completed_at is not None and not response.partial
    assert (response.inbound_call_id, response.queue_id, response.agent_id) == (
        call.id,
        sales,
        on_call["agent_id"],
    )
    assert (response.attempt_id, response.campaign_id) == (None, None)
    assert call.outcome is InboundOutcome.ANSWERED and call.agent_id == on_call["agent_id"]
    assert call.ended_at is not None and call.ended_at <= response.started_at, (
        "the call ends as the survey starts"
    )
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=HOTLINE_DID)[0].ended_at), "hung up")
    [carried] = lab.carrier_log(since=started - 1, number=HOTLINE_DID)
    assert carried.responded.startswith("15"), carried.responded
    assert carried.duration_s is not None and carried.duration_s < 60, "hung up by the survey's end"


async def test_a_flows_survey_node_asks_the_survey_then_the_flow_goes_on(
    engine: tuple[Database, httpx.AsyncClient], lab: Lab, carrier_ami: AmiLink
) -> None:
    database, _ = engine
    started = time.time()
    await call_pbx(carrier_ami, InboundCaller(FEEDBACK_DID, CALLER_NUMBER, script="5", hang_up_after_s=40))
    await until(
        lambda: bool(inbound_calls(database)) and inbound_calls(database)[0].ended_at is not None, "ended", 40
    )
    [(response, answers)] = _responses(database)
    [call] = inbound_calls(database)
    assert answers == [("score", "5")] and response.completed_at is not None
    assert (response.inbound_call_id, response.queue_id, response.agent_id) == (call.id, None, None)
    assert call.trail is not None and call.trail["path"] == ["rate", "bye"]
    assert call.trail["outcome"] == "hang up (flow end)" and call.outcome is InboundOutcome.IVR_ONLY
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=FEEDBACK_DID)[0].ended_at), "hung up")
    [carried] = lab.carrier_log(since=started - 1, number=FEEDBACK_DID)
    assert carried.responded == "5" and carried.duration_s is not None and carried.duration_s < 40
