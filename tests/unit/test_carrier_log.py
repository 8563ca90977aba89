"""Parsing the carrier's ground-truth log into calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.asterisk.carrier_log import CarrierCall, parse_line, read_calls

LOG = """\
100.000 received uniqueid=1.0 linkedid=1.0 number=13800137020 caller_id=4008001234 outcome=human
100.010 received uniqueid=1.1 linkedid=1.1 number=13800130016 caller_id= outcome=busy
100.011 hangup uniqueid=1.1 linkedid=1.1 number=13800130016 caller_id= cause=17 duration=0.001000
102.000 answered uniqueid=1.0 linkedid=1.0 number=13800137020 caller_id=4008001234
104.450 dtmf uniqueid=1.0 linkedid=1.0 number=13800137020 caller_id=4008001234 digit=7
107.000 hangup uniqueid=1.0 linkedid=1.0 number=13800137020 caller_id=4008001234 cause=16 duration=7.000000
"""


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "calls.log"
    path.write_text(LOG)
    return path


def test_events_fold_into_calls_in_arrival_order(log: Path) -> None:
    human, busy = read_calls(log)
    assert human == CarrierCall(
        uniqueid="1.0",
        linkedid="1.0",
        number="13800137020",
        caller_id="4008001234",
        planned="human",
        started_at=100.0,
        answered_at=102.0,
        dtmf_sent="7",
        ended_at=107.0,
        hangup_cause=16,
        duration_s=7.0,
    )
    assert human.talk_s == 5.0
    assert (busy.planned, busy.answered_at, busy.hangup_cause, busy.talk_s) == ("busy", None, 17, None)


def test_filter_by_time_and_number(log: Path) -> None:
    assert [c.number for c in read_calls(log, since=100.005)] == ["13800130016"]
    assert [c.uniqueid for c in read_calls(log, number="13800137020")] == ["1.0"]
    assert read_calls(log, since=200) == []


def test_a_line_being_written_is_ignored(log: Path) -> None:
    log.write_text(LOG + "108.000 received uniqueid=1.2 linkedid=1.2 numb")
    assert len(read_calls(log)) == 2


def test_missing_log_means_no_calls(tmp_path: Path) -> None:
    assert read_calls(tmp_path / "absent.log") == []


def test_an_event_without_details_may_end_in_a_space() -> None:
    assert parse_line("1.0 answered uniqueid=u linkedid=l number=1 caller_id= ").details == {}


def test_parse_line_keeps_event_details() -> None:
    event = parse_line("1.5 dtmf uniqueid=u linkedid=l number=agent-bob caller_id=+861 digit=#")
    assert (event.at, event.event, event.number, event.caller_id, event.details) == (
        1.5,
        "dtmf",
        "agent-bob",
        "+861",
        {"digit": "#"},
    )
