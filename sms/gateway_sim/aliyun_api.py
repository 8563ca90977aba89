"""The simulator's Aliyun Dysms API: signed RPC `SendSms` at `/` (GET query or POST form).

It checks what Aliyun checks, in Aliyun's words: the AccessKeyId (404
`InvalidAccessKeyId.NotFound`), the signature recomputed with `sms.providers.aliyun.rpc_signature`
(400 `SignatureDoesNotMatch`), a nonce used before (400 `SignatureNonceUsed`), a Timestamp more
than 15 minutes off (400 `InvalidTimeStamp.Expired`); then, as HTTP 200 with a failure `Code`, a
bad number (`isv.MOBILE_NUMBER_ILLEGAL`), a missing template or sign, a blocked number
(`isv.BLACK_KEY_CONTROL_LIMIT`), throttling (`isv.BUSINESS_LIMIT_CONTROL`: this shape's 429).
`OutId` is logged as the key, but Aliyun does not de-duplicate on it. DLRs are SmsReport pushes
(JSON lists; final statuses only), MOs SmsUp pushes.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta

from sms.gateway_sim.http_server import Request, Response
from sms.gateway_sim.shape import (
    AcceptedMessage,
    Refusal,
    Submission,
    Webhook,
    json_response,
    json_webhook,
    request_fields,
)
from sms.providers.aliyun import BEIJING, aliyun_number, e164_number, rpc_signature

_NUMBER = re.compile(r"^\d{7,15}$")
_CLOCK_SKEW = timedelta(minutes=15)
_NONCES_KEPT = 200_000


def _reply(status: int, code: str, message: str, **extra: str) -> Response:
    document = {"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper(), **extra}
    return json_response(status, document)


class AliyunApi:
    name = "aliyun"

    def __init__(self, access_key_id: str, access_key_secret: str) -> None:
        self._key_id = access_key_id
        self._secret = access_key_secret
        self._nonces: set[str] = set()
        self._nonce_order: deque[str] = deque()

    def handles(self, request: Request) -> bool:
        return request.path == "/"

    def _nonce_is_new(self, nonce: str) -> bool:
        if nonce in self._nonces:
            return False
        self._nonces.add(nonce)
        self._nonce_order.append(nonce)
        if len(self._nonce_order) > _NONCES_KEPT:
            self._nonces.discard(self._nonce_order.popleft())
        return True

    def _signature_refusal(self, method: str, params: dict[str, str]) -> Refusal | None:
        if params.get("AccessKeyId") != self._key_id:
            return Refusal("auth", self.unauthorized())
        signature = params.pop("Signature", "")
        if not signature or not hmac.compare_digest(signature, rpc_signature(params, self._secret, method)):
            reply = _reply(
                400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
            )
            return Refusal("signature", reply)
        try:
            stamp = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return Refusal(
                "timestamp", _reply(400, "MissingTimestamp", "Timestamp is mandatory and well-formed.")
            )
        if abs(datetime.now(UTC) - stamp) > _CLOCK_SKEW:
            return Refusal(
                "timestamp", _reply(400, "InvalidTimeStamp.Expired", "Specified time stamp is expired.")
            )
        if not self._nonce_is_new(params.get("SignatureNonce", "")):
            return Refusal(
                "nonce", _reply(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            )
        return None

    def submission(self, request: Request) -> Submission | Refusal:
        params = request_fields(request)
        refusal = self._signature_refusal(request.method, params)
        if refusal is not None:
            return refusal
        if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
            return Refusal(
                "bad_request", _reply(400, "InvalidParameter", "Action or Version is not supported.")
            )
        number = params.get("PhoneNumbers", "")
        if not _NUMBER.match(number):
            return Refusal("invalid_number", _reply(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"))
        if not params.get("TemplateCode") or not params.get("SignName"):
            return Refusal("bad_request", _reply(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"))
        text = f"{params['TemplateCode']} {params.get('TemplateParam', '')}".strip()
        return Submission(e164_number(number), text, params.get("OutId") or None, params["SignName"])

    def accepted(self, message: AcceptedMessage) -> Response:
        return _reply(200, "OK", "OK", BizId=message.id)

    def blocked(self, submission: Submission) -> Response:
        return _reply(200, "isv.BLACK_KEY_CONTROL_LIMIT", "黑名单管控")

    def server_error(self, status: int) -> Response:
        return _reply(
            status, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
        )

    def rate_limited(self, retry_after_s: float) -> Response:
        return _reply(200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")

    def unauthorized(self) -> Response:
        return _reply(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")

    def message_id(self, serial: int) -> str:
        return f"{900000000000000000 + serial}^0"

    def receipt_statuses(self, delivered: bool) -> list[str]:
        return ["delivered" if delivered else "failed"]

    def receipt(self, message: AcceptedMessage, status: str, at: datetime) -> Webhook:
        delivered = status == "delivered"
        report = {
            "phone_number": aliyun_number(message.to),
            "send_time": _beijing(message.at),
            "report_time": _beijing(at),
            "success": delivered,
            "err_code": "DELIVERED" if delivered else "MK:0001",
            "err_msg": "用户接收成功" if delivered else "用户不可达",
            "sms_size": "1",
            "biz_id": message.id,
            "out_id": message.key or "",
        }
        return json_webhook([report])

    def reply(self, sender: str, text: str, to: str | None, serial: int, at: datetime) -> Webhook:
        report = {
            "phone_number": aliyun_number(sender),
            "send_time": _beijing(at),
            "content": text,
            "sign_name": to or "ringcast",
            "dest_code": "1234",
            "sequence_id": serial,
        }
        return json_webhook([report])


def _beijing(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
