"""The outbox sender against the real gateway simulator (a subprocess on loopback), on SQLite and PostgreSQL.

No HTTP mocking: messages are queued in the outbox, an `SmsService` built from settings sends them
through a provider adapter to the simulator, which injects faults. Checked against the
simulator's own log: every message accepted exactly once where the provider honours keys, none
resent where it does not, each ending in a defined state with its reason; the rules applied at
send time (opt-out, blacklist, consent); receipts and replies arriving through the webhooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from campaigns.compliance import blocklist_store
from campaigns.compliance.blocklist import BlockEntry
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import SmsMessage, SmsOptOut, SmsReceipt
from campaigns.persistence.models.enums import BlockKind, SmsState
from dialer.asterisk.ports import free_tcp_port
from ringcast.settings import Settings, SmsSettings
from sms import outbox, receipts
from sms.outbox import SmsRequest
from sms.service import SmsService, outbox_rules
from tests.support.sms_gateway import SmsGateway, provider_settings
from web.sms_webhooks import sms_webhooks

pytestmark = pytest.mark.db

WEBHOOK_SECRET = "hook-secret-1"


def settings(gateway: SmsGateway, shape: str = "generic", **provider: Any) -> Settings:
    account = provider_settings(
        shape,
        gateway,
        segments_per_s=5000.0,
        max_tries=8,
        timeout_s=1.0,
        webhook_secret=WEBHOOK_SECRET,
        **provider,
    )
    return Settings(sms=SmsSettings(providers={"gw": account}, poll_s=0.05, claim_s=30.0, retry_base_s=0.2))


def number(n: int) -> str:
    return f"+86139{n:08d}"


def queue(database: Database, config: Settings, count: int, **given: Any) -> list[int]:
    now = datetime.now(UTC)
    requests = [
        SmsRequest(key=f"test:{n}", to=number(n), body=f"您的验证码是{n:06d}", provider="gw", **given)
        for n in range(count)
    ]
    queued = database.in_transaction(outbox.queue_many, requests, now, outbox_rules(config))
    return [message.id for message in queued]


async def send_all(database: Database, service: SmsService, timeout_s: float = 60.0) -> None:
    """Run the sender until no message is queued or sending (retries included)."""
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    try:
        async with asyncio.timeout(timeout_s):
            while await asyncio.to_thread(_open_count, database):
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await running
        await service.aclose()


def _open_count(database: Database) -> int:
    with database.session() as session:
        states = (SmsState.QUEUED, SmsState.SENDING)
        return len(session.scalars(select(SmsMessage.id).where(SmsMessage.state.in_(states))).all())


def outcomes(database: Database) -> dict[str, tuple[SmsState, str | None]]:
    with database.session() as session:
        rows = session.execute(select(SmsMessage.idempotency_key, SmsMessage.state, SmsMessage.reason))
        return {key: (state, reason) for key, state, reason in rows}


async def test_faults_are_retried_and_every_message_is_accepted_exactly_once(
    database: Database, sms_gateway: SmsGateway
) -> None:
    sms_gateway.set_faults(seed=7, server_error=0.1, drop_after_accept=0.05, timeout=0.03, hold_ms=1500)
    config = settings(sms_gateway)
    queue(database, config, 300)
    await send_all(database, SmsService(database, config))
    assert set(outcomes(database).values()) == {(SmsState.SENT, None)}
    accepted = Counter(line["key"] for line in sms_gateway.log("accepted"))
    assert set(accepted) == {f"test:{n}" for n in range(300)} and set(accepted.values()) == {1}
    faults = Counter(line["fault"] for line in sms_gateway.log("fault"))
    assert faults["server_error"] > 0 and faults["drop_after_accept"] > 0 and faults["timeout"] > 0
    replays = {line["key"] for line in sms_gateway.log("replay")}
    assert replays  # the dropped and timed-out ones were sent again and recognised by their keys
    with database.session() as session:
        ids = session.scalars(select(SmsMessage.provider_message_id)).all()
        assert len(set(ids)) == 300 and None not in ids


async def test_without_idempotency_keys_an_unknown_outcome_is_never_resent(
    database: Database, sms_gateway: SmsGateway
) -> None:
    sms_gateway.set_faults(seed=3, server_error=0.2, drop_after_accept=0.2, blocked_numbers=[number(5)])
    config = settings(sms_gateway, "twilio")
    queue(database, config, 60)
    await send_all(database, SmsService(database, config))
    found = outcomes(database)
    accepted = [line["to"] for line in sms_gateway.log("accepted")]
    assert len(accepted) == len(set(accepted))  # no number got two
    unknown = {key for key, (state, reason) in found.items() if reason == "unknown_outcome"}
    assert unknown and all(found[key][0] is SmsState.FAILED for key in unknown)
    dropped = [line for line in sms_gateway.log("fault") if line["fault"] == "drop_after_accept"]
    assert len(unknown) == len(dropped)
    assert found["test:5"] == (SmsState.FAILED, "rejected")
    sent = {key for key, (state, _) in found.items() if state is SmsState.SENT}
    assert len(sent) == 60 - len(unknown) - 1 == len(accepted) - len(unknown)


async def test_send_time_rules_hold_back_opted_out_blacklisted_and_unconsented_numbers(
    database: Database, sms_gateway: SmsGateway
) -> None:
    config = settings(sms_gateway)
    queue(database, config, 4)
    queue_marketing = SmsRequest(
        key="promo", to=number(9), body="【华信】周末八折，回复TD退订", provider="gw", marketing=True
    )
    database.in_transaction(outbox.queue, queue_marketing, datetime.now(UTC), outbox_rules(config))
    now = datetime.now(UTC)
    database.in_transaction(receipts.opt_out, number(1), "TD", "sms_reply", "test", now)  # after queueing
    blocked = BlockEntry(kind=BlockKind.BLACKLIST, value=number(2), reason="投诉")
    blocklist_store.add(database, blocked, Change("li.wei", now))
    dnc = BlockEntry(kind=BlockKind.DNC, value=number(3))  # about calls: SMS still go
    blocklist_store.add(database, dnc, Change("li.wei", now))
    await send_all(database, SmsService(database, config))
    assert outcomes(database) == {
        "test:0": (SmsState.SENT, None),
        "test:1": (SmsState.CANCELLED, "opted_out"),
        "test:2": (SmsState.CANCELLED, "blacklisted"),
        "test:3": (SmsState.SENT, None),
        "promo": (SmsState.CANCELLED, "no_consent"),
    }
    assert sorted(line["to"] for line in sms_gateway.log("accepted")) == [number(0), number(3)]


async def test_an_unconfigured_provider_and_wrong_credentials_end_the_message_with_the_reason(
    database: Database, sms_gateway: SmsGateway
) -> None:
    config = settings(sms_gateway, secret="wrong-token")
    queue(database, config, 1)
    elsewhere = SmsRequest(key="elsewhere", to=number(7), body="你好", provider="nowhere")
    database.in_transaction(outbox.queue, elsewhere, datetime.now(UTC), outbox_rules(config))
    await send_all(database, SmsService(database, config))
    assert outcomes(database) == {
        "test:0": (SmsState.FAILED, "rejected"),
        "elsewhere": (SmsState.FAILED, "provider_not_configured"),
    }
    with database.session() as session:
        error = session.scalar(select(SmsMessage.last_error).where(SmsMessage.idempotency_key == "test:0"))
        assert error is not None and "401" in error and "wrong-token" not in error


@contextlib.contextmanager
def webhook_server(service: SmsService) -> Iterator[str]:
    """The SMS webhooks served on a free port in a thread; their base URL."""
    app = FastAPI()
    app.include_router(sms_webhooks(service))
    port = free_tcp_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}/webhooks/sms/gw/{WEBHOOK_SECRET}"
    finally:
        server.should_exit = True
        thread.join(5)


@contextlib.asynccontextmanager
async def receiving(service: SmsService, gateway: SmsGateway, shape: str) -> AsyncIterator[str]:
    with webhook_server(service) as base:
        gateway.set_webhooks(shape, dlr_url=f"{base}/dlr", mo_url=f"{base}/mo")
        yield base


@pytest.mark.parametrize("shape", ["generic", "twilio", "aliyun"])
async def test_receipts_duplicated_or_out_of_order_end_each_message_once_and_replies_opt_out(
    database: Database, sms_gateway: SmsGateway, shape: str
) -> None:
    sms_gateway.set_faults(seed=5, dlr_delay_ms=0, dlr_duplicate=0.5, dlr_out_of_order=0.5, dlr_failed=0.2)
    config = settings(sms_gateway, shape)
    queue(database, config, 20)
    webhooks = SmsService(database, config)  # the API's, apart from the sender's
    async with receiving(webhooks, sms_gateway, shape):
        await send_all(database, SmsService(database, config))
        sender = SmsService(database, config)
        stop = asyncio.Event()
        sweeping = asyncio.create_task(sender.run(stop))  # receipts that raced their ids are swept up
        async with asyncio.timeout(30):  # every receipt applied, none left waiting, eventually
            while SmsState.SENT in {state for state, _ in outcomes(database).values()} or _waiting(database):
                await asyncio.sleep(0.1)
        stop.set()
        await sweeping
        assert sms_gateway.inject_mo(shape, number(3), " 退订 ") == 200
    finals = Counter(state for state, _ in outcomes(database).values())
    assert finals[SmsState.DELIVERED] + finals[SmsState.FAILED] == 20 and finals[SmsState.FAILED] > 0
    with database.session() as session:
        assert len(session.scalars(select(SmsReceipt)).all()) > 20  # duplicates and intermediates kept
        opted = session.scalars(select(SmsOptOut)).one()
        assert (opted.e164, opted.keyword, opted.source) == (number(3), "退订", "sms_reply")
    await webhooks.aclose()
    await sender.aclose()


def _waiting(database: Database) -> int:
    with database.session() as session:
        return len(session.scalars(select(SmsReceipt.id).where(SmsReceipt.applied.is_(False))).all())
