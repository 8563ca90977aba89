"""The engine's timers (CB-4): APScheduler 3 on the engine's event loop, for work that falls due.

The timers hold no state of their own: what is due lives in the database (campaign schedules in
the campaigns' settings, callbacks in `callbacks`, scheduled SMS in the outbox), so a restart
loses nothing and the first run after start-up catches up. A timer's job runs its database work
in a worker thread, never on the loop; APScheduler runs one instance of a job at a time
(`max_instances=1`) and folds missed runs into one (`coalesce`). Work shared by several engine
processes is claimed in the database (a lease, or `SKIP LOCKED` rows), not by the timer.

Due callbacks are taken by each campaign's hopper (`campaigns.hopper`, callbacks first) and
scheduled SMS by the outbox sender (`sms.sender`): they need no timer of their own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from campaigns import schedule_jobs
from campaigns.persistence.db import Database

log = logging.getLogger(__name__)


class EngineTimers:
    def __init__(self, database: Database, trunks: Sequence[str]) -> None:
        self.database = database
        self.trunks = tuple(trunks)
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.add_job(
            self.campaign_moves,
            "interval",
            seconds=schedule_jobs.EVERY_S,
            next_run_time=datetime.now(UTC),
            id="campaign-schedules",
            max_instances=1,
            coalesce=True,
        )

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def campaign_moves(self) -> list[schedule_jobs.Move]:
        """Start and stop campaigns whose schedule says so (`campaigns.schedule_jobs`)."""
        try:
            return await asyncio.to_thread(
                schedule_jobs.apply_due_moves, self.database, self.holder, datetime.now(UTC), self.trunks
            )
        except Exception:
            log.exception("scheduled campaign moves failed; tried again at the next run")
            return []
