"""The running campaigns' runners: one `CampaignRunner` per campaign the database says is running.

`CampaignRunners` polls the campaigns' states (every `POLL_CAMPAIGNS_S`, with the inbound queues,
`InboundAcd.refresh`): a campaign started gets a runner, told of the agents already logged in to
it; one no longer running has its runner stopped, its calls in progress ending with it. A
broadcast campaign with a survey is not run by an engine that runs no surveys (no FastAGI
server): logged once. `config` gives a campaign's settings to the rest of the engine: its
runner's, or as its runner last had them (calls in progress after a stop), else the database's.
`campaign_for` is the campaign an agent logs in to. `stop` (the engine's drain) stops polling and
every runner; their hopper leads go back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from campaigns import campaign_store
from campaigns.config import CampaignConfig
from campaigns.persistence.models.enums import DialMode
from dialer.live.runner import CampaignRunner
from dialer.pacing import events as pe
from ringcast.errors import UserError

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)

POLL_CAMPAIGNS_S = 1.0


class CampaignRunners:
    def __init__(self, dialer: LiveDialer) -> None:
        self.dialer = dialer
        self.runners: dict[int, CampaignRunner] = {}  # by campaign id
        self._stopped: dict[int, CampaignConfig] = {}  # configs of campaigns whose runner stopped
        self._unrunnable: set[int] = set()  # broadcast survey campaigns this engine cannot serve
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise(), name="campaign-supervisor")

    async def stop(self) -> None:
        """No more polling; every runner stopped (its settings kept for its calls still in progress)."""
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        for campaign_id, runner in list(self.runners.items()):
            await runner.stop()
            self._stopped[campaign_id] = self.runners.pop(campaign_id).config

    async def _supervise(self) -> None:
        """Follow the campaigns' states in the database: start and stop runners."""
        dialer = self.dialer
        while not self._stopping:
            try:
                running = await dialer.db.run(campaign_store.running_campaigns, dialer.database)
                await self.sync({c.id: c for c in running})
                await dialer.inbound.refresh()
            except Exception:
                log.exception("could not read the running campaigns or the queues; retrying")
            await asyncio.sleep(POLL_CAMPAIGNS_S)

    async def sync(self, running: dict[int, CampaignConfig]) -> None:
        """Runners for exactly the `running` campaigns."""
        for campaign_id in list(self.runners):
            if campaign_id not in running:
                runner = self.runners.pop(campaign_id)
                self._stopped[campaign_id] = runner.config  # its calls still in progress end with it
                log.info("campaign %s: no longer running, dialing stops", runner.config.name)
                await runner.stop()
        for campaign_id, config in running.items():
            if campaign_id not in self.runners and self._runnable(config):
                self._start(config)

    def _runnable(self, config: CampaignConfig) -> bool:
        if config.dial_mode is not DialMode.BROADCAST or config.survey_id is None:
            return True
        if self.dialer.agi_url is not None:
            return True
        if config.id not in self._unrunnable:
            self._unrunnable.add(config.id)
            log.error(
                "campaign %s: this engine runs no surveys (no prompt directory): not dialing", config.name
            )
        return False

    def _start(self, config: CampaignConfig) -> None:
        dialer, campaign_id = self.dialer, config.id
        runner = CampaignRunner(
            config,
            dialer.database,
            dialer.db,
            link_up=dialer.ami.up.is_set,
            agents=lambda: len(dialer.desk.dialing(campaign_id)),
            launch=dialer.launch,
            channel_prefix=dialer.channel_ids.call_prefix,
            own_callbacks=dialer.agents.serve_own_callbacks,
        )
        now = time.time()
        for session in dialer.desk.dialing(campaign_id):
            blended = bool(dialer.inbound.board.seats(session.agent_id))  # in an inbound queue
            runner.observe(
                pe.AgentLoggedIn(now, session.agent_id, max_occupancy=session.max_occupancy, blended=blended)
            )
        self.runners[campaign_id] = runner
        self._stopped.pop(campaign_id, None)
        runner.start()
        log.info("campaign %s: running (%s)", config.name, config.dial_mode.value)

    def campaign_for(self, group_ids: tuple[int, ...], campaign_name: str | None) -> CampaignConfig:
        """The running campaign an agent of `group_ids` logs in to (the named one, else the first)."""
        for runner in self.runners.values():
            config = runner.config
            named = campaign_name is None or config.name == campaign_name
            if config.dial_mode is DialMode.BROADCAST:  # no agents
                continue
            if named and (config.agent_group_id is None or config.agent_group_id in group_ids):
                return config
        what = f"campaign {campaign_name}" if campaign_name else "a running campaign of the agent's groups"
        raise UserError(f"no {what} to log in to", hint="start it first (`ringcast campaign start`)")

    async def config(self, campaign_id: int) -> CampaignConfig:
        """The campaign's settings: its runner's, or as its runner last had them, or the database's."""
        runner = self.runners.get(campaign_id)
        if runner is not None:
            return runner.config
        if campaign_id in self._stopped:
            return self._stopped[campaign_id]
        dialer = self.dialer
        return await dialer.db.run(campaign_store.load_campaign_by_id, dialer.database, campaign_id)
