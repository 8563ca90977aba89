"""Keypress surveys end to end on the lab (SRV-1, SRV-2, DIAL-5): the engine's FastAGI survey
against the carrier's scripted respondents.

Each respondent's number carries its script (`carrier_plan.respondent_number`): per prompt, press
a key (valid or not), stay silent, or hang up. The pure `SurveySession` run over the same script
says beforehand what must be stored for every call; the carrier's own log says what each
respondent really did. Both are compared with the database, call by call: answers and their
tries, partial or complete, the lead's end, the follow-up SMS of a low score.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from campaigns import campaign_store
from campaigns.campaign_store import CampaignEvent
from campaigns.compliance.blocklist_store import Change
from campaigns.config import CampaignSpec
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, Callback, Lead, SmsMessage, SurveyAnswer, SurveyResponse
from campaigns.persistence.models.enums import CallOutcome, LeadState
from campaigns.surveys.document import Survey, parse_survey
from campaigns.surveys.session import Finish, Record, SurveySession
from campaigns.surveys.store import create_survey
from dialer.asterisk.carrier_log import CarrierCall
from dialer.asterisk.carrier_plan import (
    RESPOND_HANG_UP,
    RESPOND_SILENT,
    respondent_number,
    zone_at_local_hour,
)
from dialer.asterisk.lab import Lab
from dialer.asterisk.prompts import PromptLibrary
from dialer.engine import running_engine
from dialer.live.bot_agents import BotAgents, create_lab_agents
from dialer.live.lab_lists import add_lab_list
from ringcast.settings import load_settings

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

CALLS = int(os.environ.get("RINGCAST_SURVEY_CALLS", "100"))
LINES = 30
SURVEY = (Path(__file__).parents[2] / "docs" / "examples" / "csat-survey.yaml").read_text(encoding="utf-8")
EDGE_SCRIPTS = ["51", "12", "999", "888", "0", "10", "98521", "5", "290", "3"]


@dataclass(frozen=True)
class Expected:
    """What a respondent following `script` must leave behind."""

    script: str  # only what the respondent acts on: the survey ends after its last character
    answers: list[tuple[str, str | None, str, int]]  # question, key, result, tries
    complete: bool


def expected(survey: Survey, script: str) -> Expected:
    """Run the pure session over the script: each question asked takes the script's next character
    (silence once the script is used up); a hang-up ends it."""
    session = SurveySession(survey)
    commands, used, answers = session.start(), 0, []
    while True:
        for command in commands:
            if isinstance(command, Record):
                answers.append((command.question, command.key, command.reason, command.tries))
            elif isinstance(command, Finish):
                return Expected(script[:used], answers, command.complete)
        action = script[used] if used < len(script) else RESPOND_SILENT
        used = min(used + 1, len(script))
        if action == RESPOND_HANG_UP:
            return Expected(script[:used], answers, False)
        commands = session.on_key(None if action == RESPOND_SILENT else action)


def scripts(survey: Survey, count: int) -> list[Expected]:
    """`count` respondents: the edge cases, then random ones, each cut to what it acts on."""
    rng = random.Random(6)
    raw = EDGE_SCRIPTS + [
        "".join(rng.choice("1234512345129980") for _ in range(rng.randint(1, 6))) for _ in range(count)
    ]
    return [expected(survey, script) for script in raw[:count]]


def _start(database: Database, name: str, spec: dict[str, object], now: datetime) -> None:
    change = Change("survey-e2e", now)
    base = {"caller_id": "4008001234", "preset": "cn", "lists": [{"name": name}]}
    campaign_store.create(database, name, CampaignSpec.parse(base | spec), change, trunks=["carrier"])
    campaign_store.change_state(database, name, CampaignEvent.START, change, trunks=["carrier"])


@pytest.fixture
async def survey_lab(lab: Lab, empty_database_url: str) -> AsyncIterator[tuple[Database, httpx.AsyncClient]]:
    database = Database(empty_database_url)  # on SQLite and on PostgreSQL
    database.upgrade()
    survey = parse_survey(SURVEY)
    PromptLibrary.from_settings(load_settings()).render_missing(survey)
    create_survey(database, survey)
    async with running_engine(database, load_settings()) as client:
        yield database, client
    database.dispose()


async def _until_all_ended(database: Database, leads: int, timeout_s: float, surveys: int = 0) -> None:
    """Every lead's call has ended, and its survey (one after an agent outlives the agent's attempt)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with database.session() as session:
            calls = session.scalar(select(func.count()).where(Attempt.ended_at.is_not(None)))
            surveyed = session.scalar(select(func.count()).where(SurveyResponse.ended_at.is_not(None)))
        if (calls or 0) >= leads and (surveyed or 0) >= surveys:
            return
        await asyncio.sleep(1.0)
    raise AssertionError(
        f"{calls} of {leads} calls, {surveyed} of {surveys} surveys ended in {timeout_s:.0f} s"
    )


