"""The engine: the one asyncio process behind `ringcast serve`.

It owns the long-lived adapters (AMI link, FastAGI server, database, control API) and their
order of start and stop: the database's schema is checked before Asterisk is touched; what a
previous run left behind (a crash, kill -9) is reconciled against Asterisk's live channels before
any new call; then the live dialer (`dialer.live`), its FastAGI routes (surveys, `dialer.live.surveys`:
the calls it places carry this server's address; inbound calls and callers agents send into a
flow, `dialer.live.inbound_flows`: the dialer publishes the address to the pbx) and the control
API (`web.api`) start. The SMS
sender (`sms.sender`), when SMS providers are configured, runs from the schema check to the stop,
whether Asterisk is up or not; the timers (`dialer.timers`: campaigns' scheduled starts and stops)
from the dialer's start to the stop. On stop
the dialer drains (no new call; calls in progress end or are hung up after `drain_s`; agents are
logged out) while the API still serves, then everything closes.
Database work runs in the dialer's database thread: the event loop never blocks on I/O. While
that thread works, the loop waits for the interpreter lock whenever an AMI event wakes it: the
engine shortens Python's switch interval (`GIL_SWITCH_S`) so that the wait stays under 1 ms.
GC_NOTE: once started, the engine moves every object start-up made (modules, SQLAlchemy's mappers and
caches, settings: about 150,000) out of the garbage collector's reach (`gc.freeze`), so that a full
collection, which stops the event loop, walks only what the calls made since.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from campaigns.persistence.db import Database
from dialer.asterisk.ami import AmiLink, endpoint_from_settings
from dialer.asterisk.confgen import FLOW_ROUTE, INBOUND_ROUTE, SURVEY_ROUTE
from dialer.asterisk.events import AmiEvent, LinkDown, LinkUp
from dialer.asterisk.fastagi import FastAgiServer
from dialer.asterisk.lab import pbx_spool_dir
from dialer.asterisk.ports import free_tcp_port
from dialer.asterisk.prompts import PromptLibrary
from dialer.asterisk.rendering import RenderOnce
from dialer.live.inbound_flows import InboundFlows
from dialer.live.reconcile import reconcile_after_restart
from dialer.live.service import LiveDialer
from dialer.live.surveys import SurveyCalls
from dialer.timers import EngineTimers
from ringcast.errors import UserError
from ringcast.settings import Settings
from sms.service import SmsService
from web.api import create_app

log = logging.getLogger(__name__)

API_KEEP_ALIVE_S = 75  # idle keep-alive connections outlive every client's (`api_server`)
GIL_SWITCH_S = 0.001  # Python's default, 5 ms, would add up to 5 ms to an answered call's connection


@dataclass(frozen=True, slots=True)
class ApiEndpoint:
    host: str
    port: int
    token: str


@dataclass
class Engine:
    """Wires the adapters together; `run(stop)` serves until `stop` is set."""

    database: Database
    ami: AmiLink
    fastagi: FastAgiServer
    api: ApiEndpoint
    default_region: str = "CN"  # numbers agents type without a country code
    drain_s: float = 60.0  # on stop: how long calls in progress may go on (`LiveDialer.drain`)
    prompts: PromptLibrary | None = None  # where prompts are; None: no surveys, no inbound calls
    sms: SmsService | None = None  # the SMS sender and webhooks; None: no SMS provider configured
    trunks: tuple[str, ...] = ("carrier",)  # PJSIP endpoints campaigns may dial on (start checks)
    pbx_spool: Path | None = None  # the pbx's spool directory here: voicemail recordings are checked

    async def run(self, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
        sys.setswitchinterval(GIL_SWITCH_S)
        await asyncio.to_thread(self.database.check_migrated)
        self.ami.subscribe(self._on_link_event)
        dialer: LiveDialer | None = None
        server: uvicorn.Server | None = None
        serving: asyncio.Task[None] | None = None
        timers = EngineTimers(self.database, self.trunks)
        sms_stop = asyncio.Event()
        sending = asyncio.create_task(self.sms.run(sms_stop), name="sms-sender") if self.sms else None
        try:
            await self.ami.connect()
            await reconcile_after_restart(self.database, self.ami)
            await self.fastagi.start()
            agi_url = f"agi://{self.fastagi.host}:{self.fastagi.port}" if self.prompts else None
            dialer = LiveDialer(self.database, self.ami, self.default_region, agi_url)
            dialer.pbx_spool = self.pbx_spool
            if self.prompts is not None:
                surveys = SurveyCalls(dialer, RenderOnce(self.prompts))
                self.fastagi.route(SURVEY_ROUTE, surveys.handle)
                flows = InboundFlows(dialer, surveys)  # a flow's survey nodes are asked by `surveys`
                self.fastagi.route(INBOUND_ROUTE, flows.handle)
                self.fastagi.route(FLOW_ROUTE, flows.handle_sent)  # a caller an agent sent into a flow
            await dialer.start()
            timers.start()
            server = api_server(create_app(dialer, self.api.token, self.sms), self.api.host, self.api.port)
            serving = asyncio.create_task(server.serve(), name="control-api")
            while not server.started:
                if serving.done():
                    await serving  # raises why it could not start
                    raise OSError(f"control API could not listen on {self.api.host}:{self.api.port}")
                await asyncio.sleep(0.02)
            log.info(
                "engine running (database %s, API http://%s:%s)",
                self.database.masked_url,
                self.api.host,
                self.api.port,
            )
            gc.collect()
            gc.freeze()  # what start-up built lives on: full collections need not walk it (GC_NOTE)
            if on_ready is not None:
                on_ready()
            await stop.wait()
        finally:
            log.info("engine stopping")
            timers.stop()
            if dialer is not None:  # the API stays up meanwhile: agents may still give dispositions
                await dialer.drain(self.drain_s)
            if server is not None and serving is not None:
                server.should_exit = True
                with contextlib.suppress(Exception):
                    await serving
            await self.fastagi.stop()  # survey sessions end (partial) while the database thread still writes
            sms_stop.set()
            if sending is not None and self.sms is not None:
                with contextlib.suppress(Exception):
                    await sending  # its batch in flight is recorded first
                await self.sms.aclose()
            if dialer is not None:
                await dialer.stop()
            await self.ami.close()
            await asyncio.to_thread(self.database.dispose)

    def _on_link_event(self, event: AmiEvent) -> None:
        if isinstance(event, LinkDown):
            log.warning("AMI link down (%s): dialing paused until it is back", event.reason)
        elif isinstance(event, LinkUp) and event.reconnect:
            log.info("AMI link back up")


@contextlib.asynccontextmanager
async def running_engine(database: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The engine in this process, its API and FastAGI on free local ports, and a client of its API.

    For the demo, the lab tests and the benchmarks: one call sets it all up and tears it down.
    """
    api = ApiEndpoint("127.0.0.1", free_tcp_port(), settings.api_token())
    engine = Engine(
        database=database,
        ami=AmiLink(endpoint_from_settings(settings)),
        fastagi=FastAgiServer(settings.fastagi.host, free_tcp_port()),
        api=api,
        default_region=settings.default_region,
        drain_s=settings.drain_s,
        prompts=PromptLibrary.from_settings(settings),
        trunks=tuple(settings.trunks),
        pbx_spool=pbx_spool_dir(settings),
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(engine.run(stop, on_ready=ready.set), name="engine")
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([waiting, running], timeout=30, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if running.done():
        await running  # raises why the engine could not start
    if not ready.is_set():
        stop.set()
        await running
        raise UserError("the engine did not start within 30 s")
    base_url, headers = f"http://{api.host}:{api.port}", {"Authorization": f"Bearer {api.token}"}
    try:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=45) as client:
            yield client
    finally:
        stop.set()
        await running


def api_server(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    """The control API's HTTP server: quiet, and slower to drop an idle connection than its clients.

    A client reuses an idle keep-alive connection until its own expiry (httpx and the bot agents
    5 s, browsers and load balancers up to a minute). uvicorn's default, 5 s, would close the
    connection just as such a client sends on it: the request fails with the server disconnected
    and no response (`API_KEEP_ALIVE_S`).
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=API_KEEP_ALIVE_S,
    )
    return _QuietServer(config)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: `ringcast serve` owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
