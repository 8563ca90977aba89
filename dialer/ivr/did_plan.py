"""What answers an inbound number (IVR-1, IVR-3, ACD-9): a default flow and ordered time rules, or
one agent or queue dialled straight (`direct`, `dialer.ivr.direct`), never both.

    zone: Asia/Shanghai           # of rules that give none
    flow: closed                  # when no rule matches; none: the number's default message
    rules:                        # the first rule whose window holds the call's instant wins
      - {flow: holiday, dates: [2026-10-01..2026-10-07]}
      - {flow: hotline, hours: 09:00-18:00, days: mon-fri}

    direct: {agent: wang}         # instead: every call goes straight to agent wang (直拨)

A rule is a `TimeWindow` with the flow it picks. `flow_for` is pure: the call's instant is given.
`rule_from_text` reads the command line's spelling of a rule, `flow=hotline hours=09:00-18:00
days=mon-fri` (space-separated key=value, the keys of a rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from dialer.ivr.direct import DirectRoute
from dialer.ivr.problems import FlowError, place
from dialer.ivr.windows import DEFAULT_ZONE, RANGE, WEEKDAYS, TimeWindow, known_zone

FlowName = Annotated[str, Field(min_length=1, max_length=100)]


class TimeRule(TimeWindow):
    flow: FlowName


class DidPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    flow: FlowName | None = None
    zone: Annotated[str, AfterValidator(known_zone)] = DEFAULT_ZONE
    rules: list[TimeRule] = Field(default_factory=list)
    direct: DirectRoute | None = None

    @model_validator(mode="after")
    def _flows_or_direct(self) -> DidPlan:
        if self.direct is not None and (self.flow is not None or self.rules):
            raise ValueError("a number runs flows or goes straight to an agent or a queue, not both")
        return self

    def flows(self) -> list[str]:
        """Every flow the plan may pick, each once, the default first."""
        named = ([self.flow] if self.flow else []) + [rule.flow for rule in self.rules]
        return list(dict.fromkeys(named))


def flow_for(plan: DidPlan, at: datetime) -> str | None:
    """The flow for a call at the instant `at` (aware); None: play the number's default message."""
    return next((rule.flow for rule in plan.rules if rule.contains(at, plan.zone)), plan.flow)


def parse_plan(data: Mapping[str, Any], source: str) -> DidPlan:
    """The plan in `data` (as stored, or built from the command line); a `FlowError` naming each problem."""
    try:
        return DidPlan.model_validate(data)
    except ValidationError as error:
        raise FlowError(source, [place(e["loc"], str(e["msg"])) for e in error.errors()]) from None


def rule_from_text(text: str) -> dict[str, str]:
    """`flow=hotline hours=09:00-18:00 days=mon-fri` -> the rule's fields (checked by `parse_plan`)."""
    fields: dict[str, str] = {}
    for part in text.split():
        key, equals, value = part.partition("=")
        if not equals or not key or key in fields:
            raise FlowError(f"rule {text!r}", [f"{part}: give each field once, as key=value"])
        fields[key] = value
    return fields


def rule_text(rule: TimeRule) -> str:
    """The rule's window as the command line spells it (`rule_from_text` reads it back, with flow=)."""
    day_names = {number: name for name, number in WEEKDAYS.items()}
    given = {
        "zone": rule.zone,
        "hours": rule.hours,
        "days": ",".join(day_names[day] for day in rule.days) if rule.days else None,
        "dates": ",".join(
            f"{r.first}" if r.first == r.last else f"{r.first}{RANGE}{r.last}" for r in rule.dates
        ),
        "holidays": ",".join(map(str, rule.holidays)),
    }
    return " ".join(f"{key}={value}" for key, value in given.items() if value) or "always"
