"""The IVR interpreter (IVR-2): what a call hears and where it goes for given keys, caller facts and
time, the trail it keeps (随路信息), and the guards against a stuck call."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.surveys.document import Prompt
from dialer.ivr.actions import (
    Collect,
    Dial,
    Digits,
    Hangup,
    HungUp,
    Play,
    RouteToAgent,
    RouteToQueue,
    RunSurvey,
    Timeout,
    Voicemail,
)
from dialer.ivr.facts import CallerFacts
from dialer.ivr.flow import Flow, parse_flow
from dialer.ivr.run import CallerInput, FlowRun
from dialer.ivr.script import events_from_keys, walk

SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_10 = datetime(2026, 12, 1, 10, tzinfo=SHANGHAI)
TUESDAY_20 = datetime(2026, 12, 1, 20, tzinfo=SHANGHAI)
CALLER = CallerFacts("+8613800138000")

FLOW = parse_flow(
    """
name: hotline
start: welcome
nodes:
  welcome: {type: play, prompt: {text: 您好}, next: open}
  open: {type: time, when: {hours: 09:00-18:00, days: mon-fri}, next: main, otherwise: closed}
  main:
    type: menu
    prompt: {text: 销售请按1，订单请按2}
    keys: {"1": sales, "2": order, "0": agent}
    retries: 1
    invalid_prompt: {text: 输入有误}
    timeout_prompt: {text: 您没有按键}
    on_invalid: agent
    variable: choice
  sales: {type: queue, queue: sales, priority: 2}
  order:
    type: read
    prompt: {text: 请输入订单号}
    variable: order
    min_digits: 4
    max_digits: 10
    retries: 0
    next: kind
  kind:
    type: condition
    branches: [{when: {variable: order, prefix: "8"}, next: business}]
    otherwise: bye
  business: {type: external, number: "+862088881234", prompt: {text: 正在转接}}
  agent: {type: agent, agent: alice}
  closed: {type: voicemail, queue: service}
  bye: {type: hangup, prompt: {text: 再见}, reason: order looked up}
"""
)
WELCOME, MENU, INVALID, NO_KEY, ORDER = (
    Prompt(text="您好"),
    Prompt(text="销售请按1，订单请按2"),
    Prompt(text="输入有误"),
    Prompt(text="您没有按键"),
    Prompt(text="请输入订单号"),
)
AT_MENU = Collect("main", MENU, 1, 5.0, "")
AT_ORDER = Collect("order", ORDER, 10, 5.0, "#")


def run(flow: Flow = FLOW, caller: CallerFacts = CALLER, at: datetime = TUESDAY_10) -> FlowRun:
    return FlowRun(flow, caller, at)


def test_a_key_takes_the_caller_to_its_queue_and_the_trail_keeps_the_way() -> None:
    call = run()
    assert call.start() == (Play(WELCOME), AT_MENU)
    assert not call.finished
    assert call.feed(Digits("1")) == (RouteToQueue("sales", 2),)
    assert call.finished
    trail = call.trail
    assert trail.path == ("welcome", "open", "main", "sales")
    assert trail.inputs == (CallerInput("main", "1", True),)
    assert dict(trail.variables) == {"choice": "1"}
    assert trail.outcome == "queue sales, priority +2"


def test_outside_the_hours_the_time_node_sends_the_call_to_voicemail() -> None:
    call = run(at=TUESDAY_20)
    assert call.start() == (Play(WELCOME), Voicemail("queue", "service"))
    assert call.trail.path == ("welcome", "open", "closed")


def test_the_time_of_day_chooses_the_queue_in_the_numbers_zone() -> None:
    """ACD-7: the day's queue during its hours, the evening's after, weekends to a third."""
    by_hour = parse_flow(
        """
name: shifts
start: day
nodes:
  day: {type: time, when: {hours: 09:00-18:00, days: mon-fri}, next: office, otherwise: evening}
  evening: {type: time, when: {hours: 18:00-23:00, days: mon-fri}, next: late, otherwise: weekend}
  office: {type: queue, queue: sales}
  late: {type: queue, queue: night-shift}
  weekend: {type: queue, queue: outsourced, priority: 1}
