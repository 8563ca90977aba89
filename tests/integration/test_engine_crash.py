"""Crash safety on the lab: kill -9 the engine mid-campaign, restart the pbx under it, stop it
mid-campaign; nothing is lost.

The engine runs as a real `ringcast serve` process against a SQLite file. After `kill -9` the
database holds open attempts, queued leads and logged-in agents, and Asterisk still carries the
calls and agent legs; the restarted engine must reconcile all of it before it dials again. When
the pbx itself restarts, the engine pauses, reconnects, closes the calls that died with it and
logs out the agents whose phone legs are gone. Stopped (SIGTERM) mid-campaign, it lets calls end
for a while, hangs up the rest and logs its agents out: nothing is left to reconcile. Throughout,
the carrier never sees one number in two calls at once, and every call it saw has its attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from campaigns import campaign_store
from campaigns.campaign_store import CampaignEvent
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, Attempt, Lead
from campaigns.persistence.models.enums import AgentState, LeadState
from dialer.asterisk.ami import AmiLink, endpoint_from_settings
from dialer.asterisk.lab import Lab
from dialer.asterisk.ports import free_tcp_port
from dialer.live.bot_agents import BotAgents
from dialer.live.channel_ids import ChannelIds
from ringcast.settings import load_settings
from tests.support.live_campaign import (
    AGENTS,
    CAMPAIGN,
    prepare,
    wait_for_calls_to_end,
)

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

RUN_S = 20.0
DRAIN_S = 8  # a stopped engine's calls may go on this long (talks last up to 15 s: some are cut)
TOKEN = "crash-test-token"


@dataclass
class EngineProcess:
    """`ringcast serve` in a child process, on its own database, API and FastAGI ports."""

    database_url: str
    data_dir: Path
    api_port: int
    fastagi_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        env = os.environ | {
            "RINGCAST_DATABASE__URL": self.database_url,
            "RINGCAST_DATA_DIR": str(self.data_dir),
            "RINGCAST_API__PORT": str(self.api_port),
            "RINGCAST_API__TOKEN": TOKEN,
            "RINGCAST_FASTAGI__PORT": str(self.fastagi_port),
            "RINGCAST_DRAIN_S": str(DRAIN_S),
        }
        log = (self.data_dir / "serve.log").open("ab")
        ringcast = str(Path(sys.executable).with_name("ringcast"))
        self.process = subprocess.Popen([ringcast, "serve"], env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.data_dir / "serve.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/health", headers=_auth(), timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError("ringcast serve did not become ready within 30 s")

    def kill(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=30)


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def engine_process(lab: Lab, tmp_path: Path, empty_database_url: str) -> Iterator[EngineProcess]:
    url = empty_database_url  # on SQLite and on PostgreSQL
    database = Database(url)
    database.upgrade()
    prepare(database, datetime.now(UTC))
    database.dispose()
    engine = EngineProcess(url, tmp_path, free_tcp_port(), free_tcp_port())
    yield engine
    if engine.process is not None and engine.process.poll() is None:
        engine.kill(signal.SIGTERM)


@pytest.fixture
async def ami(lab: Lab) -> AsyncIterator[AmiLink]:
    link = AmiLink(endpoint_from_settings(load_settings()))
    await link.connect()
    yield link
    await link.close()


async def _work(engine: EngineProcess, seconds: float) -> BotAgents:
    client = httpx.AsyncClient(base_url=engine.api_url, headers=_auth(), timeout=45)
    bots = BotAgents(client, AGENTS, CAMPAIGN)
    await bots.start()
    await asyncio.sleep(seconds)
    return bots


async def _our_channels(ami: AmiLink, engine: EngineProcess) -> list[str]:
    """The engine's channels still up in Asterisk (state, application, age: for the failure message)."""
    ids = ChannelIds.for_database(Database(engine.database_url).masked_url)
    return [
        f"{c.uniqueid} {c.state} {c.application} {c.duration_s}s"
        for c in await ami.channels()
        if ids.ours(c.uniqueid)
    ]


