"""The lab's generated Asterisk configuration: separate instances, trimmed modules, the carrier's plan."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

from dialer.asterisk.carrier_dialplan import carrier_dialplan
from dialer.asterisk.carrier_plan import (
    OUTCOME_BY_LAST_DIGIT,
    REJECT_CAUSES,
    RESPONDENT_SILENCE_MS,
    respondent_number,
    respondent_script,
)
from dialer.asterisk.lab_config import CALLS_LOG, CARRIER, INSTANCES, PBX, InstanceLayout, instance_files
from dialer.asterisk.lab_instance import set_aside_if_larger
from ringcast.settings import LabSettings, Settings

MODULES = PurePosixPath("/usr/lib/x86_64-linux-gnu/asterisk/modules")


@pytest.fixture
def files() -> dict[str, dict[str, str]]:
    settings = Settings(lab=LabSettings(pbx_sip_port=5062, carrier_rtp_ports=(20000, 20100)))
    return {name: instance_files(name, settings, "s3cret", MODULES) for name in INSTANCES}


def test_each_instance_has_its_own_directories(files: dict[str, dict[str, str]]) -> None:
    for name in INSTANCES:
        conf = files[name]["asterisk.conf"]
        assert conf.startswith("[directories]\n")  # not Debian's `[directories](!)` template
        layout = InstanceLayout(name)
        for directory in (layout.etc_dir, layout.run_dir, layout.log_dir, layout.lib_dir, layout.spool_dir):
            assert str(directory) in conf
        assert f"astmoddir => {MODULES}" in conf
    assert InstanceLayout(PBX).run_dir != InstanceLayout(CARRIER).run_dir


def test_only_needed_modules_are_loaded_and_all_are_required(files: dict[str, dict[str, str]]) -> None:
    for name in INSTANCES:
        lines = files[name]["modules.conf"].splitlines()
        assert "autoload = no" in lines
        assert all(line.startswith("require => ") for line in lines[2:] if line)
    assert "require => app_amd.so" in files[PBX]["modules.conf"]
    assert "require => app_senddtmf.so" in files[CARRIER]["modules.conf"]


def test_pbx_includes_ringcasts_snippets_as_an_operator_would(files: dict[str, dict[str, str]]) -> None:
    pbx = files[PBX]
    for snippet in ("extensions", "confbridge", "manager", "pjsip"):
        assert f"#include {snippet}_ringcast.conf" in pbx[f"{snippet}.conf"]
        assert f"{snippet}_ringcast.conf" in pbx
    assert "bind = 127.0.0.1:5062" in pbx["pjsip.conf"]
    assert "endpoint_identifier_order = username,auth_username,ip" in pbx["pjsip.conf"]
    assert "contact=sip:127.0.0.2:5060" in pbx["pjsip_ringcast.conf"]
    assert "secret=s3cret" in pbx["manager_ringcast.conf"]
    assert "bindaddr = 127.0.0.1\nport = 5038" in pbx["manager.conf"]
    assert "rtpstart = 10000\nrtpend = 14999" in pbx["rtp.conf"]
    assert "transmit_silence = no" in pbx["asterisk.conf"]


def test_carrier_plays_the_network(files: dict[str, dict[str, str]]) -> None:
    carrier = files[CARRIER]
    assert "bind = 127.0.0.2:5060" in carrier["pjsip.conf"]
    assert "contact = sip:127.0.0.1:5062" in carrier["pjsip.conf"]
    assert "match = 127.0.0.1" in carrier["pjsip.conf"]
    assert "rtpstart = 20000\nrtpend = 20100" in carrier["rtp.conf"]
    assert "transmit_silence = no" in carrier["asterisk.conf"]  # its respondents listen for silence
    assert carrier["extensions.conf"] == carrier_dialplan(str(CALLS_LOG))
    assert "bindaddr = 127.0.0.2" in carrier["manager.conf"]
    assert "permit=127.0.0.0/255.0.0.0" in carrier["manager.conf"]  # clients reach 127.0.0.2 from 127.0.0.1


def test_carrier_dialplan_mirrors_the_python_plan() -> None:
    text = carrier_dialplan("/var/log/calls.log")
    outcomes = dict(re.findall(r"^OUTCOME_(\d)=(\w+)$", text, re.MULTILINE))
    assert outcomes == {str(digit): outcome.value for digit, outcome in enumerate(OUTCOME_BY_LAST_DIGIT)}
    for outcome, (cause, _) in REJECT_CAUSES.items():
        assert f"exten => {outcome},1,Hangup({cause})" in text
    assert "Set(TALK_S=$[5 + 5 * ${PLAN:-3:1}])" in text
    assert "CALLS_LOG=/var/log/calls.log" in text


def test_agent_patterns_escape_the_n_wildcard() -> None:
    text = carrier_dialplan("/log")
    assert "exten => _age[n]t-.,1," in text
    assert "exten => _age[n]t-[n]oa[n]swer-.,1," in text
    assert "_agent" not in text


def test_call_setup_needs_no_dns(files: dict[str, dict[str, str]]) -> None:
    """ICE and an unbound RTP address make Asterisk look up its own host name per call: offline,
    that stalled call set-up for seconds. Both sides bind RTP to their loopback address instead."""
    for name in INSTANCES:
        assert "icesupport = no" in files[name]["rtp.conf"].splitlines()
    assert "media_address=127.0.0.1" in files[PBX]["pjsip_ringcast.conf"].splitlines()
    assert "media_address = 127.0.0.2" in files[CARRIER]["pjsip.conf"].splitlines()
    for pjsip in (files[PBX]["pjsip_ringcast.conf"], files[CARRIER]["pjsip.conf"]):
        assert re.search(r"bind_rtp_to_media_address ?= ?yes", pjsip)


def test_survey_respondents_follow_the_script_in_their_number() -> None:
    number = respondent_number(7, "5980")
    assert number == "+86170007" + "5980"
    assert respondent_script(number) == "5980"
    assert respondent_script("+8613800001234") is None
    text = carrier_dialplan("/log")
    assert "exten => _+86170XXX.,1,Gosub(carrier-log,received,1(${EXTEN},respondent))" in text
    assert "exten => s,1,Set(SCRIPT=${NUMBER:9})" in text  # after +86170 and the serial
    assert f"WaitForSilence({RESPONDENT_SILENCE_MS},1,60)" in text


def test_a_grown_log_is_set_aside_and_one_previous_kept(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    assert not set_aside_if_larger(log, 10)  # no log yet
    log.write_text("x" * 10)
    assert not set_aside_if_larger(log, 10) and log.exists()
    log.write_text("y" * 11)
    (tmp_path / "calls.log.1").write_text("older")
    assert set_aside_if_larger(log, 10)
    assert not log.exists() and (tmp_path / "calls.log.1").read_text() == "y" * 11
