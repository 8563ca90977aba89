"""The engine: the one asyncio process behind `ringcast serve`.

It owns the long-lived adapters (AMI link, FastAGI server, database) and their order of
start and stop. Start-up refuses an unmigrated database before touching Asterisk. The
pacing loops, lead hopper, agent tracking and control API of the live dialer plug in here.
Database work runs in worker threads (`asyncio.to_thread`): the event loop never blocks on I/O.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from campaigns.persistence.db import Database
from dialer.asterisk.ami import AmiLink
from dialer.asterisk.events import AmiEvent, LinkDown, LinkUp
from dialer.asterisk.fastagi import FastAgiServer

log = logging.getLogger(__name__)


@dataclass
class Engine:
    """Wires the adapters together; `run(stop)` serves until `stop` is set."""

    database: Database
    ami: AmiLink
    fastagi: FastAgiServer

    async def run(self, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
        await asyncio.to_thread(self.database.check_migrated)
        self.ami.subscribe(self._on_link_event)
        try:
            await self.ami.connect()
            await self.fastagi.start()
            log.info("engine running (database %s)", self.database.masked_url)
            if on_ready is not None:
                on_ready()
            await stop.wait()
        finally:
            log.info("engine stopping")
            await self.fastagi.stop()
            await self.ami.close()
            await asyncio.to_thread(self.database.dispose)

    def _on_link_event(self, event: AmiEvent) -> None:
        if isinstance(event, LinkDown):
            log.warning("AMI link down (%s): dialing paused until it is back", event.reason)
        elif isinstance(event, LinkUp) and event.reconnect:
            log.info("AMI link back up")
