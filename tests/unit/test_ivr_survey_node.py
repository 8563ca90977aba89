"""A flow's survey node (IVR-2, SRV-2) and its menu keys (the `#` check): the node asks its survey and
the flow goes on to `next`; `#` and unknown surveys are problems of the checks, not of the parse."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.surveys.document import Prompt
from dialer.ivr.actions import Collect, Digits, Hangup, HungUp, Play, RouteToQueue, RunSurvey, SurveyEnded
from dialer.ivr.checks import flow_problems
from dialer.ivr.facts import CallerFacts
from dialer.ivr.flow import SurveyNode, parse_flow
from dialer.ivr.run import CALLER_HUNG_UP, SURVEY_DONE, FlowRun
from dialer.ivr.script import events_from_keys, walk

AT = datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
CALLER = CallerFacts("+8613800138000")
THANKS = Prompt(text="请对本次服务评价")
MENU = Prompt(text="返回主菜单请按1")
FLOW = parse_flow(
    """
name: feedback
start: rate
nodes:
  rate: {type: survey, survey: csat, prompt: {text: 请对本次服务评价}, next: more}
  more: {type: menu, prompt: {text: 返回主菜单请按1}, keys: {"1": sales}}
  sales: {type: queue, queue: sales}
"""
)


def test_a_survey_node_asks_its_survey_then_the_flow_goes_on_to_next() -> None:
    run = FlowRun(FLOW, CALLER, AT)
    assert run.start() == (Play(THANKS), RunSurvey("rate", "csat"))
    assert not run.finished
    assert run.feed(SurveyEnded()) == (Collect("more", MENU, 1, 5.0, ""),)
    assert run.feed(Digits("1")) == (RouteToQueue("sales"),)
    assert run.trail.path == ("rate", "more", "sales") and run.trail.outcome == "queue sales"


def test_a_hang_up_during_the_survey_ends_the_run_and_keys_do_not_answer_a_survey() -> None:
    run = FlowRun(FLOW, CALLER, AT)
    run.start()
    with pytest.raises(RuntimeError, match="does not answer node rate"):
        run.feed(Digits("5"))
    assert run.feed(HungUp()) == () and run.finished
    assert run.trail.outcome == CALLER_HUNG_UP and run.trail.path == ("rate",)


def test_a_survey_node_without_next_reads_as_before_and_hangs_up_after_the_survey() -> None:
    legacy = parse_flow("name: old\nstart: s\nnodes:\n  s: {type: survey, survey: csat}\n")
    node = legacy.nodes["s"]
    assert isinstance(node, SurveyNode) and node.next is None and node.exits() == []
    assert flow_problems(legacy) == []  # an end, as a final node is
    run = FlowRun(legacy, CALLER, AT)
    assert run.start() == (RunSurvey("s", "csat"),)
    assert run.feed(SurveyEnded()) == (Hangup(SURVEY_DONE),) and run.finished


def test_ivr_test_walks_through_a_survey_without_using_any_keys() -> None:
    assert walk(FlowRun(FLOW, CALLER, AT), events_from_keys("1")) == [
        'play "请对本次服务评价"',
        "survey csat at rate",
        "> survey ended",
        'collect at more: "返回主菜单请按1", up to 1 key(s)',
        "> 1",  # the first key goes to the node after the survey
        "queue sales",
    ]


def test_an_unknown_survey_is_a_problem_with_its_path_when_the_surveys_are_known() -> None:
    assert flow_problems(FLOW, known_survey={"nps"}.__contains__) == [
        "nodes.rate.survey: no survey csat (`ringcast survey list` shows them)"
    ]
    assert flow_problems(FLOW, known_survey={"csat"}.__contains__) == []
    assert flow_problems(FLOW) == []  # not known: not checked


def test_a_menu_key_hash_parses_but_is_a_problem_of_the_flow() -> None:
    flow = parse_flow(
        "name: h\nstart: m\nnodes:\n"
        '  m: {type: menu, prompt: {text: x}, keys: {"1": q, "#": q}}\n'
        "  q: {type: queue, queue: sales}\n"
    )
    assert set(flow.nodes["m"].exits()) == {("keys.1", "q"), ("keys.#", "q")}
    assert flow_problems(flow) == [
        "nodes.m.keys.#: # ends what the caller keys on the PBX, so a menu never hears it: use 0-9 or *"
    ]
