"""The AMI link and the FastAGI server against the real lab: pbx → PJSIP trunk → carrier."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from dialer.asterisk.ami import AmiLink, OriginateRequest, endpoint_from_settings
from dialer.asterisk.carrier_plan import behaviour_for
from dialer.asterisk.confgen import AGI_URL_VAR
from dialer.asterisk.events import AmiEvent, LinkDown, LinkUp
from dialer.asterisk.fastagi import AgiCall, FastAgiServer
from dialer.asterisk.probe import CallProbe
from ringcast.settings import load_settings

pytestmark = pytest.mark.lab


@pytest.fixture
async def ami(lab: object) -> AsyncIterator[AmiLink]:
    endpoint = dataclasses.replace(endpoint_from_settings(load_settings()), reconnect_max_s=1.0)
    link = AmiLink(endpoint)
    await link.connect()
    yield link
    await link.close()


async def test_human_answers_sends_its_digit_and_hangs_up_after_talk_time(ami: AmiLink, lab) -> None:  # type: ignore[no-untyped-def]
    number = "13800137020"
    expected = behaviour_for(number)
    [call] = await CallProbe(ami, caller_id="4008001234").run([number], ring_timeout_s=10, timeout_s=40)
    assert call.outcome == "answered"
    assert call.amd_status == "HUMAN"
    assert call.digits == expected.dtmf
    assert call.hangup_cause == 16
    assert call.talk_s is not None and abs(call.talk_s - expected.talk_s) < 1.5
    received = [c for c in lab.carrier_log() if c.number == number and c.started_at >= call.started_at - 1]
    assert len(received) == 1
    assert received[0].caller_id == "4008001234"
    assert received[0].dtmf_sent == expected.dtmf


@pytest.mark.parametrize(
    ("number", "outcome", "cause"),
    [
        ("13800130016", "busy", 17),
        ("13800130018", "congestion", 34),
        ("13800130019", "invalid", 1),
    ],
)
async def test_unsuccessful_calls_report_outcome_and_cause(
    ami: AmiLink, number: str, outcome: str, cause: int
) -> None:
    [call] = await CallProbe(ami).run([number], ring_timeout_s=10, timeout_s=20)
    assert (call.outcome, call.hangup_cause) == (outcome, cause)
    assert call.answered_at is None


async def test_no_answer_gives_up_at_the_ring_timeout(ami: AmiLink) -> None:
    [call] = await CallProbe(ami).run(["13800130007"], ring_timeout_s=3, timeout_s=20)
    assert call.outcome == "no_answer"
    assert call.ended_at is not None and 2.5 <= call.ended_at - call.started_at <= 6


async def test_answering_machine_is_detected(ami: AmiLink) -> None:
    [call] = await CallProbe(ami).run(["13800130124"], ring_timeout_s=10, timeout_s=40)
    assert (call.outcome, call.amd_status) == ("answered", "MACHINE")


async def test_fastagi_route_reads_the_digit_the_carrier_sends(ami: AmiLink) -> None:
    settings = load_settings()
    number = "13800134021"
    got: asyncio.Future[tuple[str, str | None]] = asyncio.get_running_loop().create_future()

    async def read_digit(call: AgiCall) -> None:
        attempt = await call.variable("RINGCAST_ATTEMPT")
        digit = await call.get_data("silence/1", 8000, 1)
        got.set_result((attempt, digit))

    server = FastAgiServer(settings.fastagi.host, settings.fastagi.port)
    server.route("read-digit", read_digit)
    await server.start()
    try:
        await ami.originate(
            OriginateRequest(
                channel=f"PJSIP/{number}@carrier",
                context="ringcast-agi",
                variables={  # the engine names its FastAGI server on each call, as here
                    AGI_URL_VAR: f"agi://{settings.fastagi.host}:{settings.fastagi.port}",
                    "RINGCAST_AGI_ROUTE": "read-digit",
                    "RINGCAST_ATTEMPT": "42",
                },
            )
        )
        assert await asyncio.wait_for(got, 30) == ("42", behaviour_for(number).dtmf)
    finally:
        await server.stop()


async def test_link_reconnects_after_the_pbx_restarts(ami: AmiLink, lab) -> None:  # type: ignore[no-untyped-def]
    events: list[AmiEvent] = []
    ami.subscribe(events.append)
    await asyncio.to_thread(lab.restart, "pbx")
    deadline = asyncio.get_running_loop().time() + 30
    while not any(isinstance(e, LinkUp) and e.reconnect for e in events):
        assert asyncio.get_running_loop().time() < deadline, f"no reconnect, saw {events}"
        await asyncio.sleep(0.1)
    assert isinstance(next(e for e in events if isinstance(e, LinkDown | LinkUp)), LinkDown)
    assert "Asterisk 22" in await ami.command("core show version")
