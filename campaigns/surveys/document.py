"""Keypress surveys as data (SRV-1): the document a campaign manager writes, and its validation.

A survey is a YAML or JSON document:

    name: 满意度回访
    language: zh                      # of the text prompts (offline TTS)
    intro: {text: 您好，这里是某某公司的回访电话}
    questions:
      - id: score
        prompt: {text: 请为本次服务打分，满意请按5，不满意请按1}
        keys: {"1": 很不满意, "2": 不满意, "3": 一般, "4": 满意, "5": 很满意}
        timeout_s: 6                  # waiting for a key (default 5)
        retries: 2                    # on an invalid key or no key (default 2)
        invalid: {text: 输入有误}      # said before a retry (default: the prompt again)
        next: {"1": callback, "2": callback, default: end}
        follow_up: {keys: ["1", "2"], callback_in_s: 3600, sms: 很抱歉给您带来不好的体验，我们会尽快改进}
      - id: callback
        prompt: {audio: custom/callback-offer}
        keys: {"1": 需要回电, "2": 不需要}
    closing: {text: 感谢您的配合，再见}

A prompt is `text` (spoken by TTS) or `audio` (a sound file the PBX has). `next` maps a key to the
next question's id, or `end`; `default` covers the other keys; without `next`, the survey goes on
to the following question in the list (after the last one: the closing). `follow_up` acts on a
low score the moment it is given: an SMS to the respondent is put in the outbox (SMS-8), and/or
the campaign's agents call the respondent back `callback_in_s` later.

`parse_survey` returns a `Survey` or raises `SurveyError` listing every problem, one line each,
with its place in the document: bad shapes and values, keys outside 0-9 * #, a `next` naming no
question, questions no answer can reach, and loops with no way out. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ringcast.errors import UserError

END = "end"
DEFAULT = "default"
KEYS = frozenset("0123456789*#")


class SurveyError(UserError):
    """A survey document with problems: `problems` holds one line per problem, with its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"survey {source}: {len(problems)} problem(s): " + "; ".join(problems))


class Prompt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str | None = Field(default=None, min_length=1, max_length=500)
    audio: str | None = Field(default=None, pattern=r"^/?[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")

    @model_validator(mode="after")
    def _one_of(self) -> Prompt:
        if (self.text is None) == (self.audio is None):
            raise ValueError("give either text (spoken by TTS) or audio (a sound file), not both or neither")
        return self


def _text(value: Any) -> Any:
    """A scalar as the person wrote it: YAML reads `1:` as a number and `yes` as true."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if isinstance(value, int | float) else value


def _texts(mapping: Any) -> Any:
    return {_text(k): _text(v) for k, v in mapping.items()} if isinstance(mapping, Mapping) else mapping


Texts = Annotated[dict[str, str], BeforeValidator(_texts)]


class FollowUp(BaseModel):
    """What an answer with one of `keys` sets off: an SMS to the respondent, a call back by an agent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keys: Annotated[
        list[str], BeforeValidator(lambda v: [_text(k) for k in v] if isinstance(v, list) else v)
    ] = Field(min_length=1)
    sms: str | None = Field(default=None, min_length=1, max_length=500)
    # at least 5 minutes: not while the respondent may still be on the line
    callback_in_s: int | None = Field(default=None, ge=300, le=30 * 86_400)

    @model_validator(mode="after")
    def _does_something(self) -> FollowUp:
        if self.sms is None and self.callback_in_s is None:
            raise ValueError(
                "give sms (its text) or callback_in_s (an agent calls back that many seconds later)"
            )
        return self


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, BeforeValidator(_text)] = Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$")
    prompt: Prompt
    keys: Texts = Field(min_length=1)
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=5)
    invalid: Prompt | None = None
    next: Texts = Field(default_factory=dict)
    follow_up: FollowUp | None = None


class Survey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    language: str = Field(default="zh", pattern=r"^(zh|en)$")
    intro: Prompt | None = None
    questions: list[Question] = Field(min_length=1)
    closing: Prompt | None = None

    def prompts(self) -> Iterator[Prompt]:
        """Every prompt of the survey, in the order a respondent may hear them."""
        if self.intro is not None:
            yield self.intro
        for question in self.questions:
            yield question.prompt
            if question.invalid is not None:
                yield question.invalid
        if self.closing is not None:
            yield self.closing

    @property
    def asks_for_callbacks(self) -> bool:
        """Whether an answer can have an agent call the respondent back (`follow_up.callback_in_s`)."""
        return any(q.follow_up is not None and q.follow_up.callback_in_s is not None for q in self.questions)

    def after(self, question_id: str, key: str) -> str:
        """The question that follows `key` pressed at `question_id`, or `END`."""
        ids = [q.id for q in self.questions]
        question = self.questions[ids.index(question_id)]
        if question.next:
            return question.next.get(key, question.next.get(DEFAULT, END))
        at = ids.index(question_id)
        return ids[at + 1] if at + 1 < len(ids) else END


