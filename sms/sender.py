"""The outbox sender (SMS-5, SMS-8): claims due messages, asks the rules, sends, records, in batches.

One loop per process, in the engine (`ringcast serve`) or alone (`ringcast sms run`):

1. On SQLite, hold the outbox's lease (`campaigns.persistence.leases`) or stay idle: one sender at
   a time. On PostgreSQL any number of senders share the outbox (`FOR UPDATE SKIP LOCKED`).
2. Every few seconds, settle claims left by dead senders (`outbox.recover_expired`) and apply
   delivery receipts that raced their message's id (`receipts.apply_all_waiting`).
3. Claim up to `batch_size` due messages and read their recipients' facts, in one transaction,
   whenever fewer than half a claim's worth are still in flight (so sends never wait for it).
4. Ask the gate (`sms.decisions`) about each: deferred and cancelled ones are recorded as such.
5. Send the rest concurrently: at most `max_connections` requests in flight per provider, paced by
   a token bucket counted in message parts (`segments_per_s`), each through its provider's adapter.
6. Every `RECORD_EVERY_S`, record the outcomes gathered meanwhile in one transaction
   (`outbox.finish`), retries with back-off and jitter. A slow reply holds up nothing but itself.

Nothing is lost on a crash: a message is `queued` until claimed, `sending` (with its claim's
expiry) until its outcome is written, and a claim that outlives its sender is settled by the next
one. The rate limit is per sender process: with several senders, give each its share.
Database work runs in a worker thread: the event loop never waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from campaigns.persistence import leases
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import SmsState
from ringcast.settings import SmsSettings
from sms import outbox, receipts
from sms.decisions import Gate, after_send, not_sent
from sms.outbox import ClaimedSms, Finished
from sms.pacing import SegmentBucket, retry_delay
from sms.policy import Send
from sms.providers.base import OutgoingSms, SendOutcome, SendResult, SmsProvider
from sms.recipients import NumberFacts, facts_for

log = logging.getLogger(__name__)

LEASE = "sms-sender"
RECOVER_EVERY_S = 5.0
RECORD_EVERY_S = 0.1  # outcomes are written at least this often while sends are in flight


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    segments_per_s: float
    max_connections: int
    max_tries: int


class OutboxSender:
    def __init__(
        self,
        database: Database,
        providers: Mapping[str, SmsProvider],
        limits: Mapping[str, ProviderLimits],
        settings: SmsSettings,
        *,
        holder: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.database = database
        self.providers = providers
        self.limits = limits
        self.settings = settings
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"
        self._rng = rng or random.Random()
        shared: dict[int, tuple[SegmentBucket, asyncio.Semaphore]] = {}  # an alias shares its provider's
        for name, limit in limits.items():
            shared.setdefault(
                id(providers[name]),
                (
                    SegmentBucket(limit.segments_per_s, burst=max(1.0, limit.segments_per_s)),
                    asyncio.Semaphore(limit.max_connections),
                ),
            )
        self._pacing = {name: shared[id(providers[name])] for name in limits}
        self._rate = sum(
            limits[name].segments_per_s for name in {id(p): n for n, p in providers.items()}.values()
        )
        self._recovered_at = -RECOVER_EVERY_S
        self._sqlite = database.backend == "sqlite"
        self._sending: set[asyncio.Task[Finished]] = set()  # sends in flight
        self._done: list[Finished] = []  # outcomes not written yet
        self._provider_of: dict[int, str] = {}  # message id -> provider, until its outcome is written

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; what is in flight then is finished and recorded first."""
        log.info("SMS sender %s running (providers: %s)", self.holder, ", ".join(sorted(self.providers)))
        try:
            while not stop.is_set():
                try:
                    claimed = await self._claim_more() if len(self._sending) <= self._low_water else 0
                    await self._record()
                except Exception:
                    log.exception("SMS sender: the database failed; trying again shortly")
                    claimed = 0
                if self._sending:
                    await asyncio.wait(self._sending, timeout=RECORD_EVERY_S)
                elif not claimed:
                    await _wait(stop, self.settings.poll_s)
        finally:
            if self._sending:
                await asyncio.wait(self._sending)
            with contextlib.suppress(Exception):
                await self._record()
            if self._sqlite:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.database.in_transaction, leases.release, LEASE, self.holder)

    @property
    def _low_water(self) -> int:
        """Claim more once fewer than half a claim are still in flight: sends never wait on the database."""
        return self._claim_size() // 2

    async def _claim_more(self) -> int:
        """Claim due messages, record the ones the rules hold back, start sending the rest; how many."""
        now = datetime.now(UTC)
        claimed = await asyncio.to_thread(self.database.in_transaction, self._claim, now)
        if claimed is None:  # another sender holds the SQLite lease
            return 0
        batch, facts = claimed
        gate = Gate(self.settings.preset, facts, now)
        for message in batch:
            self._provider_of[message.id] = message.provider
            if message.provider not in self.providers:
                self._done.append(_unconfigured(message))
                continue
            decision = gate.decide(message)
            if isinstance(decision, Send):
                task = asyncio.create_task(self._send(message), name=f"sms-{message.id}")
                self._sending.add(task)
                task.add_done_callback(self._sent)
            else:
                self._done.append(not_sent(message, decision))
        return len(batch)

    def _sent(self, task: asyncio.Task[Finished]) -> None:
        self._sending.discard(task)
        if not task.cancelled():
            self._done.append(task.result())

    async def _record(self) -> None:
        """Write the outcomes gathered since the last time, in one transaction."""
        if not self._done:
            return
        outcomes, self._done = self._done, []
        provider_of = {outcome.id: self._provider_of[outcome.id] for outcome in outcomes}
        try:
            await asyncio.to_thread(
                self.database.in_transaction, outbox.finish, self.holder, outcomes, provider_of
            )
        except BaseException:
            self._done = outcomes + self._done  # written next time (or, after a crash, settled as expired)
            raise
        for outcome in outcomes:
            del self._provider_of[outcome.id]

    def _claim(
        self, session: Session, now: datetime
    ) -> tuple[list[ClaimedSms], dict[str, NumberFacts]] | None:
        claim_for = timedelta(seconds=self.settings.claim_s)
        if self._sqlite and not leases.take(session, LEASE, self.holder, now, claim_for):
            return None
        if time.monotonic() - self._recovered_at >= RECOVER_EVERY_S:
            idempotent = [name for name, provider in self.providers.items() if provider.idempotent]
            recovered = outbox.recover_expired(session, now, idempotent)
            if recovered.requeued or recovered.failed:
                log.warning(
                    "SMS sender: %d messages of a stopped sender queued again, %d failed (outcome unknown)",
                    recovered.requeued,
                    recovered.failed,
                )
            receipts.apply_all_waiting(session, now)
            self._recovered_at = time.monotonic()
        batch = outbox.claim_due(session, self.holder, now, self._claim_size(), claim_for)
        return batch, facts_for(session, batch, now) if batch else {}

    def _claim_size(self) -> int:
        """No more than the providers can take in half a claim's time, so claims never expire in use."""
        return max(1, min(self.settings.batch_size, int(self._rate * self.settings.claim_s / 2)))

    async def _send(self, message: ClaimedSms) -> Finished:
        provider, limits = self.providers[message.provider], self.limits[message.provider]
        bucket, slots = self._pacing[message.provider]
        async with slots:
            wait = bucket.take(message.segments, time.monotonic())
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                result = await provider.send(_outgoing(message))
            except Exception as error:  # an adapter bug must not lose the message: it is retried
                log.exception("SMS %s: provider %s raised", message.id, message.provider)
                result = SendResult(SendOutcome.RETRY, error=f"provider {message.provider} raised {error!r}")
        delay = retry_delay(
            message.tries, self._rng, base_s=self.settings.retry_base_s, retry_after_s=result.retry_after_s
        )
        return after_send(
            message,
            result,
            datetime.now(UTC),
            max_tries=limits.max_tries,
            idempotent=provider.idempotent,
            delay_s=delay,
        )


async def _wait(stop: asyncio.Event, timeout_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout_s)


def _outgoing(message: ClaimedSms) -> OutgoingSms:
    return OutgoingSms(
        key=message.key,
        to=message.to,
        body=message.body,
        sender=message.sender,
        template_code=message.template_code,
        params=message.params,
    )


def _unconfigured(message: ClaimedSms) -> Finished:
    return Finished(
        message.id,
        SmsState.FAILED,
        reason="provider_not_configured",
        error=f"SMS provider {message.provider!r} is not configured in this sender",
    )
