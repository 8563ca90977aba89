"""What every API shape of the simulator provides, and the pieces they share.

A shape (generic, twilio, aliyun) recognises its send requests, checks credentials and fields,
and renders every reply in its provider's own format: acceptance, refusals, and the replies the
faults call for (5xx, 429, wrong credentials). It also renders its DLR and MO webhook bodies. It
keeps no state: `GatewaySim` owns the messages, the log and the counters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl

from sms.gateway_sim.http_server import Request, Response

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True, slots=True)
class Submission:
    """A send request that passed the shape's checks."""

    to: str  # E.164
    text: str
    key: str | None = None  # the client's idempotency key / OutId, when it sent one
    sender: str | None = None
    dlr_url: str | None = None  # a per-message status callback (Twilio's StatusCallback)
    idempotent: bool = False  # the shape honours `key`: a second request with it is a replay


@dataclass(frozen=True, slots=True)
class Refusal:
    """A send request refused for good; `reason` goes to the log."""

    reason: str
    response: Response


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    id: str
    shape: str
    to: str
    text: str
    key: str | None
    sender: str | None
    dlr_url: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook body ready to post."""

    content_type: str
    body: bytes


class Shape(Protocol):
    name: str

    def handles(self, request: Request) -> bool: ...

    def submission(self, request: Request) -> Submission | Refusal: ...

    def accepted(self, message: AcceptedMessage) -> Response: ...

    def blocked(self, submission: Submission) -> Response: ...

    def server_error(self, status: int) -> Response: ...

    def rate_limited(self, retry_after_s: float) -> Response: ...

    def unauthorized(self) -> Response: ...

    def message_id(self, serial: int) -> str: ...

    def receipt_statuses(self, delivered: bool) -> list[str]:
        """The statuses one message's DLRs go through, in order."""
        ...

    def receipt(self, message: AcceptedMessage, status: str, at: datetime) -> Webhook: ...

    def reply(self, sender: str, text: str, to: str | None, serial: int, at: datetime) -> Webhook: ...


def json_response(status: int, document: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, body, "application/json", headers or {})


def json_webhook(document: Any) -> Webhook:
    return Webhook("application/json", json.dumps(document, ensure_ascii=False).encode())


def request_fields(request: Request) -> dict[str, str]:
    """The request's fields: its query, then its form or JSON object body on top."""
    fields = dict(request.query)
    content_type = request.headers.get("content-type", "")
    if not request.body:
        return fields
    if content_type.startswith("application/json"):
        try:
            document = json.loads(request.body)
        except ValueError:
            return fields
        if isinstance(document, dict):
            fields.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in document.items()})
    else:
        fields.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    return fields


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
