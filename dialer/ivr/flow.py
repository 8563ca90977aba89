"""The IVR flow document (IVR-2, IVR-5): the nodes a caller goes through, written as data.

A flow is a YAML or JSON document:

    name: hotline
    language: zh                    # of the text prompts (offline TTS), zh or en
    zone: Asia/Shanghai             # of `time` nodes that give none (default Asia/Shanghai)
    start: welcome
    nodes:
      welcome: {type: play, prompt: {text: 您好，欢迎致电}, next: open}
      open: {type: time, when: {hours: 09:00-18:00, days: mon-fri}, next: main, otherwise: closed}
      main:
        type: menu
        prompt: {audio: custom/main-menu}
        keys: {"1": sales, "2": order, "0": operator}
        on_invalid: operator        # after the retries; without it the call is hung up
      ...

Each node has a `type`; a prompt is the surveys' `Prompt`, TTS `text` or a sound file's `audio`:

- `play`: `prompt`, then `next`;
- `menu`: `prompt`, `keys` (a DTMF key 0-9 or * -> node; `#` is read, but `checks` refuse it:
  GET DATA ends the input on it, so a menu never hears it), `timeout_s` (5), `retries` (2),
  `invalid_prompt` / `timeout_prompt` (said before a retry), `on_invalid` / `on_timeout` (where
  the call goes after the retries; without them it is hung up), `variable` (keeps the key);
- `read`: `prompt`, `variable` (gets the digits), `min_digits` (1), `max_digits` (20),
  `terminator` (`#`, `*` or empty), `timeout_s`, `retries`, `invalid_prompt`, `timeout_prompt`,
  `next`, `on_invalid`, `on_timeout`;
- `condition`: `branches` (`when` a test holds, `next`; the first that holds wins), `otherwise`;
- `time`: `when` (a `TimeWindow`: hours, weekdays, dates, holidays, zone), `next`, `otherwise`;
- `set`: `variables` (name -> value), `next`; `goto`: `next`;
- `survey`: an optional `prompt`, then the keypress survey `survey` (SRV-2, by name) asked on the
  call, its response linked to it; then `next` (without `next`, the call is hung up after the
  survey, as after an outbound campaign's);
- final nodes, each with an optional `prompt` said first: `queue` (`queue`, `priority` 0-10,
  `area_routing`: region -> queue, for callers of those regions, ACD-5), `agent` (`agent`, the
  `queue` whose music, wait limit and overflow apply, ACD-9, and `fallback_after_s`: after that
  long, or at once while the agent cannot take the call, any agent of that queue takes it),
  `external` (`number`),
  `voicemail` (the box of an `agent` or a `queue`), `hangup` (`reason`),
  `back` (IVR-6: the caller goes back to the agent who sent it into the flow; `fallback`, a
  queue, when that agent has left the call meanwhile or nobody sent it, e.g. a DID's caller).

The flow's `vip_priority` (0: none) is added to a queue or agent node's priority for a caller
tagged vip (ACD-3: VIP callers jump the queue, e.g. 10 above every node's own), and
`blacklisted` (`message` or `busy`) says how a blacklisted caller is refused where the flow would
queue it (ACD-10).

A `when` test looks at one thing: a `variable` or a customer record `field` (with `equals`,
`one_of` or `prefix`; alone: it has a value), a caller `tag` (vip, malicious; any case), or the
`region` (province) of the caller's number (one or a list; 广东 matches 广东省).

`parse_flow` returns a `Flow` or raises `FlowError` with every problem of the document's shape,
one line each with its path; `dialer.ivr.checks` then finds what would strand a caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from campaigns.surveys.document import KEYS, Prompt, Texts
from dialer.ivr.problems import FlowError, place, read_mapping
from dialer.ivr.windows import DEFAULT_ZONE, TimeWindow, known_zone

UNHEARD_MENU_KEY = "#"  # GET DATA takes # for the end of the input: it never reaches a menu
_NODE_ID = re.compile(r"[A-Za-z0-9_\-]{1,32}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
_NUMBER = re.compile(r"\+?\d{3,20}")


def _scalar(value: Any) -> Any:
    """A value as written: YAML reads `next: 2` or `equals: 8` as a number."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _variable(name: str) -> str:
    if not _VARIABLE.fullmatch(name):
        raise ValueError(f"{name!r}: a variable is a letter or _, then letters, digits or _ (32 at most)")
    return name


def _number(number: str) -> str:
    if not _NUMBER.fullmatch(number):
        raise ValueError("give the number to dial, digits with an optional +, e.g. 13800138000")
    return number


def _keyed(value: Any) -> Any:
    return {_scalar(key): node for key, node in value.items()} if isinstance(value, Mapping) else value


