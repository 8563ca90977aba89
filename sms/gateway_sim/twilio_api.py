"""The simulator's Twilio Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.

Basic auth must be the configured Account SID and auth token, and the path's SID the same; else
401 with Twilio's error 20003. Form `To`, `Body`, `From` or `MessagingServiceSid`, optional
`StatusCallback` (where this message's DLRs go). Replies as Twilio's: 201 with the message
resource (`sid` `SM…`, `status: queued`), errors `{"code", "message", "more_info", "status"}`
(21211 invalid To, 21602 no Body, 21603 no From, 21610 unsubscribed recipient). No idempotency
key: every request is a new message. DLRs are Twilio's status-callback forms (`MessageSid`,
`MessageStatus` sent/delivered/undelivered, `ErrorCode` 30003); MOs its incoming-message forms.
"""

from __future__ import annotations

import base64
import hmac
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlencode

from sms.gateway_sim.http_server import Request, Response
from sms.gateway_sim.shape import (
    E164,
    AcceptedMessage,
    Refusal,
    Submission,
    Webhook,
    json_response,
    request_fields,
)

_PREFIX = "/2010-04-01/Accounts/"
_SUFFIX = "/Messages.json"


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    document = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return json_response(status, document, headers)


class TwilioApi:
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self._account = account_sid
        self._authorization = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()

    def handles(self, request: Request) -> bool:
        return request.path.startswith(_PREFIX) and request.path.endswith(_SUFFIX)

    def submission(self, request: Request) -> Submission | Refusal:
        path_account = request.path[len(_PREFIX) : -len(_SUFFIX)]
        given = request.headers.get("authorization", "")
        if path_account != self._account or not hmac.compare_digest(given, self._authorization):
            return Refusal("auth", self.unauthorized())
        form = request_fields(request)
        to, body = form.get("To", ""), form.get("Body")
        sender = form.get("From") or form.get("MessagingServiceSid")
        if not E164.match(to):
            return Refusal(
                "invalid_number",
                _error(400, 21211, f"The 'To' number {to[:20]} is not a valid phone number."),
            )
        if not body:
            return Refusal("bad_request", _error(400, 21602, "Message body is required."))
        if not sender:
            return Refusal("bad_request", _error(400, 21603, "The 'From' phone number is required."))
        return Submission(to, body, None, sender, form.get("StatusCallback") or None)

    def accepted(self, message: AcceptedMessage) -> Response:
        created = format_datetime(message.at, usegmt=True)
        resource = {
            "sid": message.id,
            "account_sid": self._account,
            "to": message.to,
            "from": message.sender,
            "body": message.text,
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": created,
            "date_updated": created,
            "error_code": None,
            "error_message": None,
            "uri": f"{_PREFIX}{self._account}/Messages/{message.id}.json",
        }
        return json_response(201, resource)

    def blocked(self, submission: Submission) -> Response:
        return _error(400, 21610, "Attempt to send to unsubscribed recipient")

    def server_error(self, status: int) -> Response:
        return _error(status, 20500, "Internal Server Error")

    def rate_limited(self, retry_after_s: float) -> Response:
        return _error(429, 20429, "Too Many Requests", {"retry-after": f"{retry_after_s:g}"})

    def unauthorized(self) -> Response:
        return _error(401, 20003, "Authenticate", {"www-authenticate": 'Basic realm="Twilio API"'})

    def message_id(self, serial: int) -> str:
        return f"SM{serial:032x}"

    def receipt_statuses(self, delivered: bool) -> list[str]:
        return ["sent", "delivered" if delivered else "undelivered"]

    def receipt(self, message: AcceptedMessage, status: str, at: datetime) -> Webhook:
        form = {
            "MessageSid": message.id,
            "SmsSid": message.id,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self._account,
            "From": message.sender or "",
            "To": message.to,
            "ApiVersion": "2010-04-01",
        }
        if status == "undelivered":
            form["ErrorCode"] = "30003"
        return Webhook("application/x-www-form-urlencoded", urlencode(form).encode())

    def reply(self, sender: str, text: str, to: str | None, serial: int, at: datetime) -> Webhook:
        sid = f"SMf{serial:031x}"  # distinct from the outbound sids, which start SM0
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self._account,
            "From": sender,
            "To": to or "+15005550006",
            "Body": text,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        return Webhook("application/x-www-form-urlencoded", urlencode(form).encode())
