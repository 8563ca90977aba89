"""Blending's stored side: `campaign create|update --inbound-reserve N` (stored, shown, refused when
negative), `agent login --inbound-only` (what the engine is asked), and the agents report over an
inbound-only agent's state log (campaign NULL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

import cli.agent_cmd
from campaigns import campaign_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, AgentStateLog, Campaign
from tests.db.importing import Run
from tests.db.test_campaign_cli import json_of, output, run  # noqa: F401 (the `run` fixture)
from tests.db.test_report_agents import CHEN_DAY, SPRING, ZHAO_DAY, add_day, report

pytestmark = pytest.mark.db


def test_the_inbound_reserve_is_stored_shown_and_updated(
    run: Run,  # noqa: F811
    database: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    created = json_of(run, capsys, "campaign", "create", "秋季回访", "--inbound-reserve", "2")
    assert created["inbound_reserve"] == 2
    assert json_of(run, capsys, "campaign", "show", "秋季回访")["inbound_reserve"] == 2
    assert run("campaign", "update", "秋季回访", "--max-occupancy", "0.9") == 0
    assert campaign_store.load_campaign(database, "秋季回访").inbound_reserve == 2  # kept by other updates
    assert run("campaign", "update", "秋季回访", "--inbound-reserve", "0") == 0
    assert campaign_store.load_campaign(database, "秋季回访").inbound_reserve == 0
    assert json_of(run, capsys, "campaign", "create", "春季促销")["inbound_reserve"] == 0


def test_a_negative_reserve_is_one_line_and_writes_nothing(
    run: Run,  # noqa: F811
    database: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = output(run, capsys, "campaign", "create", "秋季回访", "--inbound-reserve", "-1")
    assert (code, out) == (2, "")
    assert "campaign inbound_reserve: Input should be greater than or equal to 0" in err
    assert err.count("\n") == 1
    with database.session() as session:
        assert session.scalar(select(Campaign.id)) is None


def test_login_inbound_only_asks_the_engine_for_no_campaign(
    run: Run,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asked: list[tuple[str, dict[str, Any] | None]] = []

    def engine(path: str, body: dict[str, Any] | None = None, method: str = "POST") -> dict[str, Any]:
        asked.append((path, body))
        return {"agent": "wang", "state": "ready"}

    monkeypatch.setattr(cli.agent_cmd, "_agent_call", engine)
    assert output(run, capsys, "agent", "login", "wang", "--inbound-only") == (0, "agent wang: ready\n", "")
    assert run("agent", "login", "li") == 0
    assert asked == [
        ("/agents/wang/login", {"campaign": None, "inbound_only": True}),
        ("/agents/li/login", {"campaign": None, "inbound_only": False}),
    ]


def test_an_inbound_only_agents_time_is_in_the_report_but_in_no_campaigns(database: Database) -> None:
    add_day(database)
    with database.session() as session:
        chen = session.scalar(select(Agent.id).where(Agent.name == "chen"))
        session.execute(update(AgentStateLog).where(AgentStateLog.agent_id == chen).values(campaign_id=None))
    assert report(database, agent="chen").rows == [[*CHEN_DAY, 1]]
    assert report(database, campaign=SPRING).rows == [[*ZHAO_DAY, 1]]  # chen logged in to no campaign