async def _until_running(client: httpx.AsyncClient, campaign: str) -> None:
    """The engine has picked the started campaign up (it looks every second)."""
    deadline = time.monotonic() + 10
    while not (await client.get(f"/campaigns/{campaign}/status")).json().get("running"):
        assert time.monotonic() < deadline, f"campaign {campaign} not running in the engine"
        await asyncio.sleep(0.2)


def _stored(database: Database) -> dict[str, tuple[SurveyResponse, list[SurveyAnswer], Lead, Attempt]]:
    """Each number's (one) response, its answers in order, its lead and attempt."""
    with database.session() as session:
        rows = session.execute(
            select(SurveyResponse, Attempt, Lead)
            .join(Attempt, Attempt.id == SurveyResponse.attempt_id)
            .join(Lead, Lead.id == Attempt.lead_id)
        ).all()
        answers = session.scalars(
            select(SurveyAnswer).order_by(SurveyAnswer.answered_at, SurveyAnswer.id)
        ).all()
        stored = {}
        for response, attempt, lead in rows:
            assert lead.e164 not in stored, f"{lead.e164}: more than one response"
            given = [a for a in answers if a.response_id == response.id]
            stored[lead.e164] = (response, given, lead, attempt)
        session.expunge_all()
    return stored


def _check_respondent(
    number: str,
    want: Expected,
    stored: tuple[SurveyResponse, list[SurveyAnswer], Lead, Attempt],
    carrier: CarrierCall,
) -> None:
    response, answers, _, attempt = stored
    assert carrier.responded == want.script, f"{number}: the respondent acted on {carrier.responded!r}"
    got = [(a.question_id, a.key, a.result.value, a.tries) for a in answers]
    assert got == want.answers, f"{number} ({want.script}): stored {got}, expected {want.answers}"
    assert response.partial is not want.complete and (response.completed_at is not None) is want.complete
    assert response.ended_at is not None and attempt.outcome is CallOutcome.ANSWERED
    survey = parse_survey(SURVEY)
    for answer in answers:  # each key's meaning as the survey had it
        keys = next(q.keys for q in survey.questions if q.id == answer.question_id)
        assert answer.meaning == (keys[answer.key] if answer.key else None)


async def test_a_survey_campaign_stores_what_each_respondent_pressed(
    survey_lab: tuple[Database, httpx.AsyncClient], lab: Lab
) -> None:
    database, _ = survey_lab
    survey = parse_survey(SURVEY)
    respondents = {
        respondent_number(n, want.script or "8"): want for n, want in enumerate(scripts(survey, CALLS))
    }
    now, started = datetime.now(UTC), time.time()
    add_lab_list(database, "survey-e2e", dict.fromkeys(respondents, zone_at_local_hour(14, now)), now)
    spec = {"dial_mode": "broadcast", "survey": "csat", "max_lines": LINES, "calls_per_second": 10}
    _start(database, "survey-e2e", spec, now)

    await _until_all_ended(database, len(respondents), 60 + CALLS * 2.0, surveys=len(respondents))
    stored = _stored(database)
    carrier = {call.number: call for call in lab.carrier_log(since=started - 1)}
    with database.session() as session:
        outcomes = {
            lead.e164: (lead.state, attempt.outcome, attempt.hangup_cause_text)
            for attempt, lead in session.execute(select(Attempt, Lead).join(Lead, Lead.id == Attempt.lead_id))
        }
    missing = {n: (outcomes.get(n), carrier.get(n)) for n in respondents if n not in stored}
    assert not missing, f"no survey response: {missing}"
    assert set(stored) == set(respondents) == set(carrier)
    for number, want in respondents.items():
        _check_respondent(number, want, stored[number], carrier[number])
        lead = stored[number][2]
        assert lead.state in ((LeadState.DONE,) if want.complete else (LeadState.RETRY, LeadState.EXHAUSTED))
    with database.session() as session:
        sms = {row.to_e164: row for row in session.scalars(select(SmsMessage))}
    low = {n for n, want in respondents.items() if any(a[:2] == ("score", "1") for a in want.answers)}
    assert set(sms) == low and low, "one follow-up SMS per score of 1, none else"
    assert all(row.body == "We are sorry. A manager will call you." for row in sms.values())
    assert any(not w.complete for w in respondents.values()) and any(w.complete for w in respondents.values())


