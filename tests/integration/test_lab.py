"""The real lab: calls placed with the pbx's CLI, checked against the carrier's ground-truth log."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

import pytest

from dialer.asterisk.carrier_log import CarrierCall
from dialer.asterisk.carrier_plan import behaviour_for
from dialer.asterisk.lab import Lab
from dialer.asterisk.lab_config import CARRIER, InstanceLayout, instance_files
from dialer.asterisk.lab_instance import AsteriskInstance
from dialer.asterisk.rootfs import module_dir
from ringcast.errors import UserError
from ringcast.settings import LabSettings, Settings

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]


def call(lab: Lab, number: str, hold_s: int = 20) -> float:
    """Dial `number` on the trunk from the pbx (the pbx side just waits); the time it was placed."""
    placed_at = time.time()
    lab.pbx_cli(f"channel originate PJSIP/{number}@carrier application Wait {hold_s}")
    return placed_at


def carrier_call(
    lab: Lab, number: str, since: float, until: Callable[[CarrierCall], bool], timeout_s: float = 20
) -> CarrierCall:
    deadline = time.monotonic() + timeout_s
    while True:
        calls = lab.carrier_log(since=since, number=number)
        if calls and until(calls[0]):
            assert len(calls) == 1
            return calls[0]
        assert time.monotonic() < deadline, f"carrier log for {number}: {calls}"
        time.sleep(0.1)


def ended(c: CarrierCall) -> bool:
    return c.ended_at is not None


def test_a_human_answers_sends_its_digit_and_hangs_up_after_its_talk_time(lab: Lab) -> None:
    number = "13800134011"  # human, rings 1 s, talks 5 s, sends 4
    expected = behaviour_for(number)
    got = carrier_call(lab, number, call(lab, number), ended)
    assert got.planned == "human"
    assert got.answered_at is not None and got.talk_s is not None
    assert got.answered_at - got.started_at == pytest.approx(expected.ring_s, abs=0.3)
    assert got.dtmf_sent == expected.dtmf == "4"
    assert got.talk_s == pytest.approx(expected.talk_s, abs=0.3)
    assert got.hangup_cause == 16


def test_a_machine_answers_without_digits(lab: Lab) -> None:
    number = "13800130004"  # machine, answers at once, hangs up after 5 s
    got = carrier_call(lab, number, call(lab, number), ended)
    assert (got.planned, got.dtmf_sent, got.hangup_cause) == ("machine", "", 16)
    assert got.talk_s == pytest.approx(5, abs=0.3)


@pytest.mark.parametrize(
    ("number", "planned", "cause"),
    [("13800130016", "busy", 17), ("13800130018", "congestion", 34), ("+13800130019", "invalid", 1)],
)
def test_rejected_numbers_are_never_answered(lab: Lab, number: str, planned: str, cause: int) -> None:
    got = carrier_call(lab, number, call(lab, number), ended)
    assert (got.planned, got.answered_at, got.hangup_cause) == (planned, None, cause)
    assert behaviour_for(number).reject_cause == cause


def test_no_answer_rings_until_the_caller_gives_up(lab: Lab) -> None:
    number = "13800130007"
    since = call(lab, number)
    carrier_call(lab, number, since, lambda c: True)
    time.sleep(2)
    assert not ended(carrier_call(lab, number, since, lambda c: True))
    lab.reset()
    got = carrier_call(lab, number, since, ended, timeout_s=5)
    assert got.answered_at is None and got.duration_s is not None and got.duration_s >= 2


def test_agent_phones_answer_quickly_and_stay_up_until_reset(lab: Lab) -> None:
    since = call(lab, "agent-alice", hold_s=60)
    call(lab, "agent-noanswer-bob", hold_s=60)
    alice = carrier_call(lab, "agent-alice", since, lambda c: c.answered_at is not None)
    assert alice.answered_at is not None and alice.answered_at - alice.started_at < 1.0
    time.sleep(1)
    bob = carrier_call(lab, "agent-noanswer-bob", since, lambda c: True)
    assert (bob.planned, bob.answered_at, bob.ended_at) == ("agent_noanswer", None, None)
    assert not ended(carrier_call(lab, "agent-alice", since, lambda c: True))
    lab.reset()
    assert ended(carrier_call(lab, "agent-alice", since, ended, timeout_s=5))
    assert ended(carrier_call(lab, "agent-noanswer-bob", since, ended, timeout_s=5))


def test_pbx_runs_the_ringcast_dialplan(lab: Lab) -> None:
    contexts = lab.pbx_cli("dialplan show")
    for context in ("ringcast-agi", "ringcast-park", "ringcast-amd", "ringcast-agent", "ringcast-outbound"):
        assert f"'{context}'" in contexts
    assert "Asterisk 22" in lab.pbx_cli("core show version")


def test_up_on_a_running_lab_only_checks_it(lab: Lab) -> None:
    before = lab.status()
    after = lab.up()
    assert after.running and [i.pid for i in after.instances] == [i.pid for i in before.instances]
    assert all(i.boot_s is None for i in after.instances)


def test_restart_one_instance(lab: Lab) -> None:
    pids = {i.name: i.pid for i in lab.status().instances}
    assert lab.restart("pbx") < 5
    after = {i.name: i.pid for i in lab.status().instances}
    assert after["pbx"] not in (None, pids["pbx"]) and after["carrier"] == pids["carrier"]


def test_down_is_idempotent_and_up_brings_it_back(lab: Lab) -> None:
    lab.down()
    lab.down()
    assert not any(i.running for i in lab.status().instances)
    status = lab.up()
    assert status.running and all(i.boot_s is not None and i.boot_s < 5 for i in status.instances)


def test_an_instance_that_cannot_start_reports_its_log(lab: Lab) -> None:
    layout = InstanceLayout("broken")
    instance = AsteriskInstance(lab.root, layout)
    settings = Settings(
        lab=LabSettings(carrier_address="127.0.0.3", carrier_sip_port=5099, carrier_ami_port=5098)
    )
    files = instance_files(CARRIER, settings, "secret", module_dir(lab.root))
    files["asterisk.conf"] = files["asterisk.conf"].replace("/carrier", "/broken")
    files["modules.conf"] += "require => app_nonexistent.so\n"
    instance.write_config(files)
    try:
        with pytest.raises(UserError, match=r"stopped during start-up: .*app_nonexistent\.so"):
            instance.start(boot_timeout_s=10)
        assert instance.pid() is None
    finally:
        for directory in layout.dirs:
            shutil.rmtree(instance.host_path(directory), ignore_errors=True)
