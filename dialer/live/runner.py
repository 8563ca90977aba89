"""One running campaign: its pacer, its hopper of queued leads, and the loop that launches calls.

Every `TICK_S` (and at once when woken by an event) the runner asks the pacer how many calls to
launch (a broadcast campaign's `BroadcastPacer`, by lines and calls per second; the others'
`Pacer`, fed every call and agent event through `observe`), takes that many leads from the hopper
(refilled from the database in batches), has them checked and their attempts opened
(`dial_store.open_attempts`: compliance at dial time), then hands each to the service to originate.
Nothing is launched while the AMI link is down, the campaign is paused, or outside its own
dialing hours and holidays (`campaigns.schedule`); `why()` names what holds dialing back right now
(`campaign why`); `kept_for_inbound` names the ready agents its last decision keeps free for
inbound calls (blending: no outbound call goes to them). Every `CALLBACKS_EVERY_S` the agents'
own due callbacks are dialled for them (CB-1, `AgentService.serve_own_callbacks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from campaigns import dial_store, hopper
from campaigns.compliance.rules import RefusalReason
from campaigns.config import CampaignConfig
from campaigns.dial_store import OpenedAttempt, RefusedLead
from campaigns.hopper import QueuedLead
from campaigns.list_shares import ListShares
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import DialMode
from dialer.live.dbthread import DatabaseThread
from dialer.pacing.broadcast import BroadcastPacer
from dialer.pacing.decision import Decision
from dialer.pacing.events import PacingEvent
from dialer.pacing.pacer import Mode, Pacer, PacerConfig

log = logging.getLogger(__name__)

TICK_S = 0.2
CALLBACKS_EVERY_S = 1.0  # how often due callbacks are looked for (they go ahead of the hopper)
FIGURES_EVERY_S = 10.0  # how often the abandonment figures are read back from the database
HOPPER_PER_AGENT = 4  # leads kept queued per logged-in agent
HOPPER_MIN = 10


def pacer_config(config: CampaignConfig) -> PacerConfig:
    compliance = config.compliance
    share = compliance.amd_false_positive_share if compliance.counts_amd_false_positives else 0.0
    broadcast = config.dial_mode is DialMode.BROADCAST  # paced by `BroadcastPacer`; no agents
    return PacerConfig(
        mode=Mode.PROGRESSIVE if broadcast else Mode(config.dial_mode.value),
        abandon_cap=compliance.abandon_cap,
        amd_false_positive_share=share or 0.0,
        connect_within_s=compliance.connect_within.total_seconds(),
        amd=config.amd,
        max_lines=config.max_lines,
        ratio=config.ratio,
        inbound_reserve=config.inbound_reserve,
    )


Launch = Callable[["CampaignRunner", OpenedAttempt], Awaitable[None]]


class CampaignRunner:
    def __init__(
        self,
        config: CampaignConfig,
        database: Database,
        db: DatabaseThread,
        link_up: Callable[[], bool],
        agents: Callable[[], int],
        launch: Launch,
        channel_prefix: str,
        own_callbacks: Callable[[CampaignConfig], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.pacer = Pacer(pacer_config(config))
        self.broadcast = (
            BroadcastPacer(config.max_lines or 1, config.calls_per_second)
            if config.dial_mode is DialMode.BROADCAST
            else None
        )
        self.database = database
        self.db = db
        self.hopper: deque[QueuedLead] = deque()
        self.list_shares = ListShares(config.lists)  # carries the weighted shares across refills
        self.lines: set[str] = set()  # channel ids of calls in progress
        self.refused: Counter[str] = Counter()  # refusal reasons since start
        self.last_refusal_until: dict[str, datetime | None] = {}
        self.last_decision: Decision | None = None
        self.at_abandon_cap = False  # then only one-to-one dials for ready agents go out
        self._figures_at = 0.0
        self._callbacks_at = 0.0
        self.dialed = 0
        self._link_up = link_up
        self._agents = agents
        self._launch = launch
        self._channel_prefix = channel_prefix
        self._own_callbacks = own_callbacks  # agents' own due callbacks, dialled for them (CB-1)
        self._own_callbacks_at = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def id(self) -> int:
        return self.config.id

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"campaign-{self.config.name}")

    def wake(self) -> None:
        self._wake.set()

    @property
    def kept_for_inbound(self) -> frozenset[int]:
        """The ready agents the last decision keeps free for inbound calls (the campaign's
        `inbound_reserve`, and the inbound calls waiting for them): no outbound call goes to them."""
        decision = self.last_decision
        return frozenset() if decision is None else frozenset(int(a) for a in decision.kept_for_inbound)

    def observe(self, event: PacingEvent) -> None:
        """A call or agent event for the pacer (a broadcast campaign's pacing needs none)."""
        if self.broadcast is None:
            self.pacer.observe(event)

    async def stop(self) -> None:
        """Stop launching; leads in the hopper go back (calls in progress finish normally)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        leads, self.hopper = list(self.hopper), deque()
        await self.db.run(hopper.give_back, self.database, leads, datetime.now(UTC))

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self._tick()
            except Exception:
                log.exception("campaign %s: pacing step failed; retrying", self.config.name)
                await asyncio.sleep(1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)
            self._wake.clear()

    async def _tick(self) -> None:
        clock = time.time()
        if clock - self._figures_at >= FIGURES_EVERY_S:
            self._figures_at = clock
            figures = await self.db.run(
                dial_store.abandonment_figures, self.database, self.config, datetime.now(UTC)
            )
            self.at_abandon_cap = figures.reached(self.config.compliance.abandon_cap)
        open_now = self.config.schedule.is_open(datetime.now(UTC))
        if (
            self._own_callbacks is not None
            and open_now
            and clock - self._own_callbacks_at >= CALLBACKS_EVERY_S
        ):
            self._own_callbacks_at = clock
            if self._link_up() and not self._stopping:
                await self._own_callbacks(self.config)
        if self.broadcast is not None:
            decision = self.broadcast.decide(time.time(), len(self.lines))
            covered = decision.launch  # no agents to wait for: none of its calls can be abandoned
        else:
            decision = self.pacer.decide(time.time())
            covered = max(decision.ready_agents - decision.lines, 0)  # one call per ready agent
        self.last_decision = decision
        launch = min(decision.launch, covered) if self.at_abandon_cap else decision.launch
        if self.config.max_lines is not None:  # the pacer's lines are calls not yet with an agent:
            launch = min(launch, self.config.max_lines - len(self.lines))  # every call up holds a line
        if launch <= 0 or not self._link_up() or self._stopping:
            return
        if not open_now:
            return  # outside its own dialing hours, or a holiday (CB-3): calls in progress go on
        await self._refill(launch)
        batch = [self.hopper.popleft() for _ in range(min(launch, len(self.hopper)))]
        if not batch:
            return
        now = datetime.now(UTC)
        results = await self.db.run(
            dial_store.open_attempts,
            self.database,
            self.config,
            batch,
            now,
            channel_prefix=self._channel_prefix,
            agent_free=covered,
        )
        launches = []
        for result in results:
            if isinstance(result, RefusedLead):
                reason = result.verdict.reason
                self.refused[reason.value] += 1
                self.last_refusal_until[reason.value] = result.verdict.until
                self.at_abandon_cap |= reason is RefusalReason.ABANDON_CAP  # before the next reading
                continue
            self.dialed += 1
            launches.append(self._launch(self, result))
        if self.broadcast is not None:
            self.broadcast.launched(len(launches))
        await asyncio.gather(*launches)  # the originates go out together

    async def take_one(self) -> QueuedLead | None:
        """The next lead of the hopper for an agent's preview (DIAL-1), or None when none is due."""
        self._callbacks_at = 0.0  # a callback due now comes first
        await self._refill(1)
        return self.hopper.popleft() if self.hopper else None

    async def _refill(self, wanted: int) -> None:
        clock = time.time()
        if clock - self._callbacks_at >= CALLBACKS_EVERY_S:
            self._callbacks_at = clock
            due = await self.db.run(
                hopper.take_leads,
                self.database,
                self.config,
                wanted,
                datetime.now(UTC),
                callbacks_only=True,
            )
            self.hopper.extendleft(reversed(due))
        lines = self.broadcast.max_lines if self.broadcast is not None else 0  # a lead per line
        target = max(HOPPER_MIN, HOPPER_PER_AGENT * self._agents(), lines, wanted)
        if len(self.hopper) >= wanted or self._stopping:
            return
        taken = await self.db.run(
            hopper.take_leads,
            self.database,
            self.config,
            target - len(self.hopper),
            datetime.now(UTC),
            shares=self.list_shares,
        )
        self.hopper.extend(taken)

    def telemetry(self) -> dict[str, Any]:
        decision = self.last_decision
        reasoning = decision.reasoning if decision else None
        return {
            "campaign": self.config.name,
            "mode": self.config.dial_mode.value,
            "lines": len(self.lines),
            "hopper": len(self.hopper),
            "dialed": self.dialed,
            "refused": dict(self.refused),
            "decision": None if decision is None else decision.explain(),
            "kept_for_inbound": sorted(self.kept_for_inbound),
            "answer_rate": self.pacer.estimates.answer.value,
            "abandon_rate": self.pacer.controller.observed_rate,
            "abandon_cap": self.config.compliance.abandon_cap,
            "expected_free_agents": None if reasoning is None else reasoning.expected_free_agents,
            "risk": None if reasoning is None else reasoning.risk,
            "risk_budget": None if reasoning is None else reasoning.risk_budget,
        }