def _names(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Target = Annotated[str, BeforeValidator(_scalar)]
Variable = Annotated[str, AfterValidator(_variable)]
Name = Annotated[str, BeforeValidator(_scalar), Field(min_length=1, max_length=100)]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def exits(self) -> list[tuple[str, str]]:
        """Where the node can lead: (its field's path, the node id), in the document's order."""
        return []

    def prompts(self) -> Iterator[tuple[str, Prompt]]:
        """Its prompts with their field's path."""
        for name in ("prompt", "invalid_prompt", "timeout_prompt"):
            prompt = getattr(self, name, None)
            if prompt is not None:
                yield name, prompt


class OnwardNode(_Node):
    """A node that goes on to `next` without waiting for the caller (play, set, goto)."""

    next: Target

    def exits(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


class PlayNode(OnwardNode):
    type: Literal["play"]
    prompt: Prompt


class SetNode(OnwardNode):
    type: Literal["set"]
    variables: Texts = Field(min_length=1)

    @model_validator(mode="after")
    def _variable_names(self) -> SetNode:
        for name in self.variables:
            _variable(name)
        return self


class GotoNode(OnwardNode):
    type: Literal["goto"]


class InputNode(_Node):
    """A node that waits for the caller's keys, with patience for mistakes and silence."""

    prompt: Prompt
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=5)
    invalid_prompt: Prompt | None = None
    timeout_prompt: Prompt | None = None
    on_invalid: Target | None = None  # after the retries; None: hang up
    on_timeout: Target | None = None
    variable: Variable | None = None  # gets the input (a read's digits without the terminator)

    def exits(self) -> list[tuple[str, str]]:
        ways = (("on_invalid", self.on_invalid), ("on_timeout", self.on_timeout))
        return [(path, target) for path, target in ways if target is not None]

    @property
    def may_hang_up(self) -> bool:
        """After the retries, without `on_invalid` or `on_timeout`, the call is hung up."""
        return self.on_invalid is None or self.on_timeout is None


class MenuNode(InputNode):
    type: Literal["menu"]
    keys: Texts

    @model_validator(mode="after")
    def _dtmf_keys(self) -> MenuNode:
        if not self.keys:
            raise ValueError("a menu needs at least one key in keys")
        bad = [key for key in self.keys if key not in KEYS]
        if bad:
            raise ValueError(f"keys {', '.join(bad)}: a key is one of 0-9, * or #")
        return self

    def exits(self) -> list[tuple[str, str]]:
        return [(f"keys.{key}", target) for key, target in self.keys.items()] + super().exits()


class ReadNode(InputNode):
    type: Literal["read"]
    variable: Variable
    min_digits: int = Field(default=1, ge=1, le=32)
    max_digits: int = Field(default=20, ge=1, le=32)
    terminator: Literal["#", "*", ""] = "#"
    next: Target

    @model_validator(mode="after")
    def _digits_in_order(self) -> ReadNode:
        if self.max_digits < self.min_digits:
            raise ValueError(f"max_digits {self.max_digits} is below min_digits {self.min_digits}")
        return self

    def exits(self) -> list[tuple[str, str]]:
        return [("next", self.next), *super().exits()]


class When(BaseModel):
    """One test of a condition's branch; see the module's docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variable: Variable | None = None
    field: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    tag: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    region: Annotated[list[str] | None, BeforeValidator(_names), Field(min_length=1)] = None
    equals: Annotated[str | None, BeforeValidator(_scalar)] = None
    one_of: list[Annotated[str, BeforeValidator(_scalar)]] | None = None
    prefix: Annotated[str | None, BeforeValidator(_scalar)] = None

    @model_validator(mode="after")
    def _one_subject(self) -> When:
        subjects = [
            name for name in ("variable", "field", "tag", "region") if getattr(self, name) is not None
        ]
        compared = [name for name in ("equals", "one_of", "prefix") if getattr(self, name) is not None]
        if len(subjects) != 1:
            raise ValueError("test one thing: variable, field, tag or region")
        if len(compared) > 1 or (compared and subjects[0] in ("tag", "region")):
            raise ValueError("compare a variable or field with one of equals, one_of or prefix")
        return self


class Branch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: When
    next: Target


class ConditionNode(_Node):
    type: Literal["condition"]
    branches: list[Branch] = Field(min_length=1)
    otherwise: Target

    def exits(self) -> list[tuple[str, str]]:
        taken = [(f"branches[{n}].next", branch.next) for n, branch in enumerate(self.branches)]
        return [*taken, ("otherwise", self.otherwise)]


class TimeNode(_Node):
    type: Literal["time"]
    when: TimeWindow
    next: Target
    otherwise: Target

    def exits(self) -> list[tuple[str, str]]:
        return [("next", self.next), ("otherwise", self.otherwise)]


class FinalNode(_Node):
    """A node that hands the call on: the flow ends there."""

    prompt: Prompt | None = None


Region = Annotated[str, Field(min_length=1, max_length=64)]


class QueueNode(FinalNode):
    """`area_routing`: the queue for callers of each region (广东 stands for 广东省); `queue` for
    the others and for callers of unknown region."""

    type: Literal["queue"]
    queue: Name
    priority: int = Field(default=0, ge=0, le=10)
    area_routing: dict[Region, Name] | None = Field(default=None, min_length=1)


class AgentNode(FinalNode):
    """`queue`: whose music, wait limit and overflow apply while the caller waits for the agent;
    None: the first queue the agent is a member of. `fallback_after_s`: then any agent of that
    queue takes the call (None: only this agent), as a direct number's (`dialer.ivr.direct`)."""

    type: Literal["agent"]
    agent: Name
    queue: Name | None = None
    fallback_after_s: float | None = Field(default=None, ge=0, le=86400)


class ExternalNode(FinalNode):
    type: Literal["external"]
    number: Annotated[str, BeforeValidator(_scalar), AfterValidator(_number)]


class VoicemailNode(FinalNode):
    type: Literal["voicemail"]
    agent: Name | None = None
    queue: Name | None = None

    @model_validator(mode="after")
    def _one_box(self) -> VoicemailNode:
        if (self.agent is None) == (self.queue is None):
            raise ValueError("give the box's owner: agent or queue, not both or neither")
        return self


class SurveyNode(_Node):
    """The caller answers survey `survey`, then goes on to `next`; None: hung up after it (a flow
    stored when a survey ended the flow still reads)."""

    type: Literal["survey"]
    survey: Name
    prompt: Prompt | None = None
    next: Target | None = None

    def exits(self) -> list[tuple[str, str]]:
        return [] if self.next is None else [("next", self.next)]


class BackNode(FinalNode):
    """Back to the agent who transferred the caller into this flow (IVR-6); the queue `fallback`
    when that agent is no longer on the call, or when the caller came from a DID."""

    type: Literal["back"]
    fallback: Name


class HangupNode(FinalNode):
    type: Literal["hangup"]
    reason: str = Field(default="flow end", min_length=1, max_length=100)


Node = Annotated[
    PlayNode
    | MenuNode
    | ReadNode
    | ConditionNode
    | TimeNode
    | SetNode
    | GotoNode
    | QueueNode
    | AgentNode
    | ExternalNode
    | VoicemailNode
    | SurveyNode
    | BackNode
    | HangupNode,
    Field(discriminator="type"),
]
NODE_TYPES = tuple(  # "play", "menu", ...: each node model's `type`
    get_args(model.model_fields["type"].annotation)[0] for model in get_args(get_args(Node)[0])
)


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    language: str = Field(default="zh", pattern=r"^(zh|en)$")
    zone: Annotated[str, AfterValidator(known_zone)] = DEFAULT_ZONE
    start: Target
    nodes: Annotated[dict[str, Node], BeforeValidator(_keyed)] = Field(min_length=1)
    vip_priority: int = Field(default=0, ge=0, le=100)
    blacklisted: Literal["message", "busy"] = "message"

    def prompts(self) -> Iterator[Prompt]:
        """Every prompt, in the document's order (as `Survey.prompts`, for rendering TTS)."""
        for _, prompt in self.placed_prompts():
            yield prompt

    def placed_surveys(self) -> Iterator[tuple[str, str]]:
        """Every survey node's survey with its path (`nodes.csat.survey`), in the document's order."""
        for node_id, node in self.nodes.items():
            if isinstance(node, SurveyNode):
                yield f"nodes.{node_id}.survey", node.survey

    def placed_prompts(self) -> Iterator[tuple[str, Prompt]]:
        """Every prompt with its path (`nodes.main.prompt`), in the document's order."""
        for node_id, node in self.nodes.items():
            for path, prompt in node.prompts():
                yield f"nodes.{node_id}.{path}", prompt


def parse_flow(text: str, source: str = "document") -> Flow:
    """The flow in `text` (YAML, of which JSON is a part), or a `FlowError` with every shape problem."""
    data = read_mapping(text, f"flow {source}")
    try:
        flow = Flow.model_validate(data)
    except ValidationError as error:
        raise FlowError(f"flow {source}", [_problem(e) for e in error.errors()]) from None
    bad_ids = [
        f"nodes.{node_id}: a node id is 1-32 letters, digits, _ or -"
        for node_id in flow.nodes
        if not _NODE_ID.fullmatch(node_id)
    ]
    if bad_ids:
        raise FlowError(f"flow {source}", bad_ids)
    return flow


def _problem(error: Mapping[str, Any]) -> str:
    """One line for a validation error, without the node's type pydantic puts in its path."""
    loc = list(error["loc"])
    if len(loc) > 2 and loc[0] == "nodes" and loc[2] in NODE_TYPES:
        del loc[2]
    kinds = ", ".join(NODE_TYPES)
    if error["type"] == "union_tag_not_found":
        return place(loc, f"give its type, one of {kinds}")
    if error["type"] == "union_tag_invalid":
        return place(loc, f"type {error['input']['type']!r} is not one of {kinds}")
    return place(loc, str(error["msg"]))