async def test_a_broadcast_plays_its_message_to_every_human_amd_finds(
    survey_lab: tuple[Database, httpx.AsyncClient], lab: Lab
) -> None:
    database, _ = survey_lab
    # two humans, an answering machine, a busy number (carrier_plan: the last digit says which)
    numbers = ["+861380000" + plan for plan in ("1103", "2112", "0014", "0016")]
    now, started = datetime.now(UTC), time.time()
    add_lab_list(database, "broadcast-e2e", dict.fromkeys(numbers, zone_at_local_hour(14, now)), now)
    spec = {"dial_mode": "broadcast", "broadcast_message": "hello", "max_lines": 5, "amd": True}
    _start(database, "broadcast-e2e", spec, now)
    await _until_all_ended(database, len(numbers), timeout_s=60)
    carrier = {call.number: call for call in lab.carrier_log(since=started - 1)}
    with database.session() as session:
        leads = {lead.e164: lead for lead in session.scalars(select(Lead))}
        attempts = {a.lead_id: a for a in session.scalars(select(Attempt))}
    humans, machine, busy = numbers[:2], numbers[2], numbers[3]
    for number in humans:
        attempt = attempts[leads[number].id]
        assert attempt.outcome is CallOutcome.ANSWERED and attempt.amd_result == "human"
        assert leads[number].state is LeadState.DONE  # message_played
        talk_s = carrier[number].talk_s
        assert talk_s is not None and talk_s < 5  # AMD, the message, then the pbx hung up
    assert attempts[leads[machine].id].outcome is CallOutcome.MACHINE  # hung up on, no message
    assert attempts[leads[busy].id].outcome is CallOutcome.BUSY


async def test_the_customer_stays_on_for_the_post_call_survey_after_the_agent(
    survey_lab: tuple[Database, httpx.AsyncClient], lab: Lab
) -> None:
    database, client = survey_lab
    # a score of 1 has the agents call back too
    text = SURVEY.replace("name: csat", "name: csat-callback").replace(
        "sms: We", "callback_in_s: 600, sms: We"
    )
    survey = parse_survey(text)
    create_survey(database, survey)
    respondents = {
        respondent_number(n, s): expected(survey, s) for n, s in enumerate(["5", "12", "90", "41"])
    }
    now, started = datetime.now(UTC), time.time()
    change = Change("survey-e2e", now)
    create_lab_agents(database, "csat-bots", ["csat1"], change)
    add_lab_list(database, "post-call", dict.fromkeys(respondents, zone_at_local_hour(14, now)), now)
    _start(
        database,
        "post-call",
        {
            "dial_mode": "progressive",
            "group": "csat-bots",
            "survey": "csat-callback",
            "abandon_message": "vm-goodbye",
        },
        now,
    )
    bots = BotAgents(client, ["csat1"], "post-call", wrap_s=0.5, talk_s=2.0)
    await _until_running(client, "post-call")
    await bots.start()
    try:
        await _until_all_ended(database, len(respondents), 120, surveys=len(respondents))
    finally:
        await bots.stop()
    stored = _stored(database)
    carrier = {call.number: call for call in lab.carrier_log(since=started - 1) if call.number in respondents}
    with database.session() as session:
        agent_id = session.scalars(select(Attempt.agent_id).where(Attempt.agent_id.is_not(None))).first()
    assert set(stored) == set(respondents)
    for number, want in respondents.items():
        _check_respondent(number, want, stored[number], carrier[number])
        response, _, _, attempt = stored[number]
        assert attempt.bridged_at is not None and response.agent_id == attempt.agent_id == agent_id
        assert response.started_at > attempt.bridged_at  # after the agent, on the same call
        assert attempt.disposition_id is not None  # the agent's, given during the survey
        lead = stored[number][2]
        called_back = any(answer[:2] == ("score", "1") for answer in want.answers)
        assert (lead.state is LeadState.CALLBACK) is called_back, f"{number}: {lead.state}"
    with database.session() as session:
        due = session.scalars(select(Callback.due_at).where(Callback.created_by == "survey")).all()
    assert len(due) == 1 and due[0] > datetime.now(UTC)  # in about 10 minutes
