"""How one SMS provider account is configured (`sms.providers.<name>` in the settings).

`kind` picks the API shape: `generic` (any HTTP gateway, described by method, URL, body template
and where the reply's message id and success marker are), `twilio` (the Messages API), `aliyun`
(Dysms SendSms, signed requests). Credentials are `SecretStr`: they never print.

The generic shape's body template is a JSON object whose string values may hold the placeholders
`{to} {text} {key} {sender} {username} {secret}`; a value that is exactly one placeholder whose
value is missing (no sender) is left out. `{secret}` is refused in a GET template (it would be in
the URL, and URLs are logged).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr, model_validator

PUBLIC_URLS = {"twilio": "https://api.twilio.com", "aliyun": "https://dysmsapi.aliyuncs.com"}
PLACEHOLDER = re.compile(r"\{(to|text|key|sender|username|secret)\}")


def _default_body_template() -> dict[str, JsonValue]:
    return {"to": "{to}", "text": "{text}", "sender": "{sender}"}


def template_placeholders(template: JsonValue) -> set[str]:
    """The placeholder names used anywhere in a body template."""
    if isinstance(template, str):
        return set(PLACEHOLDER.findall(template))
    if isinstance(template, dict):
        return set().union(*(template_placeholders(v) for v in template.values()))
    if isinstance(template, list):
        return set().union(*(template_placeholders(v) for v in template))
    return set()


class SmsProviderSettings(BaseModel):
    """One provider account; the fields a shape does not use are ignored by it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["generic", "twilio", "aliyun"]
    url: str = ""  # generic: the send URL; twilio/aliyun: the API root (their public one by default)
    sender: str | None = None  # twilio: From number (or MG… service sid); aliyun: SignName; generic: {sender}
    username: str | None = None  # twilio: Account SID; aliyun: AccessKeyId; generic: basic-auth user
    secret: SecretStr | None = None  # twilio: auth token; aliyun: AccessKeySecret; generic: password/token
    segments_per_s: float = Field(default=50.0, gt=0)  # rate limit, in message parts
    timeout_s: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=50, ge=1)
    max_tries: int = Field(default=6, ge=1)
    webhook_secret: SecretStr | None = None  # the secret in this provider's DLR/MO webhook paths

    # generic: the request
    method: Literal["POST", "PUT", "GET"] = "POST"
    body_format: Literal["json", "form"] = "json"  # GET sends the fields as the query
    body_template: dict[str, JsonValue] = Field(default_factory=_default_body_template)
    auth: Literal["none", "basic", "bearer"] = "none"  # basic: username + secret; bearer: secret
    idempotency_header: str | None = None  # e.g. "Idempotency-Key": carries OutgoingSms.key
    idempotent: bool = False  # the gateway honours the key (header or {key}): a resend never doubles
    # generic: the reply (dotted paths into the JSON body; list items by index, e.g. "messages.0.id")
    id_field: str = "id"
    success_field: str | None = None  # None: any 2xx with an id is success
    success_value: str | int | bool = True
    error_field: str | None = "error"
    # generic: the webhooks (form or JSON, one object or a list of them)
    receipt_id_field: str = "id"
    receipt_status_field: str = "status"
    reply_from_field: str = "from"
    reply_text_field: str = "text"

    # twilio
    status_callback_url: str | None = None  # sent as StatusCallback with every message

    # aliyun
    template_code: str | None = None  # used when the message names none
    region: str = "cn-hangzhou"

    @model_validator(mode="after")
    def _check_shape(self) -> SmsProviderSettings:
        if not self.url:
            if self.kind == "generic":
                raise ValueError("a generic provider needs its url")
            self.url = PUBLIC_URLS[self.kind]
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http(s) URL")
        if self.kind != "generic":
            if self.username is None or self.secret is None:
                raise ValueError(f"a {self.kind} provider needs username and secret")
            return self
        used = template_placeholders(self.body_template)
        if self.idempotent and self.idempotency_header is None and "key" not in used:
            raise ValueError("idempotent needs idempotency_header or {key} in body_template")
        flat = all(isinstance(v, str | int | float | bool) for v in self.body_template.values())
        if (self.body_format == "form" or self.method == "GET") and not flat:
            raise ValueError("a form or GET body_template must be flat (no objects or lists)")
        if self.method == "GET" and "secret" in used:
            raise ValueError("{secret} cannot go in a GET query (URLs are logged)")
        if self.auth != "none" and self.secret is None:
            raise ValueError(f"auth {self.auth} needs a secret")
        if self.auth == "basic" and self.username is None:
            raise ValueError("auth basic needs a username")
        return self
