"""On the lab (SQLite and PostgreSQL): an engine killed -9 while a caller waits in a queue takes the
caller back when it restarts; the caller reaches the agent who logs in and becomes ready, and the
records show one queue visit, answered (docs/acd.md, "Restart").

The engine runs as a real `ringcast serve` process (`test_engine_crash.EngineProcess`); the caller
stays in the pbx's hold loop meanwhile."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from campaigns import queue_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import QueueVisit
from campaigns.persistence.models.enums import QueueResult
from dialer.asterisk.ami import AmiLink
from dialer.asterisk.carrier_caller import InboundCaller, call_pbx
from dialer.asterisk.confgen import QUEUE_HOLD_CONTEXT
from dialer.asterisk.lab import Lab
from dialer.asterisk.ports import free_tcp_port
from tests.integration.test_engine_crash import TOKEN, EngineProcess
from tests.support.inbound import AGENT, HOTLINE_DID, QUEUE, inbound_calls, prepare_inbound
from tests.support.live_campaign import CAMPAIGN
from tests.support.waiting import until

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

WAIT_LIMIT_S = 300.0  # the queue's: the caller must not overflow while the engine is down


async def _post(client: httpx.AsyncClient, path: str, body: object = None) -> None:
    response = await client.post(f"/agents/{AGENT}{path}", json=body)
    assert response.status_code == 200, response.text


def _client(engine: EngineProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=engine.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )


def _visits(database: Database) -> list[tuple[str, QueueResult | None]]:
    with database.session() as session:
        return [(v.queue, v.result) for v in session.scalars(select(QueueVisit).order_by(QueueVisit.id))]


async def _on_hold(pbx_ami: AmiLink, uniqueid: str) -> bool:
    return any(c.uniqueid == uniqueid and c.context == QUEUE_HOLD_CONTEXT for c in await pbx_ami.channels())


async def _until_on_hold(pbx_ami: AmiLink, uniqueid: str) -> None:
    deadline = time.monotonic() + 10
    while not await _on_hold(pbx_ami, uniqueid):
        assert time.monotonic() < deadline, "the caller not in the hold loop within 10 s"
        await asyncio.sleep(0.2)


async def test_a_caller_waiting_when_the_engine_is_killed_is_served_after_its_restart(
    lab: Lab, tmp_path: Path, empty_database_url: str, carrier_ami: AmiLink, pbx_ami: AmiLink
) -> None:
    database = Database(empty_database_url)
    database.upgrade()
    prepare_inbound(database, datetime.now(UTC))
    queue_store.update_queue(database, QUEUE, {"max_wait_s": WAIT_LIMIT_S}, Change("test", datetime.now(UTC)))
    engine = EngineProcess(empty_database_url, tmp_path, free_tcp_port(), free_tcp_port())
    try:
        engine.start()
        async with _client(engine) as client:
            await _post(client, "/login", {"campaign": CAMPAIGN})
            await _post(client, "/pause", {"reason": "break"})  # logged in, not ready: the caller waits
            await call_pbx(
                carrier_ami, InboundCaller(HOTLINE_DID, "13800138000", script="1", hang_up_after_s=90)
            )
            await until(lambda: any(c.queued_at for c in inbound_calls(database)), "the caller queued", 30)
        [call] = inbound_calls(database)
        await _until_on_hold(pbx_ami, call.uniqueid)

        engine.kill(signal.SIGKILL)
        assert await _on_hold(pbx_ami, call.uniqueid), "the pbx keeps the caller without the engine"
        engine.start()  # takes the caller back before it answers /health
        assert inbound_calls(database)[0].ended_at is None, "the caller was taken back, not closed"
        assert await _on_hold(pbx_ami, call.uniqueid)

        async with _client(engine) as client:
            # the restart logged every agent out: it logs in again, ready once its phone joined
            await _post(client, "/login", {"campaign": CAMPAIGN})
            await until(lambda: inbound_calls(database)[0].answered_at is not None, "answered", 20)
            await _post(client, "/hangup")
        await until(lambda: inbound_calls(database)[0].ended_at is not None, "the call ended", 20)
        assert _visits(database) == [(QUEUE, QueueResult.ANSWERED)], "one visit, offered once, answered"
        assert inbound_calls(database)[0].outcome is not None
        assert inbound_calls(database)[0].outcome.value == "answered"
    finally:
        if engine.process is not None and engine.process.poll() is None:
            engine.kill(signal.SIGTERM)
        database.dispose()