"""
    )
    saturday_10 = datetime(2026, 12, 5, 10, tzinfo=SHANGHAI)
    new_york_21 = datetime(2026, 12, 1, 8, tzinfo=ZoneInfo("America/New_York"))  # 21:00 in Shanghai
    assert run(by_hour, at=TUESDAY_10).start() == (RouteToQueue("sales", 0),)
    assert run(by_hour, at=TUESDAY_20).start() == (RouteToQueue("night-shift", 0),)
    assert run(by_hour, at=new_york_21).start() == (RouteToQueue("night-shift", 0),)
    assert run(by_hour, at=saturday_10).start() == (RouteToQueue("outsourced", 1),)


def test_misses_are_retried_with_their_prompt_then_go_where_the_menu_says() -> None:
    call = run()
    call.start()
    assert call.feed(Digits("7")) == (Play(INVALID), AT_MENU)
    assert call.feed(Digits("*")) == (RouteToAgent("alice"),)  # retries spent: on_invalid
    assert call.trail.outcome == "agent alice"
    assert call.trail.inputs == (CallerInput("main", "7", False), CallerInput("main", "*", False))
    assert call.trail.path == ("welcome", "open", "main", "agent")


def test_the_last_miss_decides_and_silence_without_on_timeout_hangs_up() -> None:
    call = run()
    call.start()
    assert call.feed(Digits("9")) == (Play(INVALID), AT_MENU)  # misses of either kind count together
    assert call.feed(Timeout()) == (Hangup("no input"),)
    call = run()
    call.start()
    assert call.feed(Timeout()) == (Play(NO_KEY), AT_MENU)
    assert call.feed(Digits("")) == (Hangup("no input"),)  # GET DATA's empty answer is a timeout
    assert call.finished and call.trail.outcome == "hang up (no input)"


def test_read_digits_without_the_terminator_into_a_variable_then_branch_on_them() -> None:
    call = run()
    call.start()
    assert call.feed(Digits("2")) == (AT_ORDER,)
    assert call.feed(Digits("80012345#")) == (Play(Prompt(text="正在转接")), Dial("+862088881234"))
    assert dict(call.trail.variables) == {"choice": "2", "order": "80012345"}
    assert call.trail.path == ("welcome", "open", "main", "order", "kind", "business")

    other = run()
    other.start()
    other.feed(Digits("2"))
    assert other.feed(Digits("1234")) == (Play(Prompt(text="再见")), Hangup("order looked up"))


@pytest.mark.parametrize("keys", ["123#", "12345678901", "12a4", "#"])
def test_a_read_refuses_too_few_too_many_or_other_keys(keys: str) -> None:
    call = run()
    call.start()
    call.feed(Digits("2"))
    assert call.feed(Digits(keys)) == (Hangup("invalid input"),)  # retries: 0, no on_invalid
    assert "order" not in call.trail.variables


def test_the_caller_hanging_up_ends_the_run_and_is_recorded() -> None:
    call = run()
    call.start()
    assert call.feed(HungUp()) == ()
    assert call.finished and call.trail.outcome == "caller hung up"
    with pytest.raises(RuntimeError, match="no node is waiting"):
        call.feed(Digits("1"))
    with pytest.raises(RuntimeError, match="started already"):
        call.start()


def test_the_trail_is_a_frozen_snapshot() -> None:
    call = run()
    call.start()
    before = call.trail
    call.feed(Digits("1"))
    assert before.path == ("welcome", "open", "main") and before.outcome is None
    with pytest.raises(TypeError):
        before.variables["choice"] = "9"  # type: ignore[index]
    assert call.trail.as_json() == {
        "flow": "hotline",
        "path": ["welcome", "open", "main", "sales"],
        "inputs": [{"node": "main", "keys": "1", "accepted": True}],
        "variables": {"choice": "1"},
        "outcome": "queue sales, priority +2",
    }


def test_the_instant_must_be_aware() -> None:
    with pytest.raises(ValueError, match="naive instant"):
        FlowRun(FLOW, CALLER, datetime(2026, 12, 1, 10))


CONDITIONS = parse_flow(
    """
name: screen
start: who
nodes:
  who:
    type: condition
    branches:
      - {when: {tag: malicious}, next: refuse}
      - {when: {tag: VIP}, next: vip}
      - {when: {field: level, one_of: [gold, platinum]}, next: vip}
      - {when: {region: [广东, Guangxi]}, next: south}
      - {when: {field: id}, next: known}
    otherwise: general
  refuse: {type: hangup, reason: malicious caller}
  vip: {type: queue, queue: service, priority: 5}
  south: {type: queue, queue: south}
  known: {type: survey, survey: welcome-back}
  general: {type: voicemail, agent: bob}
"""
)


@pytest.mark.parametrize(
    ("facts", "action"),
    [
        (CallerFacts("1", tags=frozenset({"Malicious", "vip"})), Hangup("malicious caller")),
        (CallerFacts("1", tags=frozenset({"vip"})), RouteToQueue("service", 5)),
        (CallerFacts("1", customer={"level": "gold"}), RouteToQueue("service", 5)),
        (CallerFacts("1", region="广东省"), RouteToQueue("south", 0)),
        (CallerFacts("1", region="guangxi"), RouteToQueue("south", 0)),
        (CallerFacts("1", region="广东省", customer={"id": 7}), RouteToQueue("south", 0)),  # first wins
        (
            CallerFacts("1", region="北京市", customer={"id": 7, "level": "silver"}),
            RunSurvey("known", "welcome-back"),
        ),
        (CallerFacts("1", customer={"id": ""}), Voicemail("agent", "bob")),  # an empty field has no value
        (CallerFacts("1"), Voicemail("agent", "bob")),
    ],
)
def test_conditions_read_the_callers_tags_record_and_region(facts: CallerFacts, action: object) -> None:
    assert FlowRun(CONDITIONS, facts, TUESDAY_10).start() == (action,)


def test_set_and_goto_move_on_without_input_and_a_loop_of_conditions_is_stopped() -> None:
    flow = parse_flow(
        """