def _snapshot(database: Database) -> tuple[int, int, int]:
    """Open attempts, leads between hopper and call, agents the database shows logged in."""
    with database.session() as session:
        open_attempts = session.scalar(select(func.count()).where(Attempt.ended_at.is_(None))) or 0
        in_between = session.scalar(
            select(func.count()).where(Lead.state.in_([LeadState.QUEUED, LeadState.DIALING]))
        )
        logged_in = session.scalar(select(func.count()).where(Agent.state != AgentState.LOGGED_OUT))
    return open_attempts, in_between or 0, logged_in or 0


def _attempt_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Attempt)) or 0


def _assert_carrier_agrees(database: Database, lab: Lab, since: float) -> None:
    with database.session() as session:
        attempts = list(session.scalars(select(Attempt)))
    with database.session() as session:
        ours = set(session.scalars(select(Lead.e164)))
    carrier = [c for c in lab.carrier_log(since=since) if c.number in ours]
    attempted = {a.e164 for a in attempts}
    assert {c.number for c in carrier} <= attempted, "a call reached the carrier without an attempt"
    by_number: dict[str, list[tuple[float, float]]] = {}
    for call in carrier:
        by_number.setdefault(call.number, []).append((call.started_at, call.ended_at or time.time()))
    for number, spans in by_number.items():
        spans.sort()
        overlaps = [(a, b) for a, b in itertools.pairwise(spans) if a[1] > b[0] + 0.5]
        assert not overlaps, f"{number} was in two calls at once: {overlaps}"


async def _finish(
    engine: EngineProcess, database: Database, bots: BotAgents, lab: Lab, started: float
) -> None:
    """Pause, let the calls end, stop the engine cleanly: nothing left in between, the carrier agrees."""
    campaign_store.change_state(database, CAMPAIGN, CampaignEvent.PAUSE, Change("test", datetime.now(UTC)))
    await wait_for_calls_to_end(database, 60)
    await bots.stop()
    engine.kill(signal.SIGTERM)
    assert engine.process is not None and engine.process.returncode == 0
    assert _snapshot(database) == (0, 0, 0)
    _assert_carrier_agrees(database, lab, started - 1)
    database.dispose()


async def test_kill_9_mid_campaign_then_restart_reconciles_everything(
    engine_process: EngineProcess, ami: AmiLink, lab: Lab
) -> None:
    started = time.time()
    database = Database(engine_process.database_url)
    engine_process.start()
    bots = await _work(engine_process, RUN_S)
    engine_process.kill(signal.SIGKILL)
    await bots.abandon()
    left_open, in_between, logged_in = _snapshot(database)
    assert logged_in == len(AGENTS)
    assert await _our_channels(ami, engine_process), "the killed engine's agent legs should still be up"

    engine_process.start()  # reconciles before it answers /health
    assert _snapshot(database) == (0, 0, 0), f"left behind: {left_open} open attempts, {in_between} leads"
    await asyncio.sleep(2.0)
    assert await _our_channels(ami, engine_process) == []

    bots = await _work(engine_process, RUN_S / 2)
    engine_process.kill(signal.SIGTERM)  # mid-campaign: it drains, then hangs up what is left
    await bots.abandon()
    assert engine_process.process is not None and engine_process.process.returncode == 0
    assert _snapshot(database) == (0, 0, 0), "a clean stop leaves nothing open"
    assert await _our_channels(ami, engine_process) == []
    _assert_carrier_agrees(database, lab, started - 1)
    database.dispose()


async def test_pbx_restart_pauses_reconnects_and_reconciles(
    engine_process: EngineProcess, ami: AmiLink, lab: Lab
) -> None:
    started = time.time()
    database = Database(engine_process.database_url)
    engine_process.start()
    bots = await _work(engine_process, RUN_S)
    lab.restart("pbx")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        health = httpx.get(f"{engine_process.api_url}/health", headers=_auth(), timeout=5).json()
        if health["ami_up"] and _snapshot(database)[0] == 0:
            break
        await asyncio.sleep(0.5)
    assert health["ami_up"], "the engine did not reconnect to the restarted pbx"
    open_attempts, _, logged_in = _snapshot(database)  # the hopper's leads stay queued: it runs on
    assert (open_attempts, logged_in) == (0, 0), "calls and agent legs died with the pbx"
    await bots.abandon()

    before = _attempt_count(database)
    bots = await _work(engine_process, RUN_S / 2)  # agents log in again; dialing resumes
    assert _attempt_count(database) > before, "dialing did not resume"
    await _finish(engine_process, database, bots, lab, started)
