"""One call going through a flow (IVR-2): the pure interpreter the FastAGI adapter and `ivr test` drive.

    run = FlowRun(flow, CallerFacts("+8613800138000", region="北京市"), at=answered_at)
    actions = run.start()                 # e.g. (Play(welcome), Collect(main menu))
    actions = run.feed(Digits("1"))       # e.g. (RouteToQueue("sales", 0),)
    run.trail                             # path, inputs, variables: kept with the call (随路信息)

Each answer is zero or more `Play` then one `Collect` (feed what the caller keyed: `Digits`,
`Timeout`, `HungUp`), one `RunSurvey` (feed `SurveyEnded` once the survey is over, or `HungUp`; a
survey node without `next` then hangs up, "survey done") or one final action, after which the run
is `finished` (see `dialer.ivr.actions`). A menu or read accepts a valid input and goes on; a
miss (a key the menu lacks, too few or too many digits, nothing before the timeout) plays the
node's invalid or timeout prompt and collects again, up to `retries` times; then the call goes to
`on_invalid` or `on_timeout` (after the last miss's kind), else is hung up ("invalid input", "no
input").

Conditions read the `CallerFacts` and the variables; time nodes the call's instant `at`, given
once (the clock is never read). A queue node's queue follows its `area_routing` for the caller's
region; a caller tagged vip gets the flow's `vip_priority` added to a queue or agent node's
priority (ACD-3, ACD-5). The flow must be free of `flow_problems` (the store activates no
other). A walk between two inputs takes at most `step_limit` nodes: a loop of conditions that no
variable ever leaves is hung up ("loop") instead of spinning the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from dialer.acd.entry import AreaRoutes
from dialer.ivr.actions import (
    Action,
    BackToAgent,
    Collect,
    Dial,
    Digits,
    Event,
    Final,
    Hangup,
    HungUp,
    Play,
    RouteToAgent,
    RouteToQueue,
    RunSurvey,
    SurveyEnded,
    Voicemail,
)
from dialer.ivr.facts import VIP, CallerFacts, holds
from dialer.ivr.flow import (
    AgentNode,
    BackNode,
    ConditionNode,
    ExternalNode,
    FinalNode,
    Flow,
    GotoNode,
    HangupNode,
    InputNode,
    MenuNode,
    PlayNode,
    QueueNode,
    ReadNode,
    SetNode,
    SurveyNode,
    TimeNode,
    VoicemailNode,
)

log = logging.getLogger(__name__)

STEP_LIMIT = 1000
CALLER_HUNG_UP = "caller hung up"
SURVEY_DONE = "survey done"  # a survey node without `next`: the call ends with the survey
DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class CallerInput:
    """What the caller keyed at a menu or read node: `keys` None for a timeout."""

    node: str
    keys: str | None
    accepted: bool


@dataclass(frozen=True, slots=True)
class CallTrail:
    """The call's way through the flow so far (随路信息), for the screen pop and the reports."""

    flow: str
    path: tuple[str, ...]  # node ids in the order the call entered them
    inputs: tuple[CallerInput, ...]
    variables: Mapping[str, str]  # read-only
    outcome: str | None  # the final action as printed, or "caller hung up"; None while running

    def as_json(self) -> dict[str, Any]:
        inputs = [{"node": i.node, "keys": i.keys, "accepted": i.accepted} for i in self.inputs]
        return {
            "flow": self.flow,
            "path": list(self.path),
            "inputs": inputs,
            "variables": dict(self.variables),
            "outcome": self.outcome,
        }


