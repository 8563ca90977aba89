"""The Aliyun adapter: Dysms `SendSms` over the signed RPC API (`kind = "aliyun"`), and its signing.

Send: `POST {url}/` with a form of the common parameters (`AccessKeyId`, `Action=SendSms`,
`Format=JSON`, `RegionId`, `SignatureMethod=HMAC-SHA1`, `SignatureNonce`, `SignatureVersion=1.0`,
`Timestamp`, `Version=2017-05-25`) and the message's (`PhoneNumbers`, `SignName`,
`TemplateCode`, `TemplateParam` as JSON, `OutId` = our key), signed: the parameters sorted by
name, each name and value percent-encoded (RFC 3986: only `A-Z a-z 0-9 - _ . ~` stay, space is
`%20`), joined with `&`; the string to sign is `POST&%2F&` + that string percent-encoded again;
the signature is Base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)). The gateway simulator
verifies with the same `rpc_signature()`; the unit tests hold it to Aliyun's published example.

The reply `{"Code": "OK", "BizId": ...}` is accepted; a throttling code (`isv.BUSINESS_LIMIT_CONTROL`,
`Throttling*`) or `ServiceUnavailable` is `RETRY`; `isp.SYSTEM_ERROR` is `UNKNOWN` (Aliyun may have
taken the message); any other code is `REJECTED` (credentials' codes say so). Aliyun ignores
`OutId` for de-duplication, so `idempotent` is False.

Numbers: Aliyun wants Chinese numbers without `+86` (`13800138000`) and others as country code +
number without `+`; pushes come back the same way and are turned into E.164 (an 11-digit number
starting with 1 is taken to be Chinese). Push times are Beijing time (`yyyy-MM-dd HH:mm:ss`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx

from sms.providers.base import (
    InboundReply,
    OutgoingSms,
    Receipt,
    ReceiptStatus,
    SendOutcome,
    SendResult,
    WebhookRequest,
)
from sms.providers.config import SmsProviderSettings
from sms.providers.outcomes import HttpAdapter, exchange, json_body, outgoing_request, status_result

BEIJING = timezone(timedelta(hours=8))
_RETRY_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "ServiceUnavailable"})
_UNKNOWN_CODES = frozenset({"isp.SYSTEM_ERROR", "InternalError"})
_CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "isp.RAM_PERMISSION_DENY",
        "Forbidden.RAM",
    }
)


def percent_encode(value: str) -> str:
    """Aliyun's percent-encoding (RFC 3986 unreserved characters kept, space as %20)."""
    return quote(value, safe="")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def rpc_signature(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    """The Signature of an RPC request's parameters (without `Signature` itself)."""
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def aliyun_number(e164: str) -> str:
    """+8613800138000 -> 13800138000; +85291234567 -> 85291234567."""
    digits = e164.removeprefix("+")
    return digits[2:] if e164.startswith("+86") else digits


def e164_number(number: str) -> str:
    """Aliyun's number back in E.164 (11 digits starting with 1: a Chinese mobile)."""
    number = number.strip()
    if number.startswith("+"):
        return number
    if number.startswith("00"):
        return "+" + number[2:]
    if len(number) == 11 and number.startswith("1"):
        return "+86" + number
    return "+" + number


def beijing_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


def _records(request: WebhookRequest, needed: tuple[str, ...], what: str) -> list[Mapping[str, Any]]:
    body = request.json
    if not isinstance(body, list) or not body:
        raise ValueError(f"not an Aliyun {what} push: the body must be a JSON list")
    for record in body:
        if not isinstance(record, dict) or any(name not in record for name in needed):
            raise ValueError(f"not an Aliyun {what} push: each item needs {', '.join(needed)}")
    return body


class AliyunProvider(HttpAdapter):
    """One Aliyun account (AccessKeyId + AccessKeySecret) with its SignName; SendSms takes no
    idempotency key (`OutId` is only echoed back)."""

    def __init__(
        self,
        name: str,
        settings: SmsProviderSettings,
        client: httpx.AsyncBaseTransport,
        owns_client: bool = False,
    ) -> None:
        super().__init__(name, settings, client, owns_client)
        assert settings.username is not None and self._secret is not None  # the settings check it
        self._key_id = settings.username
        self._key_secret = self._secret
        self._url = settings.url.rstrip("/") + "/"

    def __repr__(self) -> str:
        return f"AliyunProvider(name={self.name!r}, access_key_id={self._key_id!r})"

    def signed_form(self, message: OutgoingSms, now: datetime, nonce: str) -> dict[str, str] | str:
        """The request's signed parameters, or why the message cannot be sent."""
        template = message.template_code or self._settings.template_code
        sign_name = message.sender or self._settings.sender
        if not template or not sign_name:
            return "no TemplateCode or SignName configured"
        params = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.key,
            "PhoneNumbers": aliyun_number(message.to),
            "RegionId": self._settings.region,
            "SignName": sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce,
            "SignatureVersion": "1.0",
            "TemplateCode": template,
            "Timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        if message.params:
            params["TemplateParam"] = json.dumps(
                dict(message.params), ensure_ascii=False, separators=(",", ":")
            )
        params["Signature"] = rpc_signature(params, self._key_secret)
        return params

    async def send(self, message: OutgoingSms) -> SendResult:
        form = self.signed_form(message, datetime.now(UTC), uuid.uuid4().hex)
        if isinstance(form, str):
            return SendResult(SendOutcome.REJECTED, error=f"provider {self.name}: {form}")
        request = outgoing_request(
            self._settings,
            "POST",
            self._url,
            content=canonical_query(form).encode("ascii"),
            headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json"},
        )
        reply = await exchange(self._client, request, self.name, self._redact)
        if isinstance(reply, SendResult):
            return reply
        return self._result(reply)

    def _result(self, reply: httpx.Response) -> SendResult:
        body = json_body(reply)
        code = body.get("Code") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(code, str):
            failed = status_result(reply, self.name, None, self._redact)
            return failed or SendResult(
                SendOutcome.UNKNOWN, error=f"provider {self.name}: unreadable {reply.status_code} reply"
            )
        text = self._redact(f"{code} {body.get('Message') or ''}".strip())
        detail = text if reply.is_success else f"{reply.status_code} {text}"
        if code == "OK" and reply.is_success:
            biz_id = body.get("BizId")
            if not biz_id:
                return SendResult(SendOutcome.UNKNOWN, error=f"provider {self.name}: OK without BizId")
            return SendResult(SendOutcome.ACCEPTED, provider_message_id=str(biz_id))
        if code in _RETRY_CODES or code.startswith("Throttling"):
            return SendResult(SendOutcome.RETRY, error=f"provider {self.name}: {detail}")
        if code in _UNKNOWN_CODES:
            return SendResult(SendOutcome.UNKNOWN, error=f"provider {self.name}: {detail}")
        if code in _CREDENTIAL_CODES:
            return SendResult(
                SendOutcome.REJECTED, error=f"provider {self.name}: wrong credentials ({detail})"
            )
        failed = status_result(reply, self.name, text, self._redact)
        return failed or SendResult(SendOutcome.REJECTED, error=f"provider {self.name}: {detail}")

    def receipts(self, request: WebhookRequest) -> list[Receipt]:
        receipts = []
        for record in _records(request, ("biz_id", "success"), "SmsReport"):
            delivered = record["success"] in (True, "true", "True", 1)
            error = (
                None if delivered else f"{record.get('err_code') or ''} {record.get('err_msg') or ''}".strip()
            )
            status = ReceiptStatus.DELIVERED if delivered else ReceiptStatus.FAILED
            receipts.append(
                Receipt(str(record["biz_id"]), status, error or None, beijing_time(record.get("report_time")))
            )
        return receipts

    def replies(self, request: WebhookRequest) -> list[InboundReply]:
        return [
            InboundReply(
                from_e164=e164_number(str(record["phone_number"])),
                text=str(record["content"]),
                to=str(record["sign_name"]) if record.get("sign_name") else None,
                provider_message_id=str(record["sequence_id"])
                if record.get("sequence_id") is not None
                else None,
                at=beijing_time(record.get("send_time")),
            )
            for record in _records(request, ("phone_number", "content"), "SmsUp")
        ]
