"""The SMS gateway simulator as a process: its webhooks (parsed by the adapters), Aliyun's signature
check, seeded faults, the control endpoints and its log.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sms.providers.aliyun import AliyunProvider, canonical_query, rpc_signature
from sms.providers.base import OutgoingSms, Receipt, ReceiptStatus, SendOutcome
from tests.support.sms_gateway import (
    SmsGateway,
    WebhookCatcher,
    provider_for,
    provider_settings,
    running_gateway,
)

SENT, DELIVERED, FAILED = ReceiptStatus.SENT, ReceiptStatus.DELIVERED, ReceiptStatus.FAILED


def message(key: str) -> OutgoingSms:
    return OutgoingSms(key=key, to="+8613800138000", body="您的验证码是 1234", params={"code": "1234"})


async def receipts_after_send(
    shape: str, gateway: SmsGateway, catcher: WebhookCatcher, count: int
) -> list[Receipt]:
    gateway.set_webhooks(shape, dlr_url=f"{catcher.url}/dlr")
    async with provider_for(shape, gateway) as provider:
        result = await provider.send(message(f"dlr-{shape}-{time.monotonic_ns()}"))
        assert result.outcome is SendOutcome.ACCEPTED
        posted = catcher.wait_for(count)
        receipts = [r for request in posted for r in provider.receipts(request.webhook_request())]
    assert catcher.nothing_more()
    assert {r.provider_message_id for r in receipts} == {result.provider_message_id}
    return receipts


@pytest.mark.parametrize(
    ("shape", "faults", "statuses"),
    [
        ("generic", {}, [SENT, DELIVERED]),
        ("twilio", {}, [SENT, DELIVERED]),
        ("aliyun", {}, [DELIVERED]),
        ("generic", {"dlr_failed": 1.0}, [SENT, FAILED]),
        ("twilio", {"dlr_failed": 1.0}, [SENT, FAILED]),
        ("aliyun", {"dlr_failed": 1.0}, [FAILED]),
        ("generic", {"dlr_duplicate": 1.0}, [SENT, DELIVERED, DELIVERED]),
        ("twilio", {"dlr_out_of_order": 1.0}, [DELIVERED, SENT]),
        ("aliyun", {"dlr_duplicate": 1.0}, [DELIVERED, DELIVERED]),
        ("generic", {"dlr_out_of_order": 1.0, "dlr_duplicate": 1.0}, [DELIVERED, SENT, DELIVERED]),
    ],
)
async def test_receipts_arrive_as_configured_and_the_adapter_reads_them(
    shape: str,
    faults: dict[str, float],
    statuses: list[ReceiptStatus],
    sms_gateway: SmsGateway,
    webhook_catcher: WebhookCatcher,
) -> None:
    sms_gateway.set_faults(dlr_delay_ms=0, **faults)
    receipts = await receipts_after_send(shape, sms_gateway, webhook_catcher, len(statuses))
    assert [r.status for r in receipts] == statuses
    assert all((r.error is None) == (r.status is not FAILED) for r in receipts)
    assert sms_gateway.stats()["dlrs_posted"] == len(statuses)


@pytest.mark.parametrize("shape", ["generic", "twilio", "aliyun"])
async def test_injected_reply_reaches_the_mo_webhook_as_e164(
    shape: str, sms_gateway: SmsGateway, webhook_catcher: WebhookCatcher
) -> None:
    sms_gateway.set_webhooks(shape, mo_url=f"{webhook_catcher.url}/mo")
    assert sms_gateway.inject_mo(shape, "+8613800138000", "退订 TD") == 200
    [posted] = webhook_catcher.wait_for(1)
    async with provider_for(shape, sms_gateway) as provider:
        [reply] = provider.replies(posted.webhook_request())
        with pytest.raises(ValueError, match="not a"):
            provider.receipts(posted.webhook_request())
    assert reply.from_e164 == "+8613800138000" and reply.text == "退订 TD"
    assert reply.provider_message_id


async def test_a_dlr_is_not_a_reply(sms_gateway: SmsGateway, webhook_catcher: WebhookCatcher) -> None:
    sms_gateway.set_faults(dlr_delay_ms=0)
    sms_gateway.set_webhooks(dlr_url=webhook_catcher.url)
    for shape in ("generic", "twilio", "aliyun"):
        async with provider_for(shape, sms_gateway) as provider:
            assert (await provider.send(message(f"not-mo-{shape}"))).outcome is SendOutcome.ACCEPTED
            posted = webhook_catcher.wait_for(1 if shape == "aliyun" else 2)
            with pytest.raises(ValueError, match="not a"):
                provider.replies(posted[0].webhook_request())


async def test_twilio_status_callback_of_the_message_wins_over_the_shapes_url(
    sms_gateway: SmsGateway, webhook_catcher: WebhookCatcher
) -> None:
    sms_gateway.set_faults(dlr_delay_ms=0)
    callback = f"{webhook_catcher.url}/twilio/status?account=main"
    async with provider_for("twilio", sms_gateway, status_callback_url=callback) as provider:
        result = await provider.send(message("tw-callback"))
    posted = webhook_catcher.wait_for(2)
    assert {request.path for request in posted} == {"/twilio/status?account=main"}
    assert posted[0].webhook_request().form["MessageSid"] == result.provider_message_id


def test_mo_without_a_webhook_url_is_refused(sms_gateway: SmsGateway) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        sms_gateway.inject_mo("twilio", "+15551234567", "STOP")
    assert refused.value.response.status_code == 409


def signed_aliyun_form(gateway: SmsGateway, key: str) -> dict[str, str]:
    settings = provider_settings("aliyun", gateway)
    provider = AliyunProvider("ali", settings, httpx.AsyncClient())
    sms = OutgoingSms(key=key, to="+8613800138000", body="", params={"code": "1"})
    form = provider.signed_form(sms, datetime.now(UTC), f"nonce-{key}")
    assert isinstance(form, dict)
    return form


def post_form(gateway: SmsGateway, form: dict[str, str]) -> httpx.Response:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return httpx.post(f"{gateway.url}/", content=canonical_query(form), headers=headers, trust_env=False)


def test_aliyun_refuses_a_tampered_request_and_a_replayed_nonce(sms_gateway: SmsGateway) -> None:
    form = signed_aliyun_form(sms_gateway, f"tamper-{time.monotonic_ns()}")
    tampered = post_form(sms_gateway, form | {"PhoneNumbers": "13900139000"})
    genuine = post_form(sms_gateway, form)
    replayed = post_form(sms_gateway, form)
    assert (tampered.status_code, tampered.json()["Code"]) == (400, "SignatureDoesNotMatch")
    assert (genuine.status_code, genuine.json()["Code"]) == (200, "OK")
    assert (replayed.status_code, replayed.json()["Code"]) == (400, "SignatureNonceUsed")
    stats = sms_gateway.stats()
    assert stats["accepted"] == 1 and stats["rejected_by_reason"] == {"signature": 1, "nonce": 1}


def test_aliyun_refuses_a_stale_timestamp(sms_gateway: SmsGateway) -> None:
    form = signed_aliyun_form(sms_gateway, "stale")
    form.pop("Signature")
    form["Timestamp"] = "2017-07-12T02:42:19Z"
    form["Signature"] = rpc_signature(form, sms_gateway.aliyun_key_secret, "POST")
    reply = post_form(sms_gateway, form)
    assert (reply.status_code, reply.json()["Code"]) == (400, "InvalidTimeStamp.Expired")


def send_statuses(gateway: SmsGateway, count: int) -> list[int]:
    headers = {"authorization": f"Bearer {gateway.generic_token}"}
    with httpx.Client(trust_env=False) as client:
        return [
            client.post(
                f"{gateway.url}/send", json={"to": "+15551230000", "text": "x"}, headers=headers
            ).status_code
            for _ in range(count)
        ]


def test_faults_are_seeded_the_same_seed_gives_the_same_faults(sms_gateway: SmsGateway) -> None:
    sms_gateway.set_faults(seed=42, server_error=0.3, rate_limited=0.2)
    first = send_statuses(sms_gateway, 40)
    sms_gateway.set_faults(seed=42)
    second = send_statuses(sms_gateway, 40)
    assert first == second
    assert {200, 429, 503} == set(first)
    assert sms_gateway.stats()["faults"] == {
        "server_error": 2 * first.count(503),
        "rate_limited": 2 * first.count(429),
    }


def test_slow_replies_are_slow_but_accepted(sms_gateway: SmsGateway) -> None:
    sms_gateway.set_faults(slow=1.0, slow_ms=300)
    started = time.monotonic()
    assert send_statuses(sms_gateway, 1) == [200]
    assert time.monotonic() - started >= 0.3


def test_control_refuses_shares_adding_up_to_more_than_one(sms_gateway: SmsGateway) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        sms_gateway.set_faults(server_error=0.7, timeout=0.5)
    assert refused.value.response.status_code == 400
    assert sms_gateway.set_faults()["server_error"] == 0.0


def test_reset_forgets_keys_counters_and_faults(sms_gateway: SmsGateway) -> None:
    headers = {"authorization": f"Bearer {sms_gateway.generic_token}", "idempotency-key": "reset-key"}
    body = {"to": "+15551230000", "text": "x"}
    first = httpx.post(f"{sms_gateway.url}/send", json=body, headers=headers, trust_env=False).json()["id"]
    sms_gateway.set_faults(server_error=1.0)
    sms_gateway.reset()
    again = httpx.post(f"{sms_gateway.url}/send", json=body, headers=headers, trust_env=False)
    assert again.status_code == 200 and again.json()["id"] != first
    assert sms_gateway.stats()["accepted"] == 1 and sms_gateway.stats()["replays"] == 0


def test_log_lines_are_complete_json_with_the_documented_fields(tmp_path: Path) -> None:
    log_path = tmp_path / "gw.jsonl"
    with running_gateway(log_path) as gateway:
        headers = {"authorization": f"Bearer {gateway.generic_token}", "idempotency-key": "log-1"}
        for _ in range(2):
            httpx.post(
                f"{gateway.url}/send",
                json={"to": "+15551230000", "text": "hé"},
                headers=headers,
                trust_env=False,
            )
        httpx.post(f"{gateway.url}/send", json={"to": "bad", "text": "x"}, headers=headers, trust_env=False)
        assert gateway.stop() == 0
    lines = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]
    assert [line["event"] for line in lines] == ["accepted", "replay", "rejected"]
    accepted, replay, rejected = lines
    assert set(accepted) == {"event", "shape", "key", "to", "text", "id", "sender", "at"}
    assert (accepted["key"], accepted["text"], accepted["shape"]) == ("log-1", "hé", "generic")
    assert replay["id"] == accepted["id"] and rejected["reason"] == "invalid_number"
    assert accepted["at"].endswith("Z")
