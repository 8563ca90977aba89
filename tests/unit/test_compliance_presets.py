"""Compliance presets and how a campaign tightens them freely and loosens them only with an override."""

from __future__ import annotations

from dataclasses import fields
from datetime import time, timedelta
from typing import Any

import pytest

from campaigns.compliance.hours import CallingHours, CallingWindow
from campaigns.compliance.presets import (
    DAYTIME,
    PRESETS,
    AbandonWindow,
    AuditNote,
    ComplianceSettings,
    Customised,
    Override,
    customise,
)
from campaigns.persistence.models.enums import CompliancePreset as P
from ringcast.errors import UserError


def hours(*windows: tuple[int, int], days: frozenset[int] | None = None) -> CallingHours:
    spans = tuple(CallingWindow(time(start), time(end)) for start, end in windows)
    return CallingHours(spans) if days is None else CallingHours(spans, days)


BOSS = Override("li.wei", "client contract allows it", frozenset({"calling_hours", "redial_after_abandon"}))


def test_presets_carry_the_spec_figures() -> None:
    cn, us, uk, custom = (PRESETS[p] for p in (P.CN, P.US, P.UK, P.CUSTOM))
    assert (cn.abandon_cap, cn.abandon_window, cn.calling_hours) == (0.03, AbandonWindow.DAY, hours((9, 21)))
    assert (us.abandon_window, us.calling_hours) == (AbandonWindow.ROLLING_30_DAYS, hours((8, 21)))
    assert (uk.abandon_window, uk.calling_hours) == (AbandonWindow.DAY, hours((8, 21)))
    assert (uk.counts_amd_false_positives, uk.redial_after_abandon) == (True, timedelta(hours=72))
    assert uk.machine_redial_same_day_needs_agent
    assert not (cn.counts_amd_false_positives or us.counts_amd_false_positives)
    assert cn.redial_after_abandon is us.redial_after_abandon is None
    assert custom == ComplianceSettings(P.CUSTOM)
    for settings in (cn, us, uk, custom):
        assert settings.min_ring == timedelta(seconds=15)
        assert settings.connect_within == timedelta(seconds=2)
        assert settings.abandon_message_required and settings.caller_id_required
        assert (settings.attempts_per_number_day, settings.attempts_per_number_week) == (3, None)
    assert [p.preset for p in PRESETS.values()] == list(PRESETS)


def test_tightening_is_free() -> None:
    changes: dict[str, Any] = {
        "abandon_cap": 0.02,
        "calling_hours": hours((10, 12), (14, 20), days=frozenset({1, 2, 3, 4, 5})),
        "attempts_per_number_day": 2,
        "attempts_per_number_week": 6,
        "min_ring": timedelta(seconds=20),
        "connect_within": timedelta(seconds=1),
        "redial_after_abandon": timedelta(hours=24),
        "machine_redial_same_day_needs_agent": True,
    }
    result = customise(P.US, changes)
    assert result == Customised(
        ComplianceSettings(P.US, abandon_window=AbandonWindow.ROLLING_30_DAYS, **changes)
    )


@pytest.mark.parametrize(
    ("preset", "name", "value", "message"),
    [
        (P.CN, "abandon_cap", 0.05, "0.05 is looser than 0.03 of the cn preset"),
        (P.CN, "calling_hours", hours((8, 21)), "08:00-21:00 every day is looser than 09:00-21:00 every day"),
        (P.CN, "abandon_window", AbandonWindow.ROLLING_30_DAYS, "30_days is looser than day"),
        (P.US, "abandon_window", AbandonWindow.CAMPAIGN, "campaign is looser than 30_days"),
        (P.UK, "redial_after_abandon", timedelta(hours=24), "1 day, 0:00:00 is looser than 3 days"),
        (P.UK, "redial_after_abandon", None, "None is looser than 3 days, 0:00:00"),
        (P.UK, "counts_amd_false_positives", False, "False is looser than True"),
        (P.US, "caller_id_required", False, "False is looser than True"),
        (P.US, "attempts_per_number_day", None, "None is looser than 3"),
        (P.US, "min_ring", timedelta(seconds=10), "0:00:10 is looser than 0:00:15"),
    ],
)
def test_loosening_needs_an_override(preset: P, name: str, value: object, message: str) -> None:
    with pytest.raises(
        UserError, match=f"^compliance {name}: {message}.*needs an override saying who and why$"
    ):
        customise(preset, {name: value})


def test_an_override_loosens_the_settings_it_names_and_is_audited() -> None:
    night = hours((8, 22))
    result = customise(P.UK, {"calling_hours": night, "abandon_cap": 0.02}, BOSS)
    assert result.settings.calling_hours == night
    assert result.settings.abandon_cap == 0.02
    note = AuditNote(
        "li.wei",
        "client contract allows it",
        P.UK,
        "calling_hours",
        "08:00-21:00 every day",
        "08:00-22:00 every day",
    )
    assert result.audit == (note,)
    assert note.action == "compliance.override"
    assert note.details() == {
        "preset": "uk",
        "setting": "calling_hours",
        "old": "08:00-21:00 every day",
        "new": "08:00-22:00 every day",
        "reason": "client contract allows it",
    }
    with pytest.raises(UserError, match=r"compliance abandon_cap: 0\.05 is looser"):
        customise(P.UK, {"abandon_cap": 0.05}, BOSS)


def test_overrides_must_say_who_why_and_what() -> None:
    with pytest.raises(UserError, match="compliance override: say who decides it and why"):
        Override("li.wei", " ", frozenset({"abandon_cap"}))
    with pytest.raises(UserError, match="compliance override: no setting named abandon_rate"):
        Override("li.wei", "why not", frozenset({"abandon_rate"}))
    with pytest.raises(UserError, match="compliance: no setting named preset, ring"):
        customise(P.CN, {"ring": 1, "preset": P.US})


def test_every_setting_can_be_customised() -> None:
    names = [f.name for f in fields(ComplianceSettings) if f.name != "preset"]
    base = PRESETS[P.CN]
    assert customise(P.CN, {name: getattr(base, name) for name in names}) == Customised(base)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("abandon_cap", 0.0, "must be above 0 and at most 1 \\(got 0.0\\)"),
        ("abandon_cap", 1.5, "must be above 0 and at most 1"),
        ("amd_false_positive_share", 1.2, "must be in \\[0, 1\\]"),
        ("attempts_per_number_day", 0, "must be at least 1"),
        ("attempts_per_number_week", 0, "must be at least 1"),
        ("min_ring", timedelta(0), "must be positive"),
        ("redial_after_abandon", timedelta(0), "must be positive"),
    ],
)
def test_impossible_values_are_refused_naming_the_setting(name: str, value: object, message: str) -> None:
    with pytest.raises(UserError, match=f"^compliance {name}: {message}"):
        customise(P.CN, {name: value})


def test_hours_that_never_open_are_refused() -> None:
    with pytest.raises(UserError, match="calling hours: no window given"):
        CallingHours(())
    with pytest.raises(UserError, match="calling hours days: give weekdays 1 \\(Monday\\) to 7"):
        hours((9, 21), days=frozenset())
    with pytest.raises(UserError, match="calling hours days"):
        hours((9, 21), days=frozenset({0}))


def test_uk_with_amd_needs_an_estimate_of_false_positives() -> None:
    with pytest.raises(UserError, match="compliance amd_false_positive_share: the uk preset counts humans"):
        PRESETS[P.UK].require_amd_estimate()
    customise(P.UK, {"amd_false_positive_share": 0.02}).settings.require_amd_estimate()
    PRESETS[P.CN].require_amd_estimate()


@pytest.mark.parametrize(
    ("wide", "narrow", "covers"),
    [
        (hours((9, 21)), hours((10, 20)), True),
        (hours((9, 21)), hours((9, 12), (13, 21)), True),
        (hours((9, 12), (13, 21)), hours((9, 21)), False),
        (hours((9, 21)), hours((8, 10)), False),
        (hours((9, 21), days=frozenset({1, 2, 3, 4, 5})), hours((9, 21)), False),
        (hours((9, 21)), hours((9, 21), days=frozenset({6, 7})), True),
        (hours((20, 2)), hours((23, 1)), True),  # across midnight
        (hours((20, 2)), hours((0, 1)), True),  # the small hours of every day follow the evening before
        (hours((20, 2), days=frozenset({5})), hours((0, 1), days=frozenset({6})), True),
        (hours((20, 2), days=frozenset({5})), hours((0, 1), days=frozenset({5})), False),
        (hours((20, 2), days=frozenset({7})), hours((0, 1), days=frozenset({1})), True),  # Sunday into Monday
        (hours((0, 0)), hours((22, 6)), True),  # 00:00-00:00 is the whole day
        (hours((22, 6)), hours((0, 0)), False),
    ],
)
def test_calling_hours_cover(wide: CallingHours, narrow: CallingHours, covers: bool) -> None:
    assert wide.covers(narrow) is covers
    assert customise(P.CUSTOM, {"calling_hours": wide}, Override("a", "b", frozenset({"calling_hours"})))


def test_default_hours_are_daytime() -> None:
    assert hours((9, 21)) == DAYTIME
    assert str(hours((9, 12), (14, 21), days=frozenset({1, 3}))) == "09:00-12:00, 14:00-21:00 on Mon,Wed"
