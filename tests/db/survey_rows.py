"""Survey responses the results and export tests start from, with the figures they must give.

Survey 满意度回访 (`GOOD`: score 1-5, then callback 1-2 after a 1 or a 2), two agents, two campaigns,
over three UTC days; r2 starts at 23:30 UTC on the 23rd, already the 24th in Shanghai. r6 answers a
question `old` the current definition no longer has. Another survey's response must count nowhere.

| response | agent  | campaign | started (UTC)    | complete | attempt | answers                  |
|----------|--------|----------|------------------|----------|---------|--------------------------|
| r1       | agent1 | 秋季回访 | 2026-11-23 01:30 | yes      | a1      | score 5                  |
| r2       | agent1 | 秋季回访 | 2026-11-23 23:30 | yes      | a2      | score 1, callback 1      |
| r3       | agent2 | 冬季回访 | 2026-11-24 02:00 | no       | a3      | score invalid            |
| r4       | -      | 冬季回访 | 2026-11-24 03:00 | no       | -       | score no_input           |
| r5       | agent2 | 秋季回访 | 2026-11-24 04:00 | yes      | a4      | score 4                  |
| r6       | agent1 | 秋季回访 | 2026-11-25 00:10 | yes      | -       | score 4, old 2 (旧:是)   |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, Attempt, Campaign, Survey, SurveyAnswer, SurveyResponse
from campaigns.persistence.models.enums import AnswerResult, CallOutcome, CompliancePreset, DialMode
from campaigns.surveys.document import dump_survey, parse_survey
from tests.db.rows import Seed
from tests.unit.test_survey_document import GOOD

NAME = "满意度回访"
PHONE = "+8613800138000"  # the seed's lead
A = AnswerResult
MEANINGS = {
    "score": {"1": "很不满意", "4": "满意", "5": "很满意"},
    "callback": {"1": "需要回电"},
    "old": {"2": "是"},  # in the survey's first version only
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


RESPONSES = [  # agent (number), campaign, started, complete, with an attempt, answers
    (1, "autumn", at(23, 1, 30), True, True, {"score": "5"}),
    (1, "autumn", at(23, 23, 30), True, True, {"score": "1", "callback": "1"}),
    (2, "winter", at(24, 2), False, True, {"score": "invalid"}),
    (None, "winter", at(24, 3), False, False, {"score": "no_input"}),
    (2, "autumn", at(24, 4), True, True, {"score": "4"}),
    (1, "autumn", at(25, 0, 10), True, False, {"score": "4", "old": "2"}),
]


@dataclass(frozen=True)
class SurveyData:
    responses: list[int]  # r1..r6
    attempts: list[int]  # a1..a4


def add_survey_data(database: Database, seed: Seed) -> SurveyData:
    with database.session() as session:
        survey = Survey(name=NAME, version=2, definition=json.loads(dump_survey(parse_survey(GOOD))))
        other = Survey(name="other", definition=json.loads(dump_survey(parse_survey(GOOD))))
        winter = Campaign(
            name="冬季回访", dial_mode=DialMode.BROADCAST, compliance_preset=CompliancePreset.CN
        )
        agents = [
            Agent(name=f"agent{n}", display_name=f"座席{n}", dial_string=f"PJSIP/agent{n}") for n in (1, 2)
        ]
        session.add_all([survey, other, winter, *agents])
        session.flush()
        campaign_ids = {"autumn": seed.campaign_id, "winter": winter.id}
        attempts = [
            Attempt(
                lead_id=seed.lead_id,
                campaign_id=campaign_ids[campaign],
                e164=PHONE,
                dialed_at=started - timedelta(minutes=1),
                answered_at=started,
                ended_at=started + timedelta(minutes=2),
                outcome=CallOutcome.ANSWERED,
            )
            for _, campaign, started, _, attempted, _ in RESPONSES
            if attempted
        ]
        session.add_all(attempts)
        session.flush()
        agent_ids: dict[int | None, int | None] = {None: None}
        agent_ids.update((n, agent.id) for n, agent in enumerate(agents, start=1))
        attempt_ids = iter(attempt.id for attempt in attempts)
        responses = []
        for agent, campaign, started, complete, attempted, answers in RESPONSES:
            ended = started + timedelta(seconds=40)
            response = SurveyResponse(
                survey_id=survey.id,
                survey_version=2 if started.day > 23 else 1,
                attempt_id=next(attempt_ids) if attempted else None,
                agent_id=agent_ids[agent],
                campaign_id=campaign_ids[campaign],
                started_at=started,
                completed_at=ended if complete else None,
                partial=not complete,
                ended_at=ended,
            )
            session.add(response)
            session.flush()
            responses.append(response.id)
            session.add_all(
                _answer(response.id, question, given, started + timedelta(seconds=10))
                for question, given in answers.items()
            )
        noise = SurveyResponse(
            survey_id=other.id,
            survey_version=1,
            agent_id=agent_ids[1],
            campaign_id=seed.campaign_id,
            started_at=at(23, 2),
        )
        session.add(noise)
        session.flush()
        session.add(
            SurveyAnswer(
                response_id=noise.id, question_id="score", key="1", meaning="很不满意", answered_at=at(23, 2)
            )
        )
        return SurveyData(responses, [attempt.id for attempt in attempts])


def _answer(response_id: int, question: str, given: str, answered_at: datetime) -> SurveyAnswer:
    """`given`: a key, or `invalid` / `no_input`."""
    if given in (A.INVALID, A.NO_INPUT):
        return SurveyAnswer(
            response_id=response_id, question_id=question, result=A(given), tries=3, answered_at=answered_at
        )
    meaning = MEANINGS[question][given]
    return SurveyAnswer(
        response_id=response_id, question_id=question, key=given, meaning=meaning, answered_at=answered_at
    )
