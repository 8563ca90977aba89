"""The campaign spec (what users give) and config (what the engine runs): parsing, validation, compliance."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest

from campaigns.compliance.hours import CallingHours, CallingWindow
from campaigns.compliance.presets import AbandonWindow
from campaigns.config import (
    DEFAULT_DISPOSITIONS,
    CampaignConfig,
    CampaignSpec,
    ListShare,
    parse_calling_hours,
    parse_duration,
)
from campaigns.lifecycle import Disposition
from campaigns.persistence.models.enums import CampaignState, CompliancePreset, DialMode
from ringcast.errors import UserError


def config(spec: CampaignSpec, **overrides: Any) -> CampaignConfig:
    compliance = spec.compliance(changed=(), approved=(), actor="test", reason=None).settings
    values: dict[str, Any] = {
        "id": 1,
        "name": "秋季回访",
        "state": CampaignState.DRAFT,
        "agent_group_id": None,
        "survey_id": None,
        "dispositions": tuple(d.disposition() for d in DEFAULT_DISPOSITIONS),
        "lists": (ListShare(1, 0, 1),),
    }
    return CampaignConfig.build(spec, compliance, **(values | overrides))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10), ("10m", 600), ("2h", 7200), ("1d", 86_400), ("1h30m", 5400), ("45", 45), (12.5, 12.5)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_calling_hours_text() -> None:
    assert parse_calling_hours("09:00-12:00, 13:30-20:00") == CallingHours(
        (CallingWindow(time(9), time(12)), CallingWindow(time(13, 30), time(20)))
    )
    assert parse_calling_hours("00:00-24:00").windows[0].length_s == 86_400
    assert CampaignSpec.parse({"calling_hours": "9:00-12:00,13:30-24:00"}).calling_hours == (
        "09:00-12:00,13:30-24:00"
    )


def test_cli_spellings_become_typed_values() -> None:
    spec = CampaignSpec.parse(
        {
            "dial_mode": "ratio",
            "ratio": 2.5,
            "retry": "no_answer=2h, busy=10m, machine=never",
            "max_attempts": 4,
            "lists": ["广州客户 2026-11:5:2", "backup"],
            "dispositions": ["sale:final", "call_back_later:retry=1h", "no_time:retry"],
            "wrap_up_s": "10s",
            "min_wrap_s": "5s",
            "ring_timeout_s": "25s",
            "preset": "us",
            "abandon_window": "day",
        }
    )
    built = config(spec)
    assert built.dial_mode is DialMode.RATIO and built.ratio == 2.5
    assert built.retry.no_answer == timedelta(hours=2) and built.retry.busy == timedelta(minutes=10)
    assert built.retry.machine is None and built.retry.max_attempts == 4
    assert built.retry.failed == timedelta(hours=1)  # unset outcomes keep the lifecycle's defaults
    lists = [(s.name, s.priority, s.weight) for s in spec.lists]
    assert lists == [("广州客户 2026-11", 5, 2), ("backup", 0, 1)]
    assert [d.disposition() for d in spec.dispositions] == [
        Disposition("sale", True),
        Disposition("call_back_later", False, timedelta(hours=1)),
        Disposition("no_time", False),
    ]
    assert (built.wrap_up_s, built.min_wrap_s, built.ring_timeout_s) == (10, 5, 25)
    assert built.compliance.abandon_window is AbandonWindow.DAY  # tighter than the us preset's 30 days
    assert spec.given()["retry"] == {"no_answer": 7200.0, "busy": 600.0, "machine": None}


def test_defaults_come_from_the_preset() -> None:
    built = config(CampaignSpec.parse({"preset": "uk"}))
    assert built.time_zone == "Europe/London"
    assert built.ring_timeout_s == 15.0  # the preset's minimum ring
    assert built.compliance.redial_after_abandon == timedelta(hours=72)
    assert (built.wrap_up_s, built.max_occupancy, built.amd, built.max_lines) == (None, 1.0, False, None)
    assert config(CampaignSpec()).time_zone == "Asia/Shanghai"
    assert CampaignSpec.parse({"wrap_up_s": "none"}).wrap_up_s is None


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"abandon_cap": 0}, "campaign abandon_cap: must be above 0 and at most 1"),
        ({"abandon_cap": 1.5}, "campaign abandon_cap: must be above 0 and at most 1"),
        ({"calling_hours": "09:00-09:00"}, "campaign calling_hours: 09:00-09:00 never opens"),
        ({"calling_hours": ""}, "campaign calling_hours: no window given"),
        ({"calling_hours": "9-21"}, "campaign calling_hours: 9-21: give times as HH:MM"),
        ({"calling_hours": "09:00"}, "campaign calling_hours: 09:00: give a window as START-END"),
        ({"retry": "no_answer"}, "campaign retry: no_answer: give OUTCOME=DELAY"),
        ({"retry": "sometimes=2h"}, "campaign retry.sometimes: Input should be 'no_answer'"),
        ({"retry": "busy=soon"}, "campaign retry.busy: not a duration"),
        ({"wrap_up_s": "-5"}, "campaign wrap_up_s: Input should be greater than or equal to 0"),
        ({"wrap_up_s": "inf"}, "campaign wrap_up_s: give a duration of at most 366 days"),
        ({"retry": "busy=400d"}, "campaign retry.busy: give a duration of at most 366 days"),
        ({"lists": ["L:1:0"]}, "campaign lists.0.weight: Input should be greater than or equal to 1"),
        ({"dispositions": ["sale:maybe"]}, "campaign dispositions: sale:maybe: give CODE:final or"),
        ({"dispositions": ["sale:final", "sale:retry"]}, "campaign dispositions: code sale given twice"),
        ({"dispositions": ["Sale!:final"]}, "campaign dispositions.0.code: String should match"),
        ({"time_zone": "Mars/Olympus"}, "campaign time_zone: not an IANA time zone"),
        ({"caller_id": "hidden"}, "campaign caller_id: give the number callees see"),
        ({"trunk": "a b"}, "campaign trunk: give a PJSIP endpoint name"),
        ({"abandon_message": "sorry,goodbye"}, "campaign abandon_message: give Asterisk sound files"),
        ({"announce_prompt": "custom/gonghao.wav"}, "campaign announce_prompt: give Asterisk sound files"),
        ({"announce_prompt": "a&&b"}, "campaign announce_prompt: give Asterisk sound files"),
        ({"dial_mode": "telepathic"}, "campaign dial_mode: Input should be 'preview'"),
        ({"ratio": 0}, "campaign ratio: Input should be greater than 0"),
        ({"max_occupancy": 0}, "campaign max_occupancy: Input should be greater than 0"),
        ({"max_lines": 0}, "campaign max_lines: Input should be greater than or equal to 1"),
        ({"max_attempts": 0}, "campaign max_attempts: Input should be greater than or equal to 1"),
        ({"mode": "predictive"}, "campaign mode: no such campaign setting"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(given: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError) as raised:
        CampaignSpec.parse(given)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_ring_timeout_below_the_minimum_ring_is_refused() -> None:
    with pytest.raises(UserError, match="ring_timeout_s: at least the cn preset's minimum ring of 15 s"):
        config(CampaignSpec.parse({"ring_timeout_s": "10s"}))


def test_config_refuses_repeated_disposition_codes() -> None:
    with pytest.raises(UserError, match="codes must be unique"):
        config(CampaignSpec(), dispositions=(Disposition("sale", True), Disposition("sale", False)))


def test_tightening_is_free_and_loosening_needs_a_reason() -> None:
    both = {"calling_hours", "abandon_cap"}
    tighter = CampaignSpec.parse({"calling_hours": "10:00-20:00", "abandon_cap": 0.02})
    customised = tighter.compliance(changed=both, approved=(), actor="a", reason=None)
    assert customised.audit == () and customised.settings.abandon_cap == 0.02

    looser = CampaignSpec.parse({"calling_hours": "08:00-22:00", "abandon_cap": 0.05})
    with pytest.raises(UserError) as raised:
        looser.compliance(changed=both, approved=(), actor="a", reason=None)
    assert raised.value.hint == "give an override reason; it is audited"
    allowed = looser.compliance(changed=both, approved=(), actor="li", reason="合同")
    assert sorted((n.setting, n.actor, n.reason) for n in allowed.audit) == [
        ("abandon_cap", "li", "合同"),
        ("calling_hours", "li", "合同"),
    ]


def test_an_approved_loosening_holds_until_it_changes() -> None:
    looser = CampaignSpec.parse({"calling_hours": "08:00-22:00"})
    kept = looser.compliance(changed=(), approved={"calling_hours"}, actor="a", reason=None)
    assert [note.setting for note in kept.audit] == ["calling_hours"]
    with pytest.raises(UserError, match=r"calling_hours: .* is looser"):
        looser.compliance(changed={"calling_hours"}, approved={"calling_hours"}, actor="a", reason=None)


def test_merged_keeps_what_the_update_does_not_set() -> None:
    stored = CampaignSpec.parse({"dial_mode": "predictive", "amd": True, "preset": CompliancePreset.US})
    merged = stored.merged(CampaignSpec.parse({"amd": False, "max_lines": 30}))
    assert (merged.dial_mode, merged.amd, merged.max_lines, merged.preset) == (
        DialMode.PREDICTIVE,
        False,
        30,
        CompliancePreset.US,
    )
    assert merged.model_fields_set == {"dial_mode", "amd", "preset", "max_lines"}


def test_describe_is_plain_json() -> None:
    described = config(CampaignSpec.parse({"retry": "machine=never"})).describe()
    assert described["retry"]["machine"] is None and described["retry"]["no_answer"] == 7200.0
    assert described["compliance"]["calling_hours"] == "09:00-21:00 every day"
    assert described["lists"] == [{"list_id": 1, "priority": 0, "weight": 1}]
    assert described["dispositions"][2] == {"code": "call_back_later", "final": False, "retry_after_s": None}


def test_the_engines_own_disposition_code_is_reserved() -> None:
    with pytest.raises(UserError, match="undisposed"):
        CampaignSpec.parse({"dispositions": [{"code": "undisposed", "final": False}]})


def test_sound_files_are_names_joined_by_ampersands() -> None:
    spec = CampaignSpec.parse(
        {"announce_prompt": "custom/gonghao&digits/at", "abandon_message": "vm-goodbye"}
    )
    assert (spec.announce_prompt, spec.abandon_message) == ("custom/gonghao&digits/at", "vm-goodbye")