@dataclass(frozen=True, slots=True)
class _Edge:
    source: int  # question index
    path: str  # where in the document
    target: str


def parse_survey(text: str, source: str = "document") -> Survey:
    """The survey in `text` (YAML, of which JSON is a part), or a `SurveyError` with every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise SurveyError(source, [f"{where}not valid YAML or JSON"]) from None
    if not isinstance(data, Mapping):
        raise SurveyError(source, ["the document must be a mapping with name and questions"])
    try:
        survey = Survey.model_validate(dict(data))
    except ValidationError as error:
        raise SurveyError(source, [_problem(e) for e in error.errors()]) from None
    problems = _key_problems(survey) + _flow_problems(survey)
    if problems:
        raise SurveyError(source, problems)
    return survey


def dump_survey(survey: Survey) -> str:
    """The survey as JSON (stored with the campaign; `parse_survey` reads it back)."""
    return json.dumps(survey.model_dump(exclude_none=True), ensure_ascii=False, indent=2)


def _problem(error: Mapping[str, Any]) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{path or 'document'}: {message}"


def _key_problems(survey: Survey) -> list[str]:
    problems: list[str] = []
    ids = [q.id for q in survey.questions]
    for n, question in enumerate(survey.questions):
        place = f"questions[{n}]"
        if ids.index(question.id) != n:
            problems.append(f"{place}.id: {question.id} is used by questions[{ids.index(question.id)}] too")
        for key in question.keys:
            if key not in KEYS:
                problems.append(f"{place}.keys.{key}: a key is one of 0-9, * or #")
        for key in question.next:
            if key != DEFAULT and key not in question.keys:
                problems.append(
                    f"{place}.next.{key}: not one of the question's keys ({', '.join(question.keys)})"
                )
        for key in question.follow_up.keys if question.follow_up else ():
            if key not in question.keys:
                keys = ", ".join(question.keys)
                problems.append(f"{place}.follow_up.keys: {key} is not one of the question's keys ({keys})")
    return problems


def _flow_problems(survey: Survey) -> list[str]:
    """Unknown targets, unreachable questions, loops from which no answer leads to the end."""
    ids = {q.id: n for n, q in enumerate(survey.questions)}
    edges = _edges(survey)
    problems = [
        f"{edge.path}: no question {edge.target} (give a question id or {END})"
        for edge in edges
        if edge.target != END and edge.target not in ids
    ]
    known = [edge for edge in edges if edge.target == END or edge.target in ids]
    reachable = _closure({0}, lambda n: [ids[e.target] for e in known if e.source == n and e.target != END])
    problems += [
        f"questions[{n}] ({q.id}): no answer leads to it"
        for n, q in enumerate(survey.questions)
        if n not in reachable
    ]
    ends = {e.source for e in known if e.target == END}
    finishing = _closure(ends, lambda n: [e.source for e in known if e.target != END and ids[e.target] == n])
    problems += [
        f"questions[{n}] ({q.id}): every answer loops back without reaching the end"
        for n, q in enumerate(survey.questions)
        if n in reachable and n not in finishing
    ]
    return problems


def _edges(survey: Survey) -> list[_Edge]:
    edges = []
    for n, question in enumerate(survey.questions):
        place = f"questions[{n}].next"
        if not question.next:
            following = survey.questions[n + 1].id if n + 1 < len(survey.questions) else END
            edges.append(_Edge(n, place, following))
            continue
        edges += [_Edge(n, f"{place}.{key}", target) for key, target in question.next.items()]
        if DEFAULT not in question.next and set(question.keys) - set(question.next):
            edges.append(_Edge(n, place, END))  # keys without a `next` end the survey
    return edges


def _closure(start: set[int], step: Callable[[int], Iterable[int]]) -> set[int]:
    """Every index reachable from `start` by `step`, `start` included."""
    seen, todo = set(start), list(start)
    while todo:
        for following in step(todo.pop()):
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen
