"""The `back` end of a flow (IVR-6): an agent's caller goes back to it, else to the node's fallback
queue; how it is validated, run and walked by `ringcast ivr test`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.surveys.document import Prompt
from dialer.ivr.actions import BackToAgent, Collect, Digits, Play, Timeout
from dialer.ivr.checks import check_flow, flow_problems
from dialer.ivr.facts import CallerFacts
from dialer.ivr.flow import BackNode, parse_flow
from dialer.ivr.problems import FlowError
from dialer.ivr.run import CallerInput, FlowRun
from dialer.ivr.script import events_from_keys, walk

AT = datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
VERIFY_ID = """
name: verify-id
start: ask
nodes:
  ask:
    type: read
    prompt: {text: 请输入身份证后六位，以井号结束}
    variable: id_number
    min_digits: 6
    max_digits: 6
    retries: 1
    next: back
    on_invalid: back
    on_timeout: back
  back: {type: back, prompt: {text: 正在为您转回坐席}, fallback: service}
"""


def run() -> FlowRun:
    return FlowRun(check_flow(VERIFY_ID), CallerFacts("+8613800138000"), AT)


def test_back_is_an_end_that_needs_its_fallback_queue() -> None:
    flow = parse_flow(VERIFY_ID)
    back = BackNode(type="back", prompt=Prompt(text="正在为您转回坐席"), fallback="service")
    assert flow.nodes["back"] == back
    assert flow_problems(flow) == []
    with pytest.raises(FlowError) as raised:
        parse_flow("name: t\nstart: a\nnodes:\n  a: {type: back}\n")
    assert raised.value.problems == ["nodes.a.fallback: Field required"]


def test_the_digits_read_are_kept_and_the_caller_goes_back() -> None:
    flow_run = run()
    [collect] = flow_run.start()
    assert isinstance(collect, Collect) and collect.node == "ask" and collect.terminator == "#"
    assert flow_run.feed(Digits("123456#")) == (Play(Prompt(text="正在为您转回坐席")), BackToAgent("service"))
    assert flow_run.finished
    trail = flow_run.trail
    assert trail.variables == {"id_number": "123456"}
    assert trail.inputs == (CallerInput("ask", "123456#", accepted=True),)
    assert trail.as_json()["outcome"] == "back to the agent who sent the caller (else queue service)"


def test_a_caller_who_keys_nothing_goes_back_too_without_a_value() -> None:
    flow_run = run()
    flow_run.start()
    flow_run.feed(Timeout())
    assert flow_run.feed(Timeout())[-1] == BackToAgent("service")
    assert flow_run.trail.variables == {}


def test_ivr_test_walks_it() -> None:
    assert walk(run(), events_from_keys("12#,654321#")) == [
        'collect at ask: "请输入身份证后六位，以井号结束", up to 6 key(s), ended by #',
        "> 12#",
        'collect at ask: "请输入身份证后六位，以井号结束", up to 6 key(s), ended by #',
        "> 654321#",
        'play "正在为您转回坐席"',
        "back to the agent who sent the caller (else queue service)",
    ]