class FlowRun:
    def __init__(
        self, flow: Flow, caller: CallerFacts, at: datetime, *, step_limit: int = STEP_LIMIT
    ) -> None:
        if at.utcoffset() is None:
            raise ValueError(f"naive instant {at.isoformat()}: give the call's time with its zone")
        self.flow = flow
        self.caller = caller
        self.at = at
        self.step_limit = step_limit
        self._path: list[str] = []
        self._inputs: list[CallerInput] = []
        self._variables: dict[str, str] = {}
        self._waiting: str | None = None  # the menu or read node collecting, or the survey node asking
        self._misses = 0  # at the waiting node
        self._outcome: str | None = None

    @property
    def finished(self) -> bool:
        return self._outcome is not None

    @property
    def trail(self) -> CallTrail:
        variables = MappingProxyType(dict(self._variables))
        return CallTrail(self.flow.name, tuple(self._path), tuple(self._inputs), variables, self._outcome)

    def start(self) -> tuple[Action, ...]:
        if self._path:
            raise RuntimeError(f"flow {self.flow.name} has started already")
        return self._walk(self.flow.start)

    def feed(self, event: Event) -> tuple[Action, ...]:
        """What the caller did at the waiting node (keys, or its survey's end); the actions that follow."""
        if self._waiting is None:
            raise RuntimeError(f"flow {self.flow.name}: no node is waiting for the caller")
        node_id, node = self._waiting, self.flow.nodes[self._waiting]
        if isinstance(event, HungUp):
            self._waiting = None
            self._outcome = CALLER_HUNG_UP
            return ()
        if isinstance(node, SurveyNode) or isinstance(event, SurveyEnded):
            if not (isinstance(node, SurveyNode) and isinstance(event, SurveyEnded)):
                raise RuntimeError(f"flow {self.flow.name}: {event} does not answer node {node_id}")
            self._waiting = None
            return self._walk(node.next) if node.next is not None else (self._end(Hangup(SURVEY_DONE)),)
        assert isinstance(node, InputNode)
        keys = event.keys if isinstance(event, Digits) and event.keys else None
        target = _accepted(node, keys)
        log.debug("flow %s: %s at %s -> %s", self.flow.name, keys or "timeout", node_id, target or "miss")
        self._inputs.append(CallerInput(node_id, keys, target is not None))
        if target is not None:
            if node.variable is not None and keys is not None:
                self._variables[node.variable] = _value(node, keys)
            return self._leave(target)
        self._misses += 1
        if self._misses <= node.retries:
            again = node.timeout_prompt if keys is None else node.invalid_prompt
            return (*([Play(again)] if again is not None else []), _collect(node_id, node))
        after = node.on_timeout if keys is None else node.on_invalid
        if after is not None:
            return self._leave(after)
        self._waiting = None
        return (self._end(Hangup("no input" if keys is None else "invalid input")),)

    def _leave(self, target: str) -> tuple[Action, ...]:
        self._waiting = None
        return self._walk(target)

    def _walk(self, node_id: str) -> tuple[Action, ...]:
        """From `node_id` on, through the nodes that need no input, to one that does or a final one."""
        actions: list[Action] = []
        for _ in range(self.step_limit):
            self._path.append(node_id)
            node = self.flow.nodes[node_id]
            if isinstance(node, InputNode):
                self._waiting, self._misses = node_id, 0
                return (*actions, _collect(node_id, node))
            if isinstance(node, SurveyNode):
                self._waiting = node_id
                return (
                    *actions,
                    *([Play(node.prompt)] if node.prompt else []),
                    RunSurvey(node_id, node.survey),
                )
            if isinstance(node, FinalNode):
                if node.prompt is not None:
                    actions.append(Play(node.prompt))
                return (*actions, self._end(self._final(node)))
            if isinstance(node, PlayNode):
                actions.append(Play(node.prompt))
            elif isinstance(node, SetNode):
                self._variables.update(node.variables)
            node_id = self._next(node)
        log.warning(
            "flow %s: %d nodes without input from %s, hung up", self.flow.name, self.step_limit, node_id
        )
        return (*actions, self._end(Hangup("loop")))

    def _next(self, node: PlayNode | SetNode | GotoNode | ConditionNode | TimeNode) -> str:
        if isinstance(node, ConditionNode):
            taken = (b.next for b in node.branches if holds(b.when, self.caller, self._variables))
            return next(taken, node.otherwise)
        if isinstance(node, TimeNode):
            return node.next if node.when.contains(self.at, self.flow.zone) else node.otherwise
        return node.next

    def _final(self, node: FinalNode) -> Final:
        bump = self.flow.vip_priority if self.caller.tagged(VIP) else 0
        if isinstance(node, QueueNode):
            queue = node.queue
            if node.area_routing is not None:
                queue = AreaRoutes(node.area_routing, node.queue).queue_for(self.caller.region)
            return RouteToQueue(queue, node.priority + bump)
        if isinstance(node, AgentNode):
            return RouteToAgent(node.agent, node.queue, bump, node.fallback_after_s)
        return _final(node)

    def _end(self, action: Final) -> Final:
        self._outcome = str(action)
        return action


def _accepted(node: InputNode, keys: str | None) -> str | None:
    """Where a valid input leads; None for a miss."""
    if keys is None:
        return None
    if isinstance(node, MenuNode):
        return node.keys.get(keys)
    assert isinstance(node, ReadNode)
    digits = _value(node, keys)
    valid = node.min_digits <= len(digits) <= node.max_digits and set(digits) <= DIGITS
    return node.next if valid else None


def _value(node: InputNode, keys: str) -> str:
    """The input as kept: a read's digits without the terminator."""
    return keys.removesuffix(node.terminator) if isinstance(node, ReadNode) and node.terminator else keys


def _collect(node_id: str, node: InputNode) -> Collect:
    if isinstance(node, ReadNode):
        return Collect(node_id, node.prompt, node.max_digits, node.timeout_s, node.terminator)
    return Collect(node_id, node.prompt, 1, node.timeout_s, "")


def _final(node: FinalNode) -> Final:
    """The end of a node that reads nothing of the caller."""
    if isinstance(node, ExternalNode):
        return Dial(node.number)
    if isinstance(node, VoicemailNode):
        return (
            Voicemail("agent", node.agent) if node.agent is not None else Voicemail("queue", str(node.queue))
        )
    if isinstance(node, BackNode):
        return BackToAgent(node.fallback)
    assert isinstance(node, HangupNode)
    return Hangup(node.reason)
