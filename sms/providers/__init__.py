"""SMS provider adapters (SMS-5): one small class per API shape, built from the settings here.

`base` says what an adapter does and how replies map to outcomes; `config` holds an account's
settings; `generic`, `twilio` and `aliyun` are the shapes; `outcomes` maps HTTP exchanges to
`SendResult`s for all of them. `build_provider()` is the one place that picks the class.

One `LeanTransport` per adapter (`provider_transport()`, `lean_transport`): its pool is the
adapter's concurrency limit; ~5,000 sends/s on loopback over 32 connections, against ~500-2,300/s
with `httpx.AsyncHTTPTransport` (whose pool re-examines every connection at every request).
"""

from __future__ import annotations

import httpx

from sms.providers.aliyun import AliyunProvider
from sms.providers.base import SmsProvider
from sms.providers.config import SmsProviderSettings
from sms.providers.generic import GenericHttpProvider
from sms.providers.lean_transport import LeanTransport
from sms.providers.twilio import TwilioProvider

__all__ = ["SmsProvider", "SmsProviderSettings", "build_provider", "provider_transport"]


def provider_transport(settings: SmsProviderSettings) -> LeanTransport:
    """The connection pool of one account: `max_connections` kept alive, no retries of its own.

    Adapters send through the transport, below `httpx.AsyncClient`: none of a client's per-request
    work (merging default headers, cookies, auth flows, redirects) is wanted for one POST, and it
    costs a fifth of a send's CPU at high rates. Each request carries its own timeouts
    (`outgoing_request`). Idle connections are dropped after 4 s, under the shortest common server
    idle timeout (Apache's 5 s): a request written to a connection the server is just closing comes
    back `UNKNOWN`, which a provider without idempotency cannot resend; a reconnect costs less.
    https servers are verified against the system's CA store (`ssl.create_default_context()`);
    no proxy settings from the environment are read."""
    return LeanTransport(max_connections=settings.max_connections, keepalive_expiry=4.0)


def build_provider(
    name: str, settings: SmsProviderSettings, transport: httpx.AsyncBaseTransport | None = None
) -> SmsProvider:
    """The adapter for one configured account. With no transport it makes its own
    (`provider_transport`) and closes it in `aclose()`; a given transport stays the caller's."""
    owns_client = transport is None
    http = transport if transport is not None else provider_transport(settings)
    if settings.kind == "twilio":
        return TwilioProvider(name, settings, http, owns_client)
    if settings.kind == "aliyun":
        return AliyunProvider(name, settings, http, owns_client)
    return GenericHttpProvider(name, settings, http, owns_client)
