"""Compliance presets (`cn`, `us`, `uk`, `custom`) as typed settings, and how a campaign changes them.

The figures are those of the compliance spec (../shared/spec/compliance.md); `custom` carries
ringcast's own defaults, for markets without a preset. A campaign starts from its preset and
`customise`s it: a change that keeps a value as strict or stricter is free; one that loosens a
value is refused unless an `Override` names that setting, and then comes back as an `AuditNote`
for the caller to write to the audit log (who, why, old and new value).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import time, timedelta
from enum import StrEnum
from typing import Any

from campaigns.compliance.hours import CallingHours, CallingWindow
from campaigns.persistence.models.enums import CompliancePreset
from ringcast.errors import UserError


class AbandonWindow(StrEnum):
    """Over what the abandonment rate is measured, strictest first."""

    DAY = "day"  # each day, midnight to midnight in the campaign's zone
    ROLLING_30_DAYS = "30_days"  # the last 30 days (the whole campaign while it is younger)
    CAMPAIGN = "campaign"  # the whole campaign


DAYTIME = CallingHours((CallingWindow(time(9), time(21)),))  # ringcast's default calling hours

_WINDOW_RANK = {window: rank for rank, window in enumerate(AbandonWindow)}


@dataclass(frozen=True, slots=True)
class ComplianceSettings:
    """What a campaign must respect when it dials (see the module docstring for how values change).

    - `abandon_cap` of live-answered calls over `abandon_window`; an answered call is abandoned when
      no agent joins it within `connect_within` of the end of the greeting.
    - `counts_amd_false_positives`: humans AMD took for machines count as abandoned, at the
      operator's reasoned estimate `amd_false_positive_share` of machine verdicts (required then).
    - `abandon_message_required`: an abandoned call hears who called and a number to call back.
    - `min_ring`: a call rings at least this long before the dialer gives up.
    - `calling_hours` in the callee's local time.
    - `redial_after_abandon`: no new call to a number within this time of an abandoned call to it,
      unless an agent is reserved for the call; `machine_redial_same_day_needs_agent`: after an
      AMD "machine" verdict, the same local day only with an agent reserved.
    - `caller_id_required`: no call without a presented caller ID.
    - `attempts_per_number_day` (calendar day in the callee's zone) and `_week` (any 7 x 24 h)
      cap attempts to one number across all campaigns; None: no cap.
    """

    preset: CompliancePreset
    abandon_cap: float = 0.03
    abandon_window: AbandonWindow = AbandonWindow.DAY
    counts_amd_false_positives: bool = False
    amd_false_positive_share: float | None = None
    connect_within: timedelta = timedelta(seconds=2)
    abandon_message_required: bool = True
    min_ring: timedelta = timedelta(seconds=15)
    calling_hours: CallingHours = DAYTIME
    redial_after_abandon: timedelta | None = None
    machine_redial_same_day_needs_agent: bool = False
    caller_id_required: bool = True
    attempts_per_number_day: int | None = 3
    attempts_per_number_week: int | None = None

    def __post_init__(self) -> None:
        checks = (
            ("abandon_cap", 0.0 < self.abandon_cap <= 1.0, "must be above 0 and at most 1"),
            ("amd_false_positive_share", _share_ok(self.amd_false_positive_share), "must be in [0, 1]"),
            ("connect_within", self.connect_within > timedelta(0), "must be positive"),
            ("min_ring", self.min_ring > timedelta(0), "must be positive"),
            (
                "redial_after_abandon",
                _none_or_above(self.redial_after_abandon, timedelta(0)),
                "must be positive",
            ),
            (
                "attempts_per_number_day",
                _none_or_above(self.attempts_per_number_day, 0),
                "must be at least 1",
            ),
            (
                "attempts_per_number_week",
                _none_or_above(self.attempts_per_number_week, 0),
                "must be at least 1",
            ),
        )
        for name, ok, problem in checks:
            if not ok:
                raise UserError(f"compliance {name}: {problem} (got {getattr(self, name)})")

    def require_amd_estimate(self) -> None:
        """Call when the campaign uses AMD: the preset may need an estimate of AMD's false positives."""
        if self.counts_amd_false_positives and self.amd_false_positive_share is None:
            raise UserError(
                f"compliance amd_false_positive_share: the {self.preset.value} preset counts humans taken"
                " for machines as abandoned; set your reasoned estimate of their share (e.g. 0.02)"
            )


def _share_ok(share: float | None) -> bool:
    return share is None or 0.0 <= share <= 1.0


def _none_or_above(value: Any, floor: Any) -> bool:
    return value is None or value > floor


_US = ComplianceSettings(
    CompliancePreset.US,
    abandon_window=AbandonWindow.ROLLING_30_DAYS,
    calling_hours=CallingHours((CallingWindow(time(8), time(21)),)),
)
PRESETS: Mapping[CompliancePreset, ComplianceSettings] = {
    CompliancePreset.CN: ComplianceSettings(CompliancePreset.CN),
    CompliancePreset.US: _US,
    CompliancePreset.UK: replace(
        _US,
        preset=CompliancePreset.UK,
        abandon_window=AbandonWindow.DAY,
        counts_amd_false_positives=True,
        redial_after_abandon=timedelta(hours=72),
        machine_redial_same_day_needs_agent=True,
    ),
    CompliancePreset.CUSTOM: ComplianceSettings(CompliancePreset.CUSTOM),
}


def _lower(old: Any, new: Any) -> bool:
    """Tighter when lower; None is no limit at all."""
    return new is not None and (old is None or new <= old)


def _higher(old: Any, new: Any) -> bool:
    """Tighter when higher (a flag: True); None is no requirement at all."""
    return new is not None and (old is None or new >= old)


_TIGHTER: dict[str, Callable[[Any, Any], bool]] = {
    "abandon_cap": _lower,
    "abandon_window": lambda old, new: _WINDOW_RANK[new] <= _WINDOW_RANK[old],
    "counts_amd_false_positives": _higher,
    "amd_false_positive_share": _higher,
    "connect_within": _lower,
    "abandon_message_required": _higher,
    "min_ring": _higher,
    "calling_hours": lambda old, new: old.covers(new),
    "redial_after_abandon": _higher,
    "machine_redial_same_day_needs_agent": _higher,
    "caller_id_required": _higher,
    "attempts_per_number_day": _lower,
    "attempts_per_number_week": _lower,
}


@dataclass(frozen=True, slots=True)
class Override:
    """Leave to loosen `settings` below the preset: who decided, and why."""

    actor: str
    reason: str
    settings: frozenset[str]

    def __post_init__(self) -> None:
        if not self.actor.strip() or not self.reason.strip():
            raise UserError("compliance override: say who decides it and why")
        unknown = sorted(self.settings - _TIGHTER.keys())
        if unknown:
            raise UserError(f"compliance override: no setting named {', '.join(unknown)}")


@dataclass(frozen=True, slots=True)
class AuditNote:
    """A loosened setting, for the audit log (`action` "compliance.override")."""

    actor: str
    reason: str
    preset: CompliancePreset
    setting: str
    old: str
    new: str

    action = "compliance.override"

    def details(self) -> dict[str, str]:
        """The audit entry's `details`."""
        return {
            "preset": self.preset.value,
            "setting": self.setting,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Customised:
    settings: ComplianceSettings
    audit: tuple[AuditNote, ...] = ()


def customise(
    preset: CompliancePreset, changes: Mapping[str, Any], override: Override | None = None
) -> Customised:
    """The preset's settings with `changes` applied; a change that loosens one needs `override` to name it.

    Loosening is judged against the preset, never against a campaign's earlier values, so pass
    all of a campaign's changes every time; each loosened setting comes back as an `AuditNote`
    (the caller logs the notes of the settings this update changed).
    """
    unknown = sorted(changes.keys() - _TIGHTER.keys())
    if unknown:
        raise UserError(f"compliance: no setting named {', '.join(unknown)}")
    base = PRESETS[preset]
    settings = replace(base, **changes)
    notes = []
    for name in changes:
        old, new = getattr(base, name), getattr(settings, name)
        if new == old or _TIGHTER[name](old, new):
            continue
        if override is None or name not in override.settings:
            raise UserError(
                f"compliance {name}: {new} is looser than {old} of the {preset.value} preset;"
                " loosening needs an override saying who and why"
            )
        notes.append(AuditNote(override.actor, override.reason, preset, name, str(old), str(new)))
    return Customised(settings, tuple(notes))
