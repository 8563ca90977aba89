"""The Twilio adapter: the Programmable Messaging API (`kind = "twilio"`).

Send: `POST {url}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form `To`, `From` (or
`MessagingServiceSid` when the sender is an `MG…` service sid), `Body`, and `StatusCallback` when
configured; basic auth Account SID : auth token. A 201 carries the message `sid`; errors carry
JSON `{"code", "message"}`. Twilio's Messages API takes no idempotency key, so `idempotent` is
False: an `UNKNOWN` send must not be repeated blindly.

Webhooks (forms): the status callback (`MessageSid`, `MessageStatus`, `ErrorCode`) and the
incoming message (`From`, `To`, `Body`, `MessageSid`). A callback naming another `AccountSid` is
refused. Twilio's `X-Twilio-Signature` is not checked here (`WebhookRequest` carries no headers):
the webhook path's secret authenticates the caller.
"""

from __future__ import annotations

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
from sms.providers.generic import basic_auth
from sms.providers.outcomes import HttpAdapter, exchange, json_body, outgoing_request, status_result

_STATUSES = {
    **dict.fromkeys(("accepted", "scheduled", "queued", "sending", "sent"), ReceiptStatus.SENT),
    "delivered": ReceiptStatus.DELIVERED,
    **dict.fromkeys(("undelivered", "failed", "canceled"), ReceiptStatus.FAILED),
}


class TwilioProvider(HttpAdapter):
    """One Twilio account (Account SID + auth token); its Messages API takes no idempotency key."""

    def __init__(
        self,
        name: str,
        settings: SmsProviderSettings,
        client: httpx.AsyncBaseTransport,
        owns_client: bool = False,
    ) -> None:
        super().__init__(name, settings, client, owns_client)
        assert settings.username is not None and self._secret is not None  # the settings check it
        self._account = settings.username
        self._authorization = basic_auth(self._account, self._secret)
        self._url = f"{settings.url.rstrip('/')}/2010-04-01/Accounts/{self._account}/Messages.json"

    def __repr__(self) -> str:
        return f"TwilioProvider(name={self.name!r}, account={self._account!r})"

    async def send(self, message: OutgoingSms) -> SendResult:
        sender = message.sender or self._settings.sender
        if not sender:
            return SendResult(
                SendOutcome.REJECTED, error=f"provider {self.name}: no sender (From) configured"
            )
        form = {"To": message.to, "Body": message.body}
        form["MessagingServiceSid" if sender.startswith("MG") else "From"] = sender
        if self._settings.status_callback_url:
            form["StatusCallback"] = self._settings.status_callback_url
        request = outgoing_request(
            self._settings,
            "POST",
            self._url,
            data=form,
            headers={"authorization": self._authorization, "accept": "application/json"},
        )
        reply = await exchange(self._client, request, self.name, self._redact)
        if isinstance(reply, SendResult):
            return reply
        body = json_body(reply)
        failed = status_result(reply, self.name, _error_detail(body), self._redact)
        if failed is not None:
            return failed
        sid = body.get("sid") if isinstance(body, dict) else None
        if not sid:
            return SendResult(
                SendOutcome.UNKNOWN, error=f"provider {self.name}: {reply.status_code} reply without sid"
            )
        if body.get("status") in ("failed", "undelivered", "canceled"):
            return SendResult(
                SendOutcome.REJECTED, error=self._redact(f"provider {self.name}: {_error_detail(body)}")
            )
        return SendResult(SendOutcome.ACCEPTED, provider_message_id=str(sid))

    def _check_account(self, form: dict[str, str] | object) -> None:
        account = form.get("AccountSid") if isinstance(form, dict) else None
        if account and account != self._account:
            raise ValueError("webhook for another Twilio account")

    def receipts(self, request: WebhookRequest) -> list[Receipt]:
        form = dict(request.form)
        sid = form.get("MessageSid") or form.get("SmsSid")
        status = form.get("MessageStatus") or form.get("SmsStatus")
        if not sid or not status or status == "received":
            raise ValueError("not a Twilio status callback: needs MessageSid and MessageStatus")
        if status not in _STATUSES:
            raise ValueError(f"unknown Twilio MessageStatus {status[:40]!r}")
        self._check_account(form)
        code = form.get("ErrorCode")
        error = f"Twilio error {code}" if code and code != "0" else None
        return [Receipt(sid, _STATUSES[status], error)]

    def replies(self, request: WebhookRequest) -> list[InboundReply]:
        form = dict(request.form)
        sender, sid = form.get("From"), form.get("MessageSid") or form.get("SmsSid")
        if not sender or "Body" not in form or not sid or form.get("MessageStatus", "received") != "received":
            raise ValueError("not a Twilio incoming message: needs From, Body and MessageSid")
        self._check_account(form)
        return [InboundReply(from_e164=sender, text=form["Body"], to=form.get("To"), provider_message_id=sid)]


def _error_detail(body: object) -> str | None:
    if isinstance(body, dict) and ("code" in body or "message" in body):
        return f"{body.get('code')} {body.get('message') or ''}".strip()
    return None
