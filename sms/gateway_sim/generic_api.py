"""The simulator's generic gateway API: `POST|PUT|GET /send` with fields `to`, `text`, `sender`.

The idempotency key comes in the `Idempotency-Key` header or a `key` field; a key seen before is a
replay (same reply, header `Idempotent-Replayed: true`). Auth, when configured: `Bearer TOKEN` or
basic `user:password`. Replies: 200 `{"status": "accepted", "id"}`; a blocked number 200
`{"status": "rejected", "error"}` (a 2xx carrying a failure marker); bad fields 400; wrong
credentials 401. DLRs are JSON `{"id", "status": sent|delivered|failed, "error", "key", "to",
"at"}`; MOs JSON `{"from", "to", "text", "id", "at"}`.
"""

from __future__ import annotations

import base64
import hmac
from datetime import datetime

from sms.gateway_sim.http_server import Request, Response
from sms.gateway_sim.shape import (
    E164,
    AcceptedMessage,
    Refusal,
    Submission,
    Webhook,
    iso,
    json_response,
    json_webhook,
    request_fields,
)


class GenericApi:
    name = "generic"

    def __init__(self, token: str | None = None, basic: str | None = None) -> None:
        self._accepted_auth = []
        if token:
            self._accepted_auth.append(f"Bearer {token}")
        if basic:
            self._accepted_auth.append("Basic " + base64.b64encode(basic.encode()).decode())

    def handles(self, request: Request) -> bool:
        return request.path == "/send"

    def submission(self, request: Request) -> Submission | Refusal:
        if self._accepted_auth:
            given = request.headers.get("authorization", "")
            if not any(hmac.compare_digest(given, accepted) for accepted in self._accepted_auth):
                return Refusal("auth", self.unauthorized())
        fields = request_fields(request)
        to, text = fields.get("to", ""), fields.get("text")
        if text is None or not E164.match(to):
            return Refusal(
                "invalid_number" if text is not None else "bad_request", _rejected(400, "invalid to or text")
            )
        key = request.headers.get("idempotency-key") or fields.get("key") or None
        return Submission(to, text, key, fields.get("sender") or None, idempotent=key is not None)

    def accepted(self, message: AcceptedMessage) -> Response:
        return json_response(200, {"status": "accepted", "id": message.id})

    def blocked(self, submission: Submission) -> Response:
        return _rejected(200, "number blocked")

    def server_error(self, status: int) -> Response:
        return _rejected(status, "internal error")

    def rate_limited(self, retry_after_s: float) -> Response:
        return json_response(
            429, {"status": "rejected", "error": "slow down"}, {"retry-after": f"{retry_after_s:g}"}
        )

    def unauthorized(self) -> Response:
        return json_response(
            401, {"status": "rejected", "error": "unauthorized"}, {"www-authenticate": "Bearer"}
        )

    def message_id(self, serial: int) -> str:
        return f"gw-{serial:08d}"

    def receipt_statuses(self, delivered: bool) -> list[str]:
        return ["sent", "delivered" if delivered else "failed"]

    def receipt(self, message: AcceptedMessage, status: str, at: datetime) -> Webhook:
        error = "unreachable" if status == "failed" else None
        document = {"id": message.id, "status": status, "error": error, "key": message.key, "to": message.to}
        return json_webhook({**document, "at": iso(at)})

    def reply(self, sender: str, text: str, to: str | None, serial: int, at: datetime) -> Webhook:
        return json_webhook({"from": sender, "to": to, "text": text, "id": f"mo-{serial:08d}", "at": iso(at)})


def _rejected(status: int, error: str) -> Response:
    return json_response(status, {"status": "rejected", "error": error})
