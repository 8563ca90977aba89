"""The simulator's outgoing webhooks: delivery receipts after each accepted message, and MOs.

Each shape has a DLR URL and an MO URL (set at start or through `/_control/webhooks`); Twilio
messages may name their own (`StatusCallback`). After `dlr_delay_ms` a message's receipts are
posted one after another in the shape's format: normally the intermediate then the final status;
by chance (the fault plan's shares) the final one fails, comes twice, or comes before the
intermediate. A webhook that fails is logged and counted, not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass

import httpx

from sms.gateway_sim.faults import FaultPlan
from sms.gateway_sim.ledger import Ledger
from sms.gateway_sim.shape import AcceptedMessage, Shape, Webhook, utc_now

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WebhookUrls:
    dlr_url: str | None = None
    mo_url: str | None = None


class WebhookPoster:
    def __init__(self, plan: FaultPlan, ledger: Ledger, stats: Counter[str]) -> None:
        self.urls: dict[str, WebhookUrls] = {}
        self._plan = plan
        self._ledger = ledger
        self._stats = stats
        self._client = httpx.AsyncClient(timeout=5.0, trust_env=False)
        self._pending: set[asyncio.Task[None]] = set()

    def urls_for(self, shape: str) -> WebhookUrls:
        return self.urls.setdefault(shape, WebhookUrls())

    async def _post(self, url: str, webhook: Webhook) -> int | None:
        try:
            reply = await self._client.post(
                url, content=webhook.body, headers={"content-type": webhook.content_type}
            )
        except httpx.HTTPError as exc:
            log.warning("webhook to %s failed: %s", url, exc)
            return None
        return reply.status_code

    def schedule_receipts(self, shape: Shape, message: AcceptedMessage) -> None:
        url = message.dlr_url or self.urls_for(shape.name).dlr_url
        if url is None:
            return
        settings = self._plan.settings
        statuses = shape.receipt_statuses(delivered=not self._plan.chance(settings.dlr_failed))
        final = statuses[-1]
        if len(statuses) > 1 and self._plan.chance(settings.dlr_out_of_order):
            statuses = [final, *statuses[:-1]]
        if self._plan.chance(settings.dlr_duplicate):
            statuses.append(final)
        task = asyncio.get_running_loop().create_task(
            self._post_receipts(shape, message, url, statuses, settings.dlr_delay_ms / 1000)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _post_receipts(
        self, shape: Shape, message: AcceptedMessage, url: str, statuses: list[str], delay_s: float
    ) -> None:
        await asyncio.sleep(delay_s)
        for status in statuses:
            http = await self._post(url, shape.receipt(message, status, utc_now()))
            self._stats["dlrs_posted" if http is not None else "dlr_failures"] += 1
            self._ledger.write("dlr", shape=shape.name, id=message.id, status=status, http=http)

    async def post_reply(
        self, shape: Shape, sender: str, text: str, to: str | None, serial: int
    ) -> int | None:
        url = self.urls_for(shape.name).mo_url
        if url is None:
            raise LookupError(f"no MO webhook URL for {shape.name}")
        http = await self._post(url, shape.reply(sender, text, to, serial, utc_now()))
        self._stats["mos_posted" if http is not None else "mo_failures"] += 1
        self._ledger.write("mo", shape=shape.name, **{"from": sender}, text=text, http=http)
        return http

    def cancel_pending(self) -> None:
        for task in list(self._pending):
            task.cancel()

    async def aclose(self) -> None:
        self.cancel_pending()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self._client.aclose()
