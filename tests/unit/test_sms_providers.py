"""SMS provider adapters (SMS-5) against the real gateway simulator subprocess: no HTTP mocks.

Each adapter is sent through every way the gateway can answer (accepted, refused, wrong
credentials, 5xx, 429, timeout, dropped after accepting, garbled 2xx, nothing listening) and
must give the outcome `sms.providers.base` promises; secrets must appear in no error, repr or log.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sms.providers.base import OutgoingSms, SendOutcome
from tests.support.sms_gateway import SmsGateway, free_port, provider_for
from tests.support.sms_gateway import provider_settings as settings_for

SHAPES = ["generic", "twilio", "aliyun"]
SECRET_MARK = "SECRET"  # every test credential contains it; no output may


def message(key: str, to: str = "+8613800138000") -> OutgoingSms:
    return OutgoingSms(key=key, to=to, body="您的验证码是 1234", params={"code": "1234"})


def accepted_lines(gateway: SmsGateway, message_id: str | None) -> list[dict[str, Any]]:
    return [line for line in gateway.log("accepted") if line["id"] == message_id]


@pytest.mark.parametrize("shape", SHAPES)
async def test_accepted_send_is_logged_once_with_the_id_returned(shape: str, sms_gateway: SmsGateway) -> None:
    async with provider_for(shape, sms_gateway) as provider:
        result = await provider.send(message(f"acc-{shape}"))
    assert result.outcome is SendOutcome.ACCEPTED, result
    lines = accepted_lines(sms_gateway, result.provider_message_id)
    assert len(lines) == 1
    assert lines[0]["to"] == "+8613800138000" and lines[0]["shape"] == shape
    assert lines[0]["key"] == (None if shape == "twilio" else f"acc-{shape}")
    assert provider.idempotent is (shape == "generic")


@pytest.mark.parametrize("shape", SHAPES)
async def test_invalid_number_is_rejected_for_good(shape: str, sms_gateway: SmsGateway) -> None:
    async with provider_for(shape, sms_gateway) as provider:
        result = await provider.send(message(f"bad-{shape}", to="+1"))
    assert result.outcome is SendOutcome.REJECTED
    assert result.error and result.error.startswith(f"provider sim-{shape}: ")
    expected = {"generic": "400", "twilio": "21211", "aliyun": "isv.MOBILE_NUMBER_ILLEGAL"}[shape]
    assert expected in result.error
    assert sms_gateway.stats()["rejected_by_reason"] == {"invalid_number": 1}


@pytest.mark.parametrize("shape", SHAPES)
async def test_blocked_number_is_rejected_even_with_a_2xx(shape: str, sms_gateway: SmsGateway) -> None:
    sms_gateway.set_faults(blocked_numbers=["+8613900000000"])
    async with provider_for(shape, sms_gateway) as provider:
        result = await provider.send(message(f"blk-{shape}", to="+8613900000000"))
    assert result.outcome is SendOutcome.REJECTED
    expected = {"generic": "number blocked", "twilio": "21610", "aliyun": "isv.BLACK_KEY_CONTROL_LIMIT"}[
        shape
    ]
    assert result.error and expected in result.error
    assert not any(line["to"] == "+8613900000000" for line in sms_gateway.log("accepted"))


@pytest.mark.parametrize(
    ("shape", "override", "expected"),
    [
        ("generic", {"secret": "wrong-SECRET-token"}, "401 wrong credentials"),
        ("twilio", {"secret": "wrong-SECRET-token"}, "401 wrong credentials"),
        ("twilio", {"username": "AC00000000000000000000000000000bad"}, "401 wrong credentials"),
        ("aliyun", {"secret": "wrong-SECRET-key"}, "wrong credentials (400 SignatureDoesNotMatch"),
        ("aliyun", {"username": "LTAI-unknown"}, "wrong credentials (404 InvalidAccessKeyId.NotFound"),
    ],
)
async def test_wrong_credentials_are_rejected_without_echoing_the_secret(
    shape: str,
    override: dict[str, str],
    expected: str,
    sms_gateway: SmsGateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with provider_for(shape, sms_gateway, **override) as provider:
        result = await provider.send(message(f"cred-{shape}"))
        text = f"{result} {provider!r} {settings_for(shape, sms_gateway, **override)!r} {caplog.text}"
    assert result.outcome is SendOutcome.REJECTED
    assert result.error and expected in result.error and "\n" not in result.error
    assert SECRET_MARK not in text
    assert sms_gateway.stats()["rejected_by_reason"] in ({"auth": 1}, {"signature": 1})


# how each fault of the gateway must come back, per shape
FAULT_CASES = [
    ("server_error", {"server_error": 1.0}, SendOutcome.RETRY, False),
    ("unauthorized", {"unauthorized": 1.0}, SendOutcome.REJECTED, False),
    ("garbled", {"garbled": 1.0}, SendOutcome.UNKNOWN, True),
    ("drop_after_accept", {"drop_after_accept": 1.0}, SendOutcome.UNKNOWN, True),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("fault", "faults", "outcome", "was_accepted"), FAULT_CASES)
async def test_faults_map_to_outcomes(
    shape: str,
    fault: str,
    faults: dict[str, float],
    outcome: SendOutcome,
    was_accepted: bool,
    sms_gateway: SmsGateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sms_gateway.set_faults(**faults)
    async with provider_for(shape, sms_gateway) as provider:
        result = await provider.send(message(f"{fault}-{shape}"))
    assert result.outcome is outcome, result
    assert result.error and "\n" not in result.error and SECRET_MARK not in result.error + caplog.text
    assert sms_gateway.stats()["faults"] == {fault: 1}
    assert sms_gateway.stats()["accepted"] == (1 if was_accepted else 0)


@pytest.mark.parametrize("shape", SHAPES)
async def test_rate_limit_is_retry_with_the_providers_retry_after(
    shape: str, sms_gateway: SmsGateway
) -> None:
    sms_gateway.set_faults(rate_limited=1.0, retry_after_s=2.5)
    async with provider_for(shape, sms_gateway) as provider:
        result = await provider.send(message(f"429-{shape}"))
    assert result.outcome is SendOutcome.RETRY
    if shape == "aliyun":  # Aliyun throttles with a code in a 200, and no Retry-After
        assert result.error and "isv.BUSINESS_LIMIT_CONTROL" in result.error
        assert result.retry_after_s is None
    else:
        assert result.error and "429" in result.error
        assert result.retry_after_s == 2.5


@pytest.mark.parametrize("shape", SHAPES)
async def test_reply_held_past_the_timeout_is_unknown_though_accepted(
    shape: str, sms_gateway: SmsGateway
) -> None:
    sms_gateway.set_faults(timeout=1.0, hold_ms=1500)
    async with provider_for(shape, sms_gateway, timeout_s=0.3) as provider:
        result = await provider.send(message(f"hold-{shape}"))
    assert result.outcome is SendOutcome.UNKNOWN
    assert result.error and "no reply in time" in result.error
    assert sms_gateway.stats()["accepted"] == 1  # it did arrive: why UNKNOWN must not be retried blindly


@pytest.mark.parametrize("shape", SHAPES)
async def test_nothing_listening_is_retry(shape: str, sms_gateway: SmsGateway) -> None:
    url = f"http://127.0.0.1:{free_port()}" + ("/send" if shape == "generic" else "")
    async with provider_for(shape, sms_gateway, url=url) as provider:
        result = await provider.send(message(f"refused-{shape}"))
    assert result.outcome is SendOutcome.RETRY
    assert result.error and "cannot connect" in result.error


async def test_generic_resend_after_a_drop_is_a_replay_not_a_second_message(sms_gateway: SmsGateway) -> None:
    sms_gateway.set_faults(drop_after_accept=1.0)
    async with provider_for("generic", sms_gateway) as provider:
        first = await provider.send(message("dropped-once"))
        sms_gateway.set_faults(drop_after_accept=0.0)
        second = await provider.send(message("dropped-once"))
    assert first.outcome is SendOutcome.UNKNOWN
    assert second.outcome is SendOutcome.ACCEPTED
    accepted = [line for line in sms_gateway.log("accepted") if line["key"] == "dropped-once"]
    replays = [line for line in sms_gateway.log("replay") if line["key"] == "dropped-once"]
    assert [line["id"] for line in accepted] == [second.provider_message_id]
    assert [line["id"] for line in replays] == [second.provider_message_id]
    assert sms_gateway.stats()["accepted"] == 1 and sms_gateway.stats()["replays"] == 1


async def test_twilio_resend_after_a_drop_sends_twice_which_is_why_it_is_not_idempotent(
    sms_gateway: SmsGateway,
) -> None:
    sms_gateway.set_faults(drop_after_accept=1.0)
    async with provider_for("twilio", sms_gateway) as provider:
        first = await provider.send(message("tw-dropped"))
        sms_gateway.set_faults(drop_after_accept=0.0)
        await provider.send(message("tw-dropped"))
        assert provider.idempotent is False
    assert first.outcome is SendOutcome.UNKNOWN
    assert sms_gateway.stats()["accepted"] == 2


async def test_generic_form_body_with_key_placeholder_is_idempotent(sms_gateway: SmsGateway) -> None:
    template = {"to": "{to}", "text": "{text}", "key": "{key}"}
    overrides = {"body_format": "form", "body_template": template, "idempotency_header": None}
    async with provider_for("generic", sms_gateway, **overrides) as provider:
        assert provider.idempotent is True
        first = await provider.send(message("form-key"))
        second = await provider.send(message("form-key"))
    assert first.outcome is second.outcome is SendOutcome.ACCEPTED
    assert first.provider_message_id == second.provider_message_id
    assert sms_gateway.stats()["accepted"] == 1 and sms_gateway.stats()["replays"] == 1


async def test_generic_without_the_gateways_promise_is_not_idempotent(sms_gateway: SmsGateway) -> None:
    async with provider_for("generic", sms_gateway, idempotent=False) as provider:
        assert provider.idempotent is False


async def test_twilio_and_aliyun_without_sender_or_template_are_rejected_before_sending(
    sms_gateway: SmsGateway,
) -> None:
    async with provider_for("twilio", sms_gateway, sender=None) as twilio:
        no_from = await twilio.send(message("no-from"))
    async with provider_for("aliyun", sms_gateway, template_code=None) as aliyun:
        no_template = await aliyun.send(message("no-template"))
    assert no_from.outcome is no_template.outcome is SendOutcome.REJECTED
    assert sms_gateway.stats()["accepted"] == 0 and sms_gateway.stats()["rejected"] == 0
