"""The generic HTTP gateway adapter: any gateway described by its settings (kind = "generic").

The request: `method` to `url`, fields from `body_template` (placeholders `{to} {text} {key}
{sender} {username} {secret}`) as JSON, a form or (GET) the query; the key optionally in the
`idempotency_header`; auth none, basic (username + secret) or bearer (secret). The reply: a 2xx
is accepted when `success_field` (if set) equals `success_value` and `id_field` holds the
message id; the error text comes from `error_field`.

Webhooks, form or JSON, one object or a list: a receipt has `receipt_id_field` and
`receipt_status_field` (sent/accepted/queued/enroute/buffered, delivered/delivrd/success,
failed/undelivered/undeliv/rejected/expired), optional `error` and `at` (ISO 8601); a reply has
`reply_from_field` and `reply_text_field`, optional `to`, `id` and `at`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from pydantic import JsonValue

from sms.providers.base import (
    InboundReply,
    OutgoingSms,
    Receipt,
    ReceiptStatus,
    SendOutcome,
    SendResult,
    WebhookRequest,
)
from sms.providers.config import PLACEHOLDER, SmsProviderSettings, template_placeholders
from sms.providers.outcomes import HttpAdapter, dig, exchange, json_body, outgoing_request, status_result

_STATUSES = {
    **dict.fromkeys(("sent", "accepted", "queued", "enroute", "buffered", "sending"), ReceiptStatus.SENT),
    **dict.fromkeys(("delivered", "delivrd", "success"), ReceiptStatus.DELIVERED),
    **dict.fromkeys(("failed", "undelivered", "undeliv", "rejected", "expired"), ReceiptStatus.FAILED),
}
_WHOLE_PLACEHOLDER = re.compile(r"^\{(to|text|key|sender|username|secret)\}$")


def fill_template(template: JsonValue, values: Mapping[str, str | None]) -> Any:
    """The template with its placeholders replaced; a field that is one missing value is left out."""
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or "", template)
    if isinstance(template, list):
        return [fill_template(item, values) for item in template]
    if isinstance(template, dict):
        filled = {}
        for name, item in template.items():
            whole = _WHOLE_PLACEHOLDER.match(item) if isinstance(item, str) else None
            if whole and values.get(whole.group(1)) is None:
                continue
            filled[name] = fill_template(item, values)
        return filled
    return template


def webhook_records(request: WebhookRequest) -> list[Mapping[str, Any]]:
    """The objects a webhook call carries: its JSON object or list of objects, else its form."""
    body = request.json
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list) and body and all(isinstance(item, dict) for item in body):
        return body
    if request.form:
        return [request.form]
    raise ValueError("webhook body is neither a JSON object, a JSON list of objects nor a form")


def basic_auth(username: str, password: str) -> str:
    """An Authorization header value for HTTP basic auth."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


class GenericHttpProvider(HttpAdapter):
    """One account on a gateway whose API the settings describe."""

    def __init__(
        self,
        name: str,
        settings: SmsProviderSettings,
        client: httpx.AsyncBaseTransport,
        owns_client: bool = False,
    ) -> None:
        super().__init__(name, settings, client, owns_client)
        sends_key = settings.idempotency_header is not None or "key" in template_placeholders(
            settings.body_template
        )
        self.idempotent = settings.idempotent and sends_key

    def __repr__(self) -> str:
        return f"GenericHttpProvider(name={self.name!r}, idempotent={self.idempotent})"

    def _request(self, message: OutgoingSms) -> httpx.Request:
        s = self._settings
        values = {
            "to": message.to,
            "text": message.body,
            "key": message.key,
            "sender": message.sender or s.sender,
            "username": s.username,
            "secret": self._secret,
        }
        fields = fill_template(s.body_template, values)
        headers = {"accept": "application/json"}
        if s.idempotency_header:
            headers[s.idempotency_header] = message.key
        if s.auth == "bearer":
            headers["authorization"] = f"Bearer {self._secret}"
        elif s.auth == "basic":
            headers["authorization"] = basic_auth(s.username or "", self._secret or "")
        if s.method == "GET":
            return outgoing_request(self._settings, "GET", s.url, params=fields, headers=headers)
        if s.body_format == "form":
            return outgoing_request(self._settings, s.method, s.url, data=fields, headers=headers)
        return outgoing_request(self._settings, s.method, s.url, json=fields, headers=headers)

    async def send(self, message: OutgoingSms) -> SendResult:
        s = self._settings
        reply = await exchange(self._client, self._request(message), self.name, self._redact)
        if isinstance(reply, SendResult):
            return reply
        body = json_body(reply)
        detail = dig(body, s.error_field) if s.error_field and body is not None else None
        failed = status_result(reply, self.name, str(detail) if detail else None, self._redact)
        if failed is not None:
            return failed
        if not isinstance(body, dict | list):
            return SendResult(
                SendOutcome.UNKNOWN, error=f"provider {self.name}: unreadable {reply.status_code} reply"
            )
        if s.success_field is not None and not self._succeeded(dig(body, s.success_field)):
            error = f"provider {self.name}: refused" + (f": {detail}" if detail else "")
            return SendResult(SendOutcome.REJECTED, error=self._redact(error))
        message_id = dig(body, s.id_field)
        if message_id is None or message_id == "":
            return SendResult(SendOutcome.UNKNOWN, error=f"provider {self.name}: reply without {s.id_field}")
        return SendResult(SendOutcome.ACCEPTED, provider_message_id=str(message_id))

    def _succeeded(self, value: Any) -> bool:
        expected = self._settings.success_value
        if isinstance(expected, str):
            return value is not None and str(value) == expected
        return value == expected and type(value) is type(expected)

    def receipts(self, request: WebhookRequest) -> list[Receipt]:
        s = self._settings
        receipts = []
        for record in webhook_records(request):
            message_id = dig(record, s.receipt_id_field)
            status = _STATUSES.get(str(dig(record, s.receipt_status_field) or "").lower())
            if not message_id or status is None:
                raise ValueError(f"not a delivery receipt: needs {s.receipt_id_field} and a known status")
            error = record.get("error")
            receipts.append(
                Receipt(str(message_id), status, str(error) if error else None, parse_time(record.get("at")))
            )
        return receipts

    def replies(self, request: WebhookRequest) -> list[InboundReply]:
        s = self._settings
        replies = []
        for record in webhook_records(request):
            sender = dig(record, s.reply_from_field)
            text = dig(record, s.reply_text_field)
            if not sender or text is None:
                raise ValueError(
                    f"not an inbound message: needs {s.reply_from_field} and {s.reply_text_field}"
                )
            message_id = record.get("id")
            replies.append(
                InboundReply(
                    from_e164=str(sender),
                    text=str(text),
                    to=str(record["to"]) if record.get("to") else None,
                    provider_message_id=str(message_id) if message_id else None,
                    at=parse_time(record.get("at")),
                )
            )
        return replies
