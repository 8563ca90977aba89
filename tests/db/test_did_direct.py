"""Numbers dialled straight to an agent or a queue (直拨, ACD-9): `ringcast ivr did set DID --agent A`
or `--queue Q`, stored as the DID's plan (the agent by login name, given by name or number),
checked against the agents and queues there are, never with flows, audited."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
import typer
from sqlalchemy import select

import cli.main
from campaigns import agent_store, ivr_store, queue_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry
from cli.ivr import ivr_app
from dialer.ivr.did_plan import DidPlan
from dialer.ivr.direct import DirectRoute
from ringcast.errors import UserError
from tests.db.importing import Run, cli_on
from tests.db.test_ivr_cli import output
from tests.db.test_ivr_store import CHANGE, GOOD

pytestmark = pytest.mark.db

DID = "4008005001"


def add_agents(database: Database, numbers: Mapping[str, str | None]) -> dict[str, int]:
    """Agents by name, with their agent numbers (工号); their ids."""
    return {
        name: agent_store.create_agent(
            database,
            name,
            display_name=None,
            dial_string=f"PJSIP/{name}",
            agent_number=number,
            groups=[],
            change=CHANGE,
        ).id
        for name, number in numbers.items()
    }


@pytest.fixture
def floor(database: Database) -> None:
    """Agents wang (8001, in `sales`), li (8002, in no queue), zhao (deactivated); queues sales, vip."""
    add_agents(database, {"wang": "8001", "li": "8002", "zhao": None})
    agent_store.deactivate_agent(database, "zhao", CHANGE)
    for queue in ("sales", "vip"):
        queue_store.create_queue(database, queue, {}, CHANGE)
    queue_store.add_member(database, "sales", "wang", CHANGE)


@pytest.fixture
def run(database: Database, floor: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The CLI with the ivr commands, on `database`, with the `floor`'s agents and queues."""
    run = cli_on(database, monkeypatch, tmp_path)
    app = typer.Typer(no_args_is_help=True)
    app.add_typer(ivr_app, name="ivr")
    monkeypatch.setattr(cli.main, "app", app)
    return run


def _plan_audited(database: Database) -> list[object]:
    with database.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "inbound_number.set"))
        return [(row.actor, row.entity_id, row.details["plan"]) for row in rows]


def test_an_agents_number_is_kept_by_its_login_name_and_listed(
    database: Database, run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    assert output(run, capsys, "did", "set", DID, "--agent", "8001", "--actor", "ops") == (
        0,
        f"DID {DID}: straight to agent wang\n",
        "",
    )
    stored = ivr_store.get_number(database, DID)
    assert stored is not None and stored.plan == DidPlan(direct=DirectRoute(agent="wang"))
    args = ("--agent", "li", "--queue", "vip", "--vip-priority", "5", "--blacklisted", "busy")
    assert output(run, capsys, "did", "set", "4008005002", *args)[1] == (
        "DID 4008005002: straight to agent li, queue vip\n"
    )
    assert output(run, capsys, "did", "set", "4008005003", "--queue", "sales")[1] == (
        "DID 4008005003: straight to queue sales\n"
    )
    code, out, _ = output(run, capsys, "did", "list", "--json")
    assert code == 0
    assert [(n["did"], n["plan"], n["flow_now"]) for n in json.loads(out)] == [
        (DID, {"direct": {"agent": "wang"}}, None),
        (
            "4008005002",
            {"direct": {"agent": "li", "queue": "vip", "vip_priority": 5, "blacklisted": "busy"}},
            None,
        ),
        ("4008005003", {"direct": {"queue": "sales"}}, None),
    ]
    assert _plan_audited(database)[0] == ("ops", DID, {"direct": {"agent": "wang"}})


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--agent", "nobody"), "no agent named or numbered 'nobody' (`ringcast agent list` shows them)"),
        (("--agent", "9999"), "no agent named or numbered '9999' (`ringcast agent list` shows them)"),
        (("--agent", "zhao", "--queue", "sales"), "agent zhao is deactivated"),
        (
            ("--agent", "li"),
            "agent li is in no queue for its calls to wait in"
            " (give --queue, or `ringcast queue member add QUEUE li` first)",
        ),
        (("--queue", "support"), "no queue named 'support' (`ringcast queue list` shows them)"),
        (
            ("--agent", "wang", "--queue", "support"),
            "no queue named 'support' (`ringcast queue list` shows them)",
        ),
        (
            ("--agent", "wang", "--flow", "day"),
            "--agent/--queue: a number goes straight there or runs flows (--flow, --rule, --zone), not both",
        ),
        (
            ("--queue", "sales", "--rule", "flow=day hours=09:00-18:00"),
            "--agent/--queue: a number goes straight there or runs flows (--flow, --rule, --zone), not both",
        ),
        (
            ("--flow", "day", "--vip-priority", "5"),
            "--vip-priority, --blacklisted and --fallback-after go with --agent or --queue:"
            " a flow has its own settings",
        ),
        (
            ("--queue", "sales", "--vip-priority", "101"),
            f"DID {DID}: 1 problem(s): direct.vip_priority: Input should be less than or equal to 100",
        ),
        (
            ("--queue", "sales", "--fallback-after", "30s"),
            f"DID {DID}: 1 problem(s): direct: a fallback is for a number that goes to an agent",
        ),
        (
            ("--agent", "wang", "--fallback-after", "soon"),
            "--fallback-after 'soon': not a duration: give seconds or e.g. 10s, 10m, 2h, 1d",
        ),
        (
            ("--queue", "sales", "--blacklisted", "hangup"),
            f"DID {DID}: 1 problem(s): direct.blacklisted: Input should be 'message' or 'busy'",
        ),
    ],
)
def test_a_bad_direct_number_is_refused_in_one_line_and_nothing_is_stored(
    database: Database,
    run: Run,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    args: tuple[str, ...],
    error: str,
) -> None:
    ivr_store.save_flow(database, GOOD, CHANGE, new=True, activate=True)
    assert output(run, capsys, "did", "set", DID, *args) == (2, "", f"error: {error}\n")
    assert ivr_store.get_number(database, DID) is None


