"""Scenario files (../shared/scenarios/README.md): loading and validation into a typed `Scenario`.

A bad file gets one `UserError` line naming the file and the field (`outcomes: probabilities sum to
0.95, not 1`, `talk_s.dist: unknown distribution 'gamma' ...`); unknown fields are refused so that a
typo cannot silently fall back to a default. The optional `inbound` field (a blended campaign's
inbound calls, see `inbound`) is ringcast's own, not the README's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from dialer.simulation import fields
from dialer.simulation.distributions import Distribution, parse_distribution
from dialer.simulation.inbound import InboundModel, parse_inbound
from ringcast.errors import UserError

OUTCOME_KEYS = ("answer_human", "answer_machine", "busy", "no_answer", "invalid")
_REQUIRED = (
    "duration_s",
    "agents",
    "max_lines",
    "no_answer_timeout_s",
    "outcomes",
    "ring_to_answer_s",
    "busy_after_s",
    "invalid_after_s",
    "talk_s",
    "machine_talk_s",
    "wrap_s",
    "abandon",
)
_OPTIONAL = ("name", "description", "leads", "outcomes_schedule", "amd", "inbound")


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What a dialed number does, as probabilities summing to 1 (order of `OUTCOME_KEYS`)."""

    answer_human: float
    answer_machine: float
    busy: float
    no_answer: float
    invalid: float

    def thresholds(self) -> tuple[float, float, float, float]:
        """Cumulative bounds: a draw below the k-th picks the k-th outcome (the last takes the rest)."""
        a = self.answer_human
        b = a + self.answer_machine
        c = b + self.busy
        return (a, b, c, c + self.no_answer)


@dataclass(frozen=True, slots=True)
class Amd:
    enabled: bool = False
    detect_s: Distribution | None = None
    human_as_machine: float = 0.0
    machine_as_human: float = 0.0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    duration_s: float
    agents: int
    leads: int | None
    max_lines: int
    no_answer_timeout_s: float
    outcomes: Outcomes
    outcomes_schedule: tuple[tuple[float, Outcomes], ...]
    ring_to_answer_s: Distribution
    busy_after_s: Distribution
    invalid_after_s: Distribution
    talk_s: Distribution
    machine_talk_s: Distribution
    wrap_s: Distribution
    amd: Amd
    connect_within_s: float
    abandon_cap: float
    amd_false_positive_counts: bool = False
    inbound: InboundModel | None = None

    def outcomes_at(self, t: float) -> Outcomes:
        current = self.outcomes
        for at_s, outcomes in self.outcomes_schedule:
            if t < at_s:
                break
            current = outcomes
        return current


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; every problem is one `UserError` line."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read scenario {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}: not valid YAML{where}") from exc
    try:
        return parse_scenario(raw, default_name=path.stem)
    except UserError as exc:
        raise UserError(f"{path}: {exc.message}") from exc


def parse_scenario(raw: object, default_name: str = "scenario") -> Scenario:
    if not isinstance(raw, Mapping):
        raise UserError("the file must be a mapping of fields")
    for key in _REQUIRED:
        if key not in raw:
            raise UserError(f"{key}: missing")
    unknown = sorted(str(k) for k in raw if k not in _REQUIRED and k not in _OPTIONAL)
    if unknown:
        raise UserError(f"{unknown[0]}: unknown field")
    abandon = fields.mapping(raw["abandon"], "abandon")
    fields.known(abandon, "abandon", ("connect_within_s", "cap", "amd_false_positive_counts"))
    scenario = Scenario(
        name=str(raw.get("name", default_name)),
        description=str(raw.get("description", "")),
        duration_s=fields.number(raw["duration_s"], "duration_s", positive=True),
        agents=fields.count(raw["agents"], "agents", minimum=1),
        leads=_leads(raw.get("leads", "unlimited")),
        max_lines=fields.count(raw["max_lines"], "max_lines", minimum=1),
        no_answer_timeout_s=fields.number(raw["no_answer_timeout_s"], "no_answer_timeout_s", positive=True),
        outcomes=_outcomes(raw["outcomes"], "outcomes"),
        outcomes_schedule=_schedule(raw.get("outcomes_schedule", [])),
        ring_to_answer_s=parse_distribution(raw["ring_to_answer_s"], "ring_to_answer_s"),
        busy_after_s=parse_distribution(raw["busy_after_s"], "busy_after_s"),
        invalid_after_s=parse_distribution(raw["invalid_after_s"], "invalid_after_s"),
        talk_s=parse_distribution(raw["talk_s"], "talk_s"),
        machine_talk_s=parse_distribution(raw["machine_talk_s"], "machine_talk_s"),
        wrap_s=parse_distribution(raw["wrap_s"], "wrap_s"),
        amd=_amd(raw.get("amd", {"enabled": False})),
        connect_within_s=fields.number(
            fields.get(abandon, "connect_within_s", "abandon"), "abandon.connect_within_s"
        ),
        abandon_cap=fields.probability(fields.get(abandon, "cap", "abandon"), "abandon.cap"),
        amd_false_positive_counts=fields.flag(
            abandon.get("amd_false_positive_counts", False), "abandon.amd_false_positive_counts"
        ),
    )
    if "inbound" not in raw:
        return scenario
    return replace(scenario, inbound=parse_inbound(raw["inbound"], scenario.agents, scenario.wrap_s))


def _leads(raw: object) -> int | None:
    if raw == "unlimited":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise UserError(f"leads: must be 'unlimited' or a whole number ≥ 0 (got {raw!r})")
    return raw


def _outcomes(raw: object, field: str) -> Outcomes:
    mapping = fields.mapping(raw, field)
    fields.known(mapping, field, OUTCOME_KEYS)
    values = [fields.probability(fields.get(mapping, key, field), f"{field}.{key}") for key in OUTCOME_KEYS]
    total = sum(values)
    if abs(total - 1.0) > 1e-6:
        raise UserError(f"{field}: probabilities sum to {total:g}, not 1")
    return Outcomes(*values)


def _schedule(raw: object) -> tuple[tuple[float, Outcomes], ...]:
    if not isinstance(raw, list):
        raise UserError(f"outcomes_schedule: must be a list (got {raw!r})")
    entries: list[tuple[float, Outcomes]] = []
    for i, item in enumerate(raw):
        field = f"outcomes_schedule[{i}]"
        mapping = fields.mapping(item, field)
        fields.known(mapping, field, ("at_s", "outcomes"))
        at_s = fields.number(fields.get(mapping, "at_s", field), f"{field}.at_s")
        if entries and at_s < entries[-1][0]:
            raise UserError(
                f"{field}.at_s: the schedule must be sorted by at_s ({at_s:g} < {entries[-1][0]:g})"
            )
        entries.append((at_s, _outcomes(fields.get(mapping, "outcomes", field), f"{field}.outcomes")))
    return tuple(entries)


def _amd(raw: object) -> Amd:
    mapping = fields.mapping(raw, "amd")
    fields.known(mapping, "amd", ("enabled", "detect_s", "human_as_machine", "machine_as_human"))
    if not fields.flag(fields.get(mapping, "enabled", "amd"), "amd.enabled"):
        return Amd()
    return Amd(
        enabled=True,
        detect_s=parse_distribution(fields.get(mapping, "detect_s", "amd"), "amd.detect_s"),
        human_as_machine=fields.probability(
            fields.get(mapping, "human_as_machine", "amd"), "amd.human_as_machine"
        ),
        machine_as_human=fields.probability(
            fields.get(mapping, "machine_as_human", "amd"), "amd.machine_as_human"
        ),
    )
