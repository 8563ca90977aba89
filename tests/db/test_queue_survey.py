"""A queue's post-call survey (SRV-2 for inbound): `queue create|update --survey NAME|none`, audited,
one line for an unknown survey; responses of inbound calls linked to the call, agent and queue, and
the survey's results grouped by queue or kept to one queue (SRV-4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns import inbound_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, CallQueue, SurveyResponse
from campaigns.surveys.document import parse_survey
from campaigns.surveys.responses import ResponseRef, SurveyedCall, end_response, open_response, record_answer
from campaigns.surveys.session import Record
from campaigns.surveys.store import create_survey
from reports.survey_export import response_rows
from reports.surveys import By, Period, survey_results
from ringcast.errors import UserError
from tests.db.importing import Run
from tests.db.test_queue_cli import output, run  # noqa: F401 (the `run` fixture)
from tests.db.test_queue_store import add_agents
from tests.unit.test_survey_document import GOOD

pytestmark = pytest.mark.db

SURVEY = parse_survey(GOOD)  # 满意度回访
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_a_queue_is_given_a_survey_by_name_cleared_with_none_and_audited(
    run: Run,  # noqa: F811
    database: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    survey_id = create_survey(database, SURVEY)
    code, out, _ = output(run, capsys, "create", "support", "--survey", "满意度回访")
    assert code == 0 and out.endswith(", 0 agent(s), survey 满意度回访\n")
    code, out, _ = output(run, capsys, "show", "support", "--json")
    assert (json.loads(out)["survey"], json.loads(out)["survey_id"]) == ("满意度回访", survey_id)
    assert "post-call survey" in output(run, capsys, "show", "support")[1]

    code, out, err = output(run, capsys, "update", "support", "--survey", "nps")
    assert (code, out) == (2, "") and err.startswith("error: no survey named 'nps'") and err.count("\n") <= 2
    assert output(run, capsys, "update", "support", "--survey", "none")[0] == 0
    assert json.loads(output(run, capsys, "show", "support", "--json")[1])["survey"] is None

    with database.session() as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "queue").order_by(AuditEntry.id)
        ).all()
        assert [(entry.action, entry.details.get("survey_id", "-")) for entry in audited] == [
            ("queue.create", survey_id),
            ("queue.update", None),
        ]


def _inbound_response(database: Database, survey_id: int, queue: str | None, agent: int, key: str) -> int:
    """One inbound call answered by `agent` in `queue`, and its caller's complete response."""
    call_id = inbound_store.open_call(
        database,
        uniqueid=f"17000.{key}{queue}",
        linkedid=None,
        did="4008001000",
        caller="+8613800138000",
        region=None,
        arrived_at=NOW,
    )
    ref = ResponseRef(survey_id, 1, SurveyedCall(agent_id=agent, inbound_call_id=call_id, queue=queue))
    database.in_transaction(open_response, ref, NOW)
    score = SURVEY.questions[0]
    database.in_transaction(record_answer, ref, Record("score", key, score.keys[key], 1), score, None, NOW)
    database.in_transaction(end_response, ref, NOW + timedelta(seconds=20), complete=True)
    assert ref.id is not None
    return ref.id


def test_inbound_responses_are_linked_to_call_agent_and_queue_and_grouped_by_queue(
    database: Database,
) -> None:
    survey_id = create_survey(database, SURVEY)
    agents = add_agents(database, "li", "wang")
    with database.session() as session:
        session.add_all([CallQueue(name=name, settings={}) for name in ("support", "sales")])
    first = _inbound_response(database, survey_id, "support", agents["li"], "5")
    _inbound_response(database, survey_id, "support", agents["wang"], "1")
    _inbound_response(database, survey_id, "sales", agents["li"], "4")
    _inbound_response(database, survey_id, None, agents["li"], "3")  # a flow's survey: no queue

    with database.session() as session:
        response = session.get_one(SurveyResponse, first)
        queue = session.get_one(CallQueue, response.queue_id)
        assert (queue.name, response.agent_id, response.attempt_id) == ("support", agents["li"], None)
        assert response.inbound_call_id is not None and response.completed_at is not None

    by_queue = survey_results(database, "满意度回访", By.QUEUE, Period())
    assert [(g.group, g.responses) for g in by_queue.groups] == [("sales", 1), ("support", 2), (None, 1)]
    support = survey_results(database, "满意度回访", None, Period(), queue="support")
    [group] = support.groups
    assert group.responses == 2 and group.questions[0].mean_score == 3.0  # 5 and 1
    with pytest.raises(UserError, match="no queue named 'vip'"):
        survey_results(database, "满意度回访", None, Period(), queue="vip")
    with response_rows(database, "满意度回访", Period(), "sales") as (_, rows):
        [row] = list(rows)
        assert (row.queue, row.phone, row.agent) == ("sales", "+8613800138000", "li")
        assert row.inbound_call_id is not None and row.attempt_id is None