def test_a_number_turns_from_flows_to_direct_and_back(database: Database, floor: None) -> None:
    ivr_store.save_flow(database, GOOD, CHANGE, new=True, activate=True)
    ivr_store.set_number(database, DID, DidPlan(flow="day"), CHANGE)
    direct = ivr_store.set_number(database, DID, DidPlan(direct=DirectRoute(queue="sales")), CHANGE)
    assert (direct.plan.flows(), direct.plan.direct) == ([], DirectRoute(queue="sales"))
    ivr_store.deactivate_flow(database, "day", CHANGE)  # no number names it any more
    assert ivr_store.activate_flow(database, "day", CHANGE).active
    again = ivr_store.set_number(database, DID, DidPlan(flow="day"), CHANGE)
    assert (again.plan.flow, again.plan.direct) == ("day", None)


def test_an_agent_or_queue_a_direct_number_names_stays_until_the_number_goes_elsewhere(
    database: Database, floor: None
) -> None:
    ivr_store.set_number(database, DID, DidPlan(direct=DirectRoute(agent="wang")), CHANGE)
    ivr_store.set_number(database, "4008005002", DidPlan(direct=DirectRoute(queue="vip")), CHANGE)
    with pytest.raises(UserError, match=f"agent wang takes the calls of direct number {DID}"):
        agent_store.deactivate_agent(database, "wang", CHANGE)
    with pytest.raises(UserError, match="queue vip takes the calls of direct number 4008005002"):
        queue_store.delete_queue(database, "vip", CHANGE)
    assert [agent.name for agent in agent_store.list_agents(database)] == ["li", "wang"], "nothing changed"
    ivr_store.set_number(database, DID, DidPlan(direct=DirectRoute(queue="sales")), CHANGE)
    ivr_store.set_number(database, "4008005002", DidPlan(direct=DirectRoute(queue="sales")), CHANGE)
    assert agent_store.deactivate_agent(database, "wang", CHANGE)
    queue_store.delete_queue(database, "vip", CHANGE)


def test_a_direct_agents_number_falls_back_to_its_queue_after_the_time_given(
    database: Database, run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--agent", "wang", "--queue", "sales", "--fallback-after", "45s")
    assert output(run, capsys, "did", "set", DID, *args)[1] == (
        f"DID {DID}: straight to agent wang, queue sales, then any agent of its queue after 45 s\n"
    )
    stored = ivr_store.get_number(database, DID)
    assert stored is not None
    assert stored.plan.direct == DirectRoute(agent="wang", queue="sales", fallback_after_s=45)
    assert _plan_audited(database)[-1][2] == {
        "direct": {"agent": "wang", "queue": "sales", "fallback_after_s": 45.0}
    }


def test_a_direct_agent_is_not_taken_out_of_the_only_queue_its_calls_wait_in(
    database: Database, floor: None
) -> None:
    ivr_store.set_number(database, DID, DidPlan(direct=DirectRoute(agent="wang")), CHANGE)
    with pytest.raises(
        UserError, match=f"agent wang takes the calls of direct number {DID} in its only queue"
    ):
        queue_store.remove_member(database, "sales", "wang", CHANGE)
    queue_store.add_member(database, "vip", "wang", CHANGE)  # another queue: its calls wait there then
    queue_store.remove_member(database, "sales", "wang", CHANGE)
    ivr_store.set_number(database, DID, DidPlan(direct=DirectRoute(agent="wang", queue="sales")), CHANGE)
    queue_store.remove_member(database, "vip", "wang", CHANGE)  # its number names the queue they wait in
