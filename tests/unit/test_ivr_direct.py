"""Numbers dialled straight to an agent or a queue (ACD-9): the plan's `direct` route and where it
sends a caller, as a one-node flow would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer.ivr.actions import RouteToAgent, RouteToQueue
from dialer.ivr.did_plan import flow_for, parse_plan
from dialer.ivr.direct import DirectRoute, direct_final
from dialer.ivr.facts import CallerFacts
from dialer.ivr.problems import FlowError

CALLER = CallerFacts("+8613800138000")
TAGGED_VIP = CallerFacts("+8613800138000", tags=frozenset({"VIP"}))
AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_an_agents_number_asks_for_that_agent_in_its_own_queue_or_the_one_given() -> None:
    assert direct_final(DirectRoute(agent="wang"), CALLER) == RouteToAgent("wang", None, 0)
    assert direct_final(DirectRoute(agent="wang", queue="vip"), CALLER) == RouteToAgent("wang", "vip", 0)


def test_an_agents_number_with_a_fallback_passes_it_on() -> None:
    route = DirectRoute(agent="wang", fallback_after_s=30)
    final = direct_final(route, CALLER)
    assert final == RouteToAgent("wang", None, 0, 30)
    assert str(final) == "agent wang, any agent after 30 s"
    with pytest.raises(ValueError, match="a fallback is for a number that goes to an agent"):
        DirectRoute(queue="sales", fallback_after_s=30)


def test_a_queues_number_queues_the_caller_for_any_of_its_agents() -> None:
    assert direct_final(DirectRoute(queue="sales"), CALLER) == RouteToQueue("sales", 0)


def test_a_vip_caller_gets_the_routes_vip_priority_as_in_a_flow() -> None:
    route = DirectRoute(queue="sales", vip_priority=10)
    assert direct_final(route, TAGGED_VIP) == RouteToQueue("sales", 10)
    assert direct_final(route, CALLER) == RouteToQueue("sales", 0)
    agent = DirectRoute(agent="wang", vip_priority=7)
    assert direct_final(agent, TAGGED_VIP) == RouteToAgent("wang", None, 7)


def test_the_route_kept_in_the_trail_names_the_agent_and_the_queue_given() -> None:
    assert DirectRoute(agent="wang").target() == {"agent": "wang"}
    assert DirectRoute(queue="sales", blacklisted="busy").target() == {"queue": "sales"}
    assert DirectRoute(agent="wang", queue="vip").target() == {"agent": "wang", "queue": "vip"}


def test_a_direct_plan_runs_no_flow() -> None:
    plan = parse_plan({"direct": {"queue": "sales", "blacklisted": "busy"}}, "DID 4008005001")
    assert plan.direct == DirectRoute(queue="sales", blacklisted="busy")
    assert (plan.flows(), flow_for(plan, AT)) == ([], None)
    assert parse_plan({"flow": "day"}, "DID 1").direct is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            {"flow": "day", "direct": {"agent": "wang"}},
            "document: a number runs flows or goes straight to an agent or a queue, not both",
        ),
        (
            {"rules": [{"flow": "day", "hours": "09:00-18:00"}], "direct": {"queue": "sales"}},
            "document: a number runs flows or goes straight to an agent or a queue, not both",
        ),
        ({"direct": {}}, "direct: give the agent or the queue the number goes to"),
        ({"direct": {"queue": "sales", "vip_priority": 101}}, "direct.vip_priority: Input should be less"),
        ({"direct": {"queue": "sales", "blacklisted": "hangup"}}, "direct.blacklisted: Input should be"),
        ({"direct": {"queue": "sales", "music": "jazz"}}, "direct.music: Extra inputs are not permitted"),
    ],
)
def test_a_bad_direct_plan_is_refused_with_its_place(data: dict[str, object], problem: str) -> None:
    with pytest.raises(FlowError) as error:
        parse_plan(data, "DID 4008005001")
    [line] = error.value.problems
    assert line.startswith(problem)
