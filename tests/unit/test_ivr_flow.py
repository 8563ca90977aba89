"""IVR flow documents (IVR-2): parsing, one line per problem with its path, and the checks that keep a
caller from being stranded (unknown targets, unreachable nodes, loops without exit, missing sounds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.surveys.document import Prompt
from dialer.ivr.checks import check_flow, flow_problems
from dialer.ivr.flow import MenuNode, QueueNode, ReadNode, VoicemailNode, parse_flow
from dialer.ivr.problems import FlowError

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "ivr-hotline.yaml"

SMALL = """
name: small
start: welcome
nodes:
  welcome: {type: play, prompt: {text: 您好}, next: main}
  main:
    type: menu
    prompt: {audio: custom/main}
    keys: {1: sales, "*": bye}
    on_invalid: bye
    on_timeout: bye
  sales: {type: queue, queue: sales, priority: 3}
  bye: {type: hangup, prompt: {text: 再见}}
"""


def shape_problems(text: str) -> list[str]:
    with pytest.raises(FlowError) as raised:
        parse_flow(text)
    assert "\n" not in str(raised.value)
    return raised.value.problems


def nodes(text: str) -> str:
    """A flow document with these nodes (YAML lines indented under `nodes:`), starting at `a`."""
    return "name: t\nstart: a\nnodes:\n" + text


def test_a_good_flow_parses_with_its_defaults() -> None:
    flow = parse_flow(SMALL)
    assert (flow.name, flow.language, flow.zone, flow.start) == ("small", "zh", "Asia/Shanghai", "welcome")
    menu = flow.nodes["main"]
    assert isinstance(menu, MenuNode)
    assert menu.keys == {"1": "sales", "*": "bye"}  # YAML's number key read as the key people typed
    assert (menu.timeout_s, menu.retries, menu.variable) == (5.0, 2, None)
    assert flow.nodes["sales"] == QueueNode(type="queue", queue="sales", priority=3)
    assert [path for path, _ in flow.placed_prompts()] == [
        "nodes.welcome.prompt",
        "nodes.main.prompt",
        "nodes.bye.prompt",
    ]
    assert list(flow.prompts()) == [Prompt(text="您好"), Prompt(audio="custom/main"), Prompt(text="再见")]
    assert flow_problems(flow) == []


def test_the_documented_example_is_valid() -> None:
    flow = check_flow(EXAMPLE.read_text(encoding="utf-8"))
    assert flow.name == "hotline" and len(flow.nodes) == 15
    order = flow.nodes["order"]
    assert isinstance(order, ReadNode)
    assert (order.variable, order.min_digits, order.max_digits, order.terminator) == ("order", 6, 12, "#")


def test_json_is_read_too_and_numbers_are_node_ids() -> None:
    flow = parse_flow(
        '{"name": "j", "start": 1, "nodes": {"1": {"type": "goto", "next": 2}, "2": {"type": "hangup"}}}'
    )
    assert flow.start == "1" and flow.nodes["1"].exits() == [("next", "2")]


def test_shape_problems_are_named_by_node_and_field_without_the_type() -> None:
    found = shape_problems(
        nodes(
            "  a: {type: menu, prompt: {text: x}, keys: {'1': b, '12': b, x: b}}\n"
            "  b: {type: menu, prompt: {text: x}, keys: {}}\n"
            "  c: {type: read, prompt: {text: x}, variable: 9lives, min_digits: 4, max_digits: 2, next: a}\n"
            "  d: {type: voicemail, agent: alice, queue: sales}\n"
            "  e: {type: playback, prompt: {text: x}}\n"
            "  f: {prompt: {text: x}}\n"
            "  g: {type: play, prompt: {text: x, audio: y}, next: a, colour: red}\n"
            "  h: {type: external, number: call-me}\n"
            "  i: {type: condition, branches: [{when: {tag: vip, variable: x}, next: a}], otherwise: a}\n"
            "  j: {type: condition, branches: [{when: {region: 广东, equals: x}, next: a}], otherwise: a}\n"
            "  k: {type: set, variables: {'bad name': x}, next: a}\n"
            "  l: {type: queue, queue: sales, priority: 11}\n"
            "  m: {type: queue, queue: sales, area_routing: {}}\n"
            "  n: {type: agent, agent: alice, fallback_after_s: -1}\n"
        )
    )
    kinds = "play, menu, read, condition, time, set, goto, queue, agent, external, voicemail, survey"
    kinds += ", back, hangup"
    assert found == [
        "nodes.a: keys 12, x: a key is one of 0-9, * or #",
        "nodes.b: a menu needs at least one key in keys",
        "nodes.c.variable: '9lives': a variable is a letter or _, then letters, digits or _ (32 at most)",
        "nodes.d: give the box's owner: agent or queue, not both or neither",
        f"nodes.e: type 'playback' is not one of {kinds}",
        f"nodes.f: give its type, one of {kinds}",
        "nodes.g.prompt: give either text (spoken by TTS) or audio (a sound file), not both or neither",
        "nodes.g.colour: Extra inputs are not permitted",
        "nodes.h.number: give the number to dial, digits with an optional +, e.g. 13800138000",
        "nodes.i.branches[0].when: test one thing: variable, field, tag or region",
        "nodes.j.branches[0].when: compare a variable or field with one of equals, one_of or prefix",
        "nodes.k: 'bad name': a variable is a letter or _, then letters, digits or _ (32 at most)",
        "nodes.l.priority: Input should be less than or equal to 10",
        "nodes.m.area_routing: Dictionary should have at least 1 item after validation, not 0",
        "nodes.n.fallback_after_s: Input should be greater than or equal to 0",
    ]


def test_the_read_digits_must_be_in_order() -> None:
    found = shape_problems(
        nodes("  a: {type: read, prompt: {text: x}, variable: v, min_digits: 4, max_digits: 2, next: a}\n")
    )
    assert found == ["nodes.a: max_digits 2 is below min_digits 4"]


def test_document_level_problems() -> None:
    assert shape_problems("name: t\nzone: Mars/Olympus\nnodes: {}\n") == [
        "zone: 'Mars/Olympus' is not an IANA time zone, e.g. Asia/Shanghai",
        "start: Field required",
        "nodes: Dictionary should have at least 1 item after validation, not 0",
    ]
    screening = "vip_priority: 101\nblacklisted: drop\n"
    assert shape_problems(nodes("  a: {type: hangup}\n") + screening) == [
        "vip_priority: Input should be less than or equal to 100",
        "blacklisted: Input should be 'message' or 'busy'",
    ]
    assert shape_problems("name: [unclosed\n") == ["line 2: not valid YAML or JSON"]
    assert shape_problems("- a list\n") == ["the document must be a mapping (name, start, nodes)"]
    assert shape_problems(nodes("  'a b': {type: hangup}\n")) == [
        "nodes.a b: a node id is 1-32 letters, digits, _ or -"
    ]


def test_time_nodes_check_their_window() -> None:
    found = shape_problems(
        nodes(
            "  a: {type: time, when: {hours: 9-18, days: someday}, next: b, otherwise: b}\n"
            "  b: {type: time, when: {dates: [2026-10-07..2026-10-01]}, next: a, otherwise: a}\n"
        )
    )
    assert found == [
        "nodes.a.when.hours: 9-18: give times as HH:MM, e.g. 09:00-21:00",
        "nodes.a.when.days: 'someday' is not a weekday: give mon..sun or 1 (Monday) to 7",
        "nodes.b.when.dates[0]: 2026-10-01 is before 2026-10-07",
    ]


def test_unknown_targets_and_unreachable_nodes_each_with_their_path() -> None:
    flow = parse_flow(
        "name: t\nstart: nowhere\nnodes:\n"
        "  a: {type: menu, prompt: {text: x}, keys: {'1': b, '2': zz}, on_timeout: yy}\n"
        "  b: {type: hangup}\n"
    )
    assert flow_problems(flow) == [
        "start: no node nowhere",
        "nodes.a.keys.2: no node zz",
        "nodes.a.on_timeout: no node yy",
    ]
    flow = parse_flow(flow.model_dump_json().replace('"nowhere"', '"a"'))
    assert flow_problems(flow) == ["nodes.a.keys.2: no node zz", "nodes.a.on_timeout: no node yy"]
    flow = parse_flow(nodes("  a: {type: hangup}\n  b: {type: goto, next: a}\n"))
    assert flow_problems(flow) == ["nodes.b: no path from start (a) leads to it"]


def test_loops_without_exit() -> None:
    flow = parse_flow(
        nodes(
            "  a: {type: play, prompt: {text: x}, next: m}\n"
            "  m: {type: menu, prompt: {text: x}, keys: {'1': g, '2': q}, on_invalid: m, on_timeout: m}\n"
            "  g: {type: goto, next: s}\n"
            "  s: {type: set, variables: {x: '1'}, next: g}\n"
            "  q: {type: queue, queue: sales}\n"
        )
    )
    assert flow_problems(flow) == [  # the menu leads to the queue: only the blind loop is a problem
        "nodes.g: goes round g -> s -> g without waiting for the caller",
        "nodes.s: goes round s -> g -> s without waiting for the caller",
    ]
    stuck = parse_flow(
        nodes(
            "  a: {type: menu, prompt: {text: x}, keys: {'1': c}, on_invalid: a, on_timeout: a}\n"
            "  c: {type: condition, branches: [{when: {tag: vip}, next: a}], otherwise: a}\n"
        )
    )
    assert flow_problems(stuck) == [
        "nodes.a: no path from it reaches an end (hangup, queue, agent, external, voicemail, back or survey)",
        "nodes.c: no path from it reaches an end (hangup, queue, agent, external, voicemail, back or survey)",
    ]


def test_a_menu_that_hangs_up_after_its_retries_is_an_end() -> None:
    flow = parse_flow(nodes("  a: {type: menu, prompt: {text: x}, keys: {'1': a}, on_invalid: a}\n"))
    assert flow_problems(flow) == []  # on_timeout missing: silence ends in a hang-up


def test_conditions_on_variables_nothing_sets() -> None:
    flow = parse_flow(
        nodes(
            "  a: {type: read, prompt: {text: x}, variable: order, next: c}\n"
            "  c:\n"
            "    type: condition\n"
            "    branches:\n"
            "      - {when: {variable: order, prefix: '8'}, next: q}\n"
            "      - {when: {variable: ordr, equals: '1'}, next: q}\n"
            "    otherwise: q\n"
            "  q: {type: queue, queue: sales}\n"
        )
    )
    assert flow_problems(flow) == [
        "nodes.c.branches[1].when.variable: no read, menu or set node gives ordr a value"
    ]


def test_missing_sounds_only_for_audio_prompts() -> None:
    flow = parse_flow(SMALL)
    assert flow_problems(flow, known_sound={"custom/main"}.__contains__) == []
    assert flow_problems(flow, known_sound=set[str]().__contains__) == [
        "nodes.main.prompt: no sound custom/main on the PBX"
    ]


def test_check_flow_lists_every_problem_in_one_error() -> None:
    with pytest.raises(FlowError) as raised:
        check_flow(nodes("  a: {type: goto, next: b}\n"), "t.yaml")
    assert raised.value.problems == ["nodes.a.next: no node b"]
    assert str(raised.value) == "flow t.yaml: 1 problem(s): nodes.a.next: no node b"


def test_voicemail_boxes() -> None:
    flow = parse_flow(nodes("  a: {type: voicemail, queue: service}\n"))
    assert flow.nodes["a"] == VoicemailNode(type="voicemail", queue="service")
