"""How one HTTP exchange with a provider becomes a `SendResult`, shared by every adapter.

`HttpAdapter` is what every adapter class shares (name, settings, transport, redactor, `aclose`);
`outgoing_request()` builds a request bounded by the account's timeouts.

`exchange()` sends one request and returns the reply, or the `SendResult` the failure means:
nothing sent (connect error or timeout, no free connection, bad URL) is `RETRY` or `REJECTED`;
anything that may have reached the provider (read timeout, connection dropped after the request
was written, write errors) is `UNKNOWN`. `status_result()` maps the reply's status the same way
for every shape: 429 and 5xx are `RETRY` (with Retry-After), 401/403 and other 4xx `REJECTED`;
2xx is left to the adapter, which reads its body. Error texts are one line, short, and pass
through `Redactor` so that no secret can appear in them even when a provider echoes one.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterable
from typing import Any

import httpx

from sms.providers.base import SendOutcome, SendResult
from sms.providers.config import SmsProviderSettings

_MAX_ERROR = 200


class Redactor:
    """Removes the given secrets from a text and keeps it to one short line."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self._secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        line = " ".join(text.split())
        return line if len(line) <= _MAX_ERROR else line[: _MAX_ERROR - 1] + "…"


class HttpAdapter:
    """What every adapter shares: its name and settings, the transport it sends through (closed by
    `aclose` when the adapter made it, else the caller's), and a redactor of its secret."""

    idempotent = False

    def __init__(
        self,
        name: str,
        settings: SmsProviderSettings,
        client: httpx.AsyncBaseTransport,
        owns_client: bool = False,
    ) -> None:
        self.name = name
        self._settings = settings
        self._client = client
        self._owns_client = owns_client
        self._secret = settings.secret.get_secret_value() if settings.secret else None
        self._redact = Redactor([self._secret])

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def retry_after_s(response: httpx.Response) -> float | None:
    """The reply's Retry-After in seconds (delta or HTTP date), None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def outgoing_request(settings: SmsProviderSettings, method: str, url: str, **given: Any) -> httpx.Request:
    """`httpx.Request(method, url, **given)` bounded by the account's timeouts: `timeout_s` per
    phase, connecting at most 5 s, waiting for a free connection as long as for a reply."""
    timeout = httpx.Timeout(settings.timeout_s, connect=min(settings.timeout_s, 5.0))
    return httpx.Request(method, url, **given, extensions={"timeout": timeout.as_dict()})


async def exchange(
    transport: httpx.AsyncBaseTransport, request: httpx.Request, provider: str, redact: Redactor
) -> httpx.Response | SendResult:
    """Send one request and read its reply; a transport failure comes back as the `SendResult` it means."""

    def failed(outcome: SendOutcome, what: str, exc: Exception) -> SendResult:
        detail = str(exc) or type(exc).__name__
        return SendResult(outcome, error=redact(f"provider {provider}: {what} ({detail})"))

    try:
        response = await transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        response.request = request
        return response
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return failed(SendOutcome.RETRY, "cannot connect", exc)
    except httpx.PoolTimeout as exc:
        return failed(SendOutcome.RETRY, "no free connection", exc)
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:  # refused before sending
        return failed(SendOutcome.REJECTED, "request not sendable", exc)
    except httpx.TimeoutException as exc:  # read or write timeout: the request may have arrived
        return failed(SendOutcome.UNKNOWN, "no reply in time", exc)
    except httpx.TransportError as exc:  # dropped after (part of) the request was written
        return failed(SendOutcome.UNKNOWN, "connection lost before the reply", exc)
    except httpx.HTTPError as exc:
        return failed(SendOutcome.UNKNOWN, "unreadable reply", exc)


def status_result(
    response: httpx.Response, provider: str, detail: str | None, redact: Redactor
) -> SendResult | None:
    """The outcome a non-2xx status means, or None for 2xx (the adapter reads the body).

    `detail` is the provider's own error text, if its body gave one."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    what = "wrong credentials" if status in (401, 403) else response.reason_phrase
    error = redact(f"provider {provider}: {status} {what}" + (f": {detail}" if detail else ""))
    if status == 429 or status >= 500:
        return SendResult(SendOutcome.RETRY, error=error, retry_after_s=retry_after_s(response))
    return SendResult(SendOutcome.REJECTED, error=error)


def json_body(response: httpx.Response) -> Any:
    """The reply's JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def dig(document: Any, path: str) -> Any:
    """The value at a dotted path (`data.id`, `messages.0.id`), None when absent."""
    value = document
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