name: loop
start: mark
nodes:
  mark: {type: set, variables: {lang: en}, next: check}
  check:
    type: condition
    branches: [{when: {variable: lang, equals: zh}, next: done}]
    otherwise: again
  again: {type: goto, next: check}
  done: {type: hangup}
"""
    )
    call = FlowRun(flow, CALLER, TUESDAY_10, step_limit=50)
    assert call.start() == (Hangup("loop"),)
    assert call.trail.path[:4] == ("mark", "check", "again", "check")
    assert len(call.trail.path) == 50 and dict(call.trail.variables) == {"lang": "en"}


def test_a_scripted_walk_prints_actions_and_inputs_and_hangs_up_when_keys_run_out() -> None:
    assert events_from_keys("2, ,timeout,HANGUP,80012345#") == [
        Digits("2"),
        Timeout(),
        Timeout(),
        HungUp(),
        Digits("80012345#"),
    ]
    assert events_from_keys("") == []
    assert walk(run(), events_from_keys("2")) == [
        'play "您好"',
        'collect at main: "销售请按1，订单请按2", up to 1 key(s)',
        "> 2",
        'collect at order: "请输入订单号", up to 10 key(s), ended by #',
        "> hangup (no more keys)",
    ]
    assert walk(run(), events_from_keys("1,2,3"))[-2:] == ["queue sales, priority +2", "not used: 2, 3"]


def test_every_final_action_prints_as_a_line() -> None:
    printed = [
        str(RouteToQueue("sales")),
        str(RouteToAgent("alice")),
        str(RouteToAgent("alice", "direct", 10)),
        str(Dial("10086")),
        str(Voicemail("agent", "bob")),
        str(RunSurvey("thanks", "csat")),
        str(Hangup("loop")),
        str(Play(Prompt(audio="custom/hi"))),
    ]
    assert printed == [
        "queue sales",
        "agent alice",
        "agent alice in queue direct, priority +10",
        "dial 10086",
        "voicemail of agent bob",
        "survey csat at thanks",
        "hang up (loop)",
        "play audio custom/hi",
    ]


ROUTING = parse_flow(
    """
name: routing
vip_priority: 10
start: who
nodes:
  who:
    type: condition
    branches: [{when: {tag: direct}, next: alice}]
    otherwise: queue
  queue: {type: queue, queue: national, priority: 2, area_routing: {广东: south, 北京市: north}}
  alice: {type: agent, agent: alice, queue: direct}
"""
)


@pytest.mark.parametrize(
    ("facts", "action"),
    [
        (CallerFacts("1", region="广东省"), RouteToQueue("south", 2)),  # 广东 stands for 广东省
        (CallerFacts("1", region="北京市"), RouteToQueue("north", 2)),
        (CallerFacts("1", region="西藏自治区"), RouteToQueue("national", 2)),  # not listed: the node's queue
        (CallerFacts("1"), RouteToQueue("national", 2)),  # region unknown
        (CallerFacts("1", region="广东省", tags=frozenset({"VIP"})), RouteToQueue("south", 12)),
        (CallerFacts("1", tags=frozenset({"direct"})), RouteToAgent("alice", "direct")),
        (CallerFacts("1", tags=frozenset({"direct", "vip"})), RouteToAgent("alice", "direct", 10)),
    ],
)
def test_area_routing_chooses_the_queue_and_vip_callers_get_the_flows_bump(
    facts: CallerFacts, action: object
) -> None:
    assert FlowRun(ROUTING, facts, TUESDAY_10).start() == (action,)


def test_an_agent_node_may_fall_back_to_its_queues_other_agents() -> None:
    flow = parse_flow(
        "name: n\nstart: a\nnodes: {a: {type: agent, agent: alice, queue: sales, fallback_after_s: 30}}"
    )
    (action,) = FlowRun(flow, CallerFacts("1"), TUESDAY_10).start()
    assert action == RouteToAgent("alice", "sales", 0, 30.0)
    assert str(action) == "agent alice in queue sales, any agent after 30 s"  # what `ivr test` shows


def test_without_a_vip_priority_a_vip_caller_keeps_the_nodes_priority() -> None:
    plain = parse_flow("name: n\nstart: q\nnodes: {q: {type: queue, queue: s, priority: 1}}")
    assert plain.vip_priority == 0
    vip = CallerFacts("1", tags=frozenset({"vip"}))
    assert FlowRun(plain, vip, TUESDAY_10).start() == (RouteToQueue("s", 1),)
