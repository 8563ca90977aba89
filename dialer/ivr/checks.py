"""What would strand a caller in a well-formed flow (IVR-2), each problem with its path.

- a target naming no node (`nodes.main.keys.1: no node sales`), a `start` naming none;
- nodes no path from `start` leads to;
- nodes from which no path reaches an end: a final node (hangup, queue, agent, external,
  voicemail, back), a survey node without `next` or a menu or read that hangs up after its
  retries (no `on_invalid` or `on_timeout`). A loop of play, set and goto nodes is named as
  such: the call would go round it without ever waiting for the caller. A node with an unknown
  target is not blamed again here. (A loop through conditions may be left when a variable
  changes; `FlowRun` stops one that is not, after its step limit.)
- a condition testing a variable no read, menu or set node gives a value;
- a menu key `#`: GET DATA ends the caller's input on it, so the menu never hears it (a flow
  stored with one still loads and lists; it is refused here, so never activated);
- with `known_sound` (what the PBX has), audio prompts naming a sound it lacks; text prompts are
  rendered by TTS and need none;
- with `known_survey` (the surveys stored), survey nodes naming a survey there is not.

A flow is activated only without problems (`campaigns.ivr_store`). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from dialer.ivr.flow import (
    UNHEARD_MENU_KEY,
    ConditionNode,
    FinalNode,
    Flow,
    InputNode,
    MenuNode,
    OnwardNode,
    ReadNode,
    SetNode,
    SurveyNode,
    parse_flow,
)
from dialer.ivr.problems import FlowError

ENDS = "hangup, queue, agent, external, voicemail, back or survey"  # survey: one without `next`
Known = Callable[[str], bool]


def flow_problems(
    flow: Flow, known_sound: Known | None = None, known_survey: Known | None = None
) -> list[str]:
    """Every problem of `flow`, in the document's order within each kind; empty when it is good."""
    problems = _target_problems(flow) + _path_problems(flow) + _variable_problems(flow)
    problems += _key_problems(flow)
    if known_sound is not None:
        problems += [
            f"{path}: no sound {prompt.audio} on the PBX"
            for path, prompt in flow.placed_prompts()
            if prompt.audio is not None and not known_sound(prompt.audio)
        ]
    if known_survey is not None:
        problems += [
            f"{path}: no survey {name} (`ringcast survey list` shows them)"
            for path, name in flow.placed_surveys()
            if not known_survey(name)
        ]
    return problems


def _key_problems(flow: Flow) -> list[str]:
    return [
        f"nodes.{node_id}.keys.{UNHEARD_MENU_KEY}: # ends what the caller keys on the PBX, "
        "so a menu never hears it: use 0-9 or *"
        for node_id, node in flow.nodes.items()
        if isinstance(node, MenuNode) and UNHEARD_MENU_KEY in node.keys
    ]


def _target_problems(flow: Flow) -> list[str]:
    problems = [] if flow.start in flow.nodes else [f"start: no node {flow.start}"]
    for node_id, node in flow.nodes.items():
        problems += [
            f"nodes.{node_id}.{path}: no node {target}"
            for path, target in node.exits()
            if target not in flow.nodes
        ]
    return problems


def _path_problems(flow: Flow) -> list[str]:
    following = {
        node_id: [target for _, target in node.exits() if target in flow.nodes]
        for node_id, node in flow.nodes.items()
    }
    if flow.start not in flow.nodes:
        return []
    reached = _reachable([flow.start], following)
    problems = [
        f"nodes.{node_id}: no path from start ({flow.start}) leads to it"
        for node_id in flow.nodes
        if node_id not in reached
    ]
    leading: dict[str, list[str]] = {}
    for source, targets in following.items():
        for target in targets:
            leading.setdefault(target, []).append(source)
    ends = (node_id for node_id, node in flow.nodes.items() if _ends(node) or _goes_astray(flow, node_id))
    ending = _reachable(ends, leading)
    for node_id in flow.nodes:
        if node_id in reached and node_id not in ending:
            loop = _blind_loop(flow, node_id)
            problems.append(
                f"nodes.{node_id}: goes round {' -> '.join(loop)} without waiting for the caller"
                if loop
                else f"nodes.{node_id}: no path from it reaches an end ({ENDS})"
            )
    return problems


def _ends(node: object) -> bool:
    return (
        isinstance(node, FinalNode)
        or (isinstance(node, SurveyNode) and node.next is None)
        or (isinstance(node, InputNode) and node.may_hang_up)
    )


def _goes_astray(flow: Flow, node_id: str) -> bool:
    """Has a target naming no node (a problem said once, as such)."""
    return any(target not in flow.nodes for _, target in flow.nodes[node_id].exits())


def _blind_loop(flow: Flow, node_id: str) -> list[str]:
    """The loop of play, set and goto nodes from `node_id` back to it (empty if there is none)."""
    loop = [node_id]
    node = flow.nodes[node_id]
    while isinstance(node, OnwardNode) and node.next in flow.nodes and len(loop) <= len(flow.nodes):
        loop.append(node.next)
        if node.next == node_id:
            return loop
        node = flow.nodes[node.next]
    return []


def _reachable(start: Iterable[str], step: Mapping[str, list[str]]) -> set[str]:
    """Every node `step` leads to from `start`, `start` included."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        node_id = todo.pop()
        if node_id not in seen:
            seen.add(node_id)
            todo += step.get(node_id, [])
    return seen


def _variable_problems(flow: Flow) -> list[str]:
    given = set()
    for node in flow.nodes.values():
        if isinstance(node, ReadNode | MenuNode) and node.variable is not None:
            given.add(node.variable)
        if isinstance(node, SetNode):
            given.update(node.variables)
    return [
        f"nodes.{node_id}.branches[{n}].when.variable: "
        f"no read, menu or set node gives {branch.when.variable} a value"
        for node_id, node in flow.nodes.items()
        if isinstance(node, ConditionNode)
        for n, branch in enumerate(node.branches)
        if branch.when.variable is not None and branch.when.variable not in given
    ]


def check_flow(
    text: str, source: str = "document", known_sound: Known | None = None, known_survey: Known | None = None
) -> Flow:
    """The flow in `text` if it has no problem at all; else a `FlowError` listing them."""
    flow = parse_flow(text, source)
    problems = flow_problems(flow, known_sound, known_survey)
    if problems:
        raise FlowError(f"flow {source}", problems)
    return flow
