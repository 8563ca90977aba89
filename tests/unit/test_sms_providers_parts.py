"""SMS provider adapters' pure parts: Aliyun's signing, numbers, settings, templates, webhook parsing.

The signature vector is Aliyun's own published SendSms example (AccessKeySecret `testSecret`,
signed as GET): any mistake in the sorting or the percent-encoding changes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from pydantic import ValidationError

from sms.providers import build_provider
from sms.providers.aliyun import (
    AliyunProvider,
    aliyun_number,
    canonical_query,
    e164_number,
    percent_encode,
    rpc_signature,
)
from sms.providers.base import OutgoingSms, ReceiptStatus, WebhookRequest
from sms.providers.config import SmsProviderSettings
from sms.providers.generic import GenericHttpProvider, fill_template
from sms.providers.outcomes import Redactor, dig

ALIYUN_DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_aliyun_signature_matches_the_documented_example() -> None:
    assert rpc_signature(ALIYUN_DOC_PARAMS, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_aliyun_signature_depends_on_every_parameter_the_method_and_the_secret() -> None:
    reference = rpc_signature(ALIYUN_DOC_PARAMS, "testSecret", "GET")
    assert rpc_signature(ALIYUN_DOC_PARAMS, "testSecret", "POST") != reference
    assert rpc_signature(ALIYUN_DOC_PARAMS, "testSecreT", "GET") != reference
    assert (
        rpc_signature(ALIYUN_DOC_PARAMS | {"PhoneNumbers": "15300000002"}, "testSecret", "GET") != reference
    )


def test_aliyun_canonical_query_is_sorted_and_encoded_the_aliyun_way() -> None:
    query = canonical_query({"b": "a b*~", "a": "/=&+", "c": "派"})
    assert query == "a=%2F%3D%26%2B&b=a%20b%2A~&c=%E6%B4%BE"
    assert percent_encode("-_.~AZaz09") == "-_.~AZaz09"


@pytest.mark.parametrize(
    ("e164", "aliyun"),
    [("+8613800138000", "13800138000"), ("+85291234567", "85291234567"), ("+14155550100", "14155550100")],
)
def test_aliyun_numbers_drop_plus_86_and_come_back_as_e164(e164: str, aliyun: str) -> None:
    assert aliyun_number(e164) == aliyun
    if not aliyun.startswith("1"):
        assert e164_number(aliyun) == e164
    assert e164_number("13800138000") == "+8613800138000"
    assert e164_number("008613800138000") == "+8613800138000"


def test_aliyun_signed_form_carries_our_key_and_a_valid_signature() -> None:
    settings = SmsProviderSettings(
        kind="aliyun",
        username="kid",
        secret="sek",
        sender="签名",
        template_code="SMS_1",
        region="cn-hangzhou",
    )
    provider = AliyunProvider("ali", settings, httpx.AsyncClient())
    sms = OutgoingSms(key="k-1", to="+8613800138000", body="", params={"code": "1234"})
    at = datetime(2026, 1, 2, 11, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    form = provider.signed_form(sms, at, "nonce-1")
    assert isinstance(form, dict)
    signature = form.pop("Signature")
    assert form["OutId"] == "k-1" and form["PhoneNumbers"] == "13800138000"
    assert form["Timestamp"] == "2026-01-02T03:04:05Z" and form["TemplateParam"] == '{"code":"1234"}'
    assert signature == rpc_signature(form, "sek", "POST")


# settings


def test_public_urls_are_the_default_and_generic_needs_its_own() -> None:
    twilio = SmsProviderSettings(kind="twilio", username="AC1", secret="t")
    assert twilio.url == "https://api.twilio.com"
    with pytest.raises(ValidationError, match="needs its url"):
        SmsProviderSettings(kind="generic")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "generic", "url": "http://x/send", "idempotent": True}, "idempotent needs"),
        (
            {"kind": "generic", "url": "http://x/s", "method": "GET", "body_template": {"p": "{secret}"}},
            "GET",
        ),
        ({"kind": "generic", "url": "http://x/s", "auth": "bearer"}, "needs a secret"),
        ({"kind": "generic", "url": "ftp://x/s"}, "http"),
        (
            {"kind": "generic", "url": "http://x/s", "body_format": "form", "body_template": {"a": {"b": 1}}},
            "flat",
        ),
        ({"kind": "aliyun", "username": "kid"}, "needs username and secret"),
        ({"kind": "twilio", "username": "AC1", "secret": "t", "colour": "red"}, "Extra inputs"),
    ],
)
def test_settings_refuse_what_cannot_work(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SmsProviderSettings.model_validate(fields)


def test_secrets_do_not_print_in_settings_or_providers() -> None:
    settings = SmsProviderSettings(kind="twilio", username="AC1", secret="tok-SECRET")
    provider = build_provider("tw", settings, httpx.AsyncHTTPTransport())
    assert "tok-SECRET" not in repr(settings) + str(settings) + repr(provider)
    assert Redactor(["tok-SECRET"])("401 for tok-SECRET\nagain") == "401 for *** again"


def test_fill_template_replaces_placeholders_and_drops_missing_whole_fields() -> None:
    template = {
        "msg": {"to": "{to}", "body": "[{sender}] {text}"},
        "from": "{sender}",
        "n": 1,
        "ids": ["{key}"],
    }
    filled = fill_template(template, {"to": "+1555", "text": "hi {x}", "key": "k", "sender": None})
    assert filled == {"msg": {"to": "+1555", "body": "[] hi {x}"}, "n": 1, "ids": ["k"]}


def test_dig_follows_dotted_paths_through_objects_and_lists() -> None:
    document = {"data": {"messages": [{"id": "m1"}]}}
    assert dig(document, "data.messages.0.id") == "m1"
    assert dig(document, "data.messages.1.id") is None
    assert dig(document, "data.nope") is None


# webhook parsing of hand-written bodies (the gateway's own are parsed in test_sms_gateway)


def generic_provider(**overrides: object) -> GenericHttpProvider:
    settings = SmsProviderSettings.model_validate({"kind": "generic", "url": "http://gw/send", **overrides})
    return GenericHttpProvider("gen", settings, httpx.AsyncClient())


def test_generic_receipts_from_a_form_with_configured_fields() -> None:
    provider = generic_provider(receipt_id_field="msgid", receipt_status_field="stat")
    request = WebhookRequest(
        "POST", {}, {"msgid": "42", "stat": "DELIVRD", "at": "2026-01-01T00:00:00Z"}, None
    )
    [receipt] = provider.receipts(request)
    assert receipt.provider_message_id == "42" and receipt.status is ReceiptStatus.DELIVERED
    assert receipt.at == datetime(2026, 1, 1, tzinfo=UTC)


def test_generic_refuses_what_is_not_a_receipt_or_a_reply() -> None:
    provider = generic_provider()
    with pytest.raises(ValueError, match="not a delivery receipt"):
        provider.receipts(WebhookRequest("POST", {}, {}, {"id": "1", "status": "teleported"}))
    with pytest.raises(ValueError, match="not an inbound message"):
        provider.replies(WebhookRequest("POST", {}, {}, {"id": "1", "status": "delivered"}))
    with pytest.raises(ValueError, match="neither"):
        provider.receipts(WebhookRequest("POST", {}, {}, "just text"))


def test_aliyun_push_times_are_beijing_time() -> None:
    settings = SmsProviderSettings(kind="aliyun", username="kid", secret="sek")
    provider = AliyunProvider("ali", settings, httpx.AsyncClient())
    push = [{"biz_id": "9^0", "success": False, "err_code": "MK:0001", "report_time": "2026-01-02 08:00:00"}]
    [receipt] = provider.receipts(WebhookRequest("POST", {}, {}, push))
    assert receipt.status is ReceiptStatus.FAILED and receipt.error == "MK:0001"
    assert receipt.at == datetime(2026, 1, 2, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="SmsReport"):
        provider.receipts(WebhookRequest("POST", {}, {}, {"biz_id": "9^0"}))
