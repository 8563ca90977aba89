"""One provider account's adapter spread over several small HTTP clients (SMS-5).

httpcore's connection pool re-examines every pooled connection whenever it hands one out
(encode/httpx#3215), so one `httpx.AsyncClient` slows down as its pool grows: on loopback on this
project's 2-core machine, ~1,450 sends/s with 8 connections, ~370/s with 32, ~180/s with 64.
Yet a provider that sometimes holds a reply until the timeout needs many connections, or the
held ones starve the rest. So an account's `max_connections` are split into clients of at most
`SHARD_CONNECTIONS` each (8 clients of 4: ~1,640/s), every send going to the client with the
fewest sends in flight. Receipts and replies parse the same whichever adapter reads them.
"""

from __future__ import annotations

import math

from sms.providers import build_provider
from sms.providers.base import InboundReply, OutgoingSms, Receipt, SendResult, SmsProvider, WebhookRequest
from sms.providers.config import SmsProviderSettings

SHARD_CONNECTIONS = 4


class ShardedProvider:
    def __init__(self, name: str, settings: SmsProviderSettings) -> None:
        count = math.ceil(settings.max_connections / SHARD_CONNECTIONS)
        per_shard = math.ceil(settings.max_connections / count)
        shard_settings = settings.model_copy(update={"max_connections": per_shard})
        self._shards: list[SmsProvider] = [build_provider(name, shard_settings) for _ in range(count)]
        self._busy = [0] * count
        self.name = name
        self.idempotent = self._shards[0].idempotent

    async def send(self, message: OutgoingSms) -> SendResult:
        shard = self._busy.index(min(self._busy))
        self._busy[shard] += 1
        try:
            return await self._shards[shard].send(message)
        finally:
            self._busy[shard] -= 1

    def receipts(self, request: WebhookRequest) -> list[Receipt]:
        return self._shards[0].receipts(request)

    def replies(self, request: WebhookRequest) -> list[InboundReply]:
        return self._shards[0].replies(request)

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()
