"""The SMS side of ringcast, built from settings: its providers, its sender, and what webhooks call.

One `SmsService` per process: the engine (`ringcast serve`) and `ringcast sms run` build one; the
CLI uses `outbox_rules` alone to queue messages without one. Each provider
account sends through its own pool of `max_connections` keep-alive connections
(`sms.providers.lean_transport`), each request bounded by the account's timeout.

Webhooks (`web.sms_webhooks`) hand `receipts` and `replies` a parsed request; a provider's
webhook URLs carry its `webhook_secret`, compared in constant time, and a provider without one
takes no webhook at all.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

from campaigns.persistence.db import Database
from ringcast.errors import UserError
from ringcast.settings import Settings
from sms import receipts, store
from sms.outbox import DEFAULT_PROVIDER, OutboxRules, QueuedSms
from sms.providers import build_provider
from sms.providers.base import SmsProvider, WebhookRequest
from sms.receipts import ReplyOutcome
from sms.sender import OutboxSender, ProviderLimits


def default_provider(settings: Settings) -> str | None:
    """The provider `default` stands for: the configured default, else the only provider, else none."""
    if settings.sms.default_provider is not None:
        return settings.sms.default_provider
    names = sorted(settings.sms.providers)
    return names[0] if len(names) == 1 else None


def outbox_rules(settings: Settings) -> OutboxRules:
    """What `outbox.queue` checks against: the region, the providers a message may name, the length."""
    names = tuple(settings.sms.providers)
    if default_provider(settings) in settings.sms.providers:
        names += (DEFAULT_PROVIDER,)
    return OutboxRules(settings.default_region, names, settings.sms.max_segments)


class WebhookRefused(UserError):
    """A webhook call for an unknown provider or with the wrong secret."""


class SmsService:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.providers: dict[str, SmsProvider] = {
            name: build_provider(name, config) for name, config in settings.sms.providers.items()
        }
        limits = {
            name: ProviderLimits(config.segments_per_s, config.max_connections, config.max_tries)
            for name, config in settings.sms.providers.items()
        }
        default = default_provider(settings)
        if default in self.providers:
            self.providers[DEFAULT_PROVIDER], limits[DEFAULT_PROVIDER] = (
                self.providers[default],
                limits[default],
            )
        self.sender = OutboxSender(database, self.providers, limits, settings.sms)

    async def send_to_customer(self, attempt_id: int, text: str, actor: str) -> QueuedSms:
        """Queue `text` to the customer of an attempt (an agent's customer record, SMS-4)."""
        rules, now = outbox_rules(self.settings), datetime.now(UTC)
        return await asyncio.to_thread(
            self.database.in_transaction, store.queue_to_customer, attempt_id, text, actor, rules, now
        )

    async def run(self, stop: asyncio.Event) -> None:
        await self.sender.run(stop)

    async def aclose(self) -> None:
        for provider in {id(provider): provider for provider in self.providers.values()}.values():
            await provider.aclose()

    def provider(self, name: str, secret: str) -> SmsProvider:
        """The provider a webhook URL names, if its secret is right; `WebhookRefused` otherwise."""
        config = self.settings.sms.providers.get(name)
        expected = config.webhook_secret.get_secret_value() if config and config.webhook_secret else None
        if expected is None or not secrets.compare_digest(secret.encode(), expected.encode()):
            raise WebhookRefused(
                f"webhook for SMS provider {name!r} refused: unknown provider or wrong secret"
            )
        return self.providers[name]

    async def receipts(self, name: str, secret: str, request: WebhookRequest) -> int:
        """Keep and apply the delivery receipts of a webhook call; how many changed a message."""
        parsed = self.provider(name, secret).receipts(request)
        now = datetime.now(UTC)
        return await asyncio.to_thread(
            self.database.in_transaction, receipts.record_receipts, name, parsed, now
        )

    async def replies(self, name: str, secret: str, request: WebhookRequest) -> list[ReplyOutcome]:
        """Keep the customers' replies of a webhook call, opting out those who asked (SMS-6)."""
        parsed = self.provider(name, secret).replies(request)
        keywords = self.settings.sms.opt_out_keywords
        now = datetime.now(UTC)
        return await asyncio.to_thread(
            self.database.in_transaction, receipts.record_replies, name, parsed, keywords, now
        )
