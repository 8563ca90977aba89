"""What every SMS provider adapter does, and the answers it gives back (SMS-5).

An adapter is one small class per provider API shape (generic HTTP gateway, Twilio's Messages API,
Aliyun's SendSms). It turns an `OutgoingSms` into one HTTP request over a shared `httpx.AsyncClient`
and the provider's reply into a `SendResult`; it parses the provider's delivery receipts (DLR) and
inbound replies (MO) from webhook requests into `Receipt`s and `InboundReply`s. It decides nothing
else: retries, rate limits, opt-outs and the outbox's states belong to the sender.

How a reply maps to an outcome, for every adapter:
- `ACCEPTED`: the provider took the message (2xx and its success marker); `provider_message_id` set.
- `REJECTED`: the provider refused it for good (4xx, or a 2xx whose body says failure, or wrong
  credentials): never retried; `error` says why in one line.
- `RETRY`: nothing can have been sent (the connection was never made, or the provider said
  429/5xx before accepting): safe to send again, even to a provider without idempotency keys.
- `UNKNOWN`: the request may have reached the provider (read timeout, connection dropped after the
  request was written, unreadable 2xx): resending is safe only when `idempotent` is true, i.e. the
  provider recognises the message's key and will not send it twice.

Secrets (tokens, keys, passwords) never appear in `error`, in logs or in reprs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class SendOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETRY = "retry"
    UNKNOWN = "unknown"


class ReceiptStatus(StrEnum):
    """What a delivery receipt says; only DELIVERED and FAILED end a message."""

    SENT = "sent"  # handed on to the network; not final
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One message as the provider is asked to send it.

    `key` is the outbox's idempotency key: the same key always means the same message. `body` is the
    rendered text; template-based providers (Aliyun) send `template_code` and `params` instead and
    fall back to their configured template when `template_code` is None.
    """

    key: str
    to: str  # E.164
    body: str
    sender: str | None = None  # sender name or number; None: the provider's configured one
    template_code: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: SendOutcome
    provider_message_id: str | None = None
    error: str | None = None  # one line, no secret
    retry_after_s: float | None = None  # the provider's Retry-After, when it gave one


@dataclass(frozen=True, slots=True)
class Receipt:
    """A delivery receipt: what became of the message the provider calls `provider_message_id`."""

    provider_message_id: str
    status: ReceiptStatus
    error: str | None = None
    at: datetime | None = None  # when the provider says it happened (aware), if it says


@dataclass(frozen=True, slots=True)
class InboundReply:
    """A message a customer sent (MO), e.g. an opt-out such as 退订."""

    from_e164: str
    text: str
    to: str | None = None  # our number or sign the reply went to
    provider_message_id: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A webhook call as the engine's API received it, for the adapter to parse."""

    method: str
    query: Mapping[str, str]
    form: Mapping[str, str]  # form fields, when the body was form-encoded
    json: object  # the parsed JSON body, when it was JSON; else None


class SmsProvider(Protocol):
    """One provider account, reached over HTTP."""

    name: str  # the configured name (outbox rows carry it)
    idempotent: bool  # resending a key never sends the message twice

    async def send(self, message: OutgoingSms) -> SendResult: ...

    def receipts(self, request: WebhookRequest) -> list[Receipt]:
        """The receipts in a DLR webhook call; `ValueError` (one line) when it is not one."""
        ...

    def replies(self, request: WebhookRequest) -> list[InboundReply]:
        """The customer messages in an MO webhook call; `ValueError` (one line) when it is not one."""
        ...

    async def aclose(self) -> None: ...
