"""Simulated agents for the lab, the demo and the benchmarks: they work through the control API.

`create_lab_agents` records them (with a group) in the database, their phones being the lab
carrier's auto-answering `agent-<name>` numbers (`lab_phone`; a phone that rings and is never
answered, `agent-noanswer-<name>`, stands for an agent away from its desk). A bot logs in (the
engine calls its phone), watches its own state, hangs up after `talk_s` on a call (when given;
else the customer does), and after each call waits its wrap-up time and gives a disposition,
cycling through `codes` (after an inbound call, which takes none, it says it is ready); then it
is ready again. It does what a person at the agent desktop
does, over the same API, so the engine cannot tell the difference.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from campaigns import agent_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database

POLL_S = 0.1
LAB_TRUNK = "carrier"


def lab_phone(name: str, *, answers: bool = True) -> str:
    """The dial string of agent `name`'s phone on the lab carrier: answered at once, or never."""
    return f"PJSIP/agent-{name}@{LAB_TRUNK}" if answers else f"PJSIP/agent-noanswer-{name}@{LAB_TRUNK}"


def create_lab_agents(
    database: Database, group: str, names: Sequence[str], change: Change, *, numbered: bool = False
) -> None:
    """The group and its agents (those not there yet), each on the lab carrier's `agent-<name>` phone;
    `numbered` gives each an agent number (工号) 801, 802, ..."""
    if group not in {known.name for known in agent_store.list_groups(database)}:
        agent_store.create_group(database, group, "simulated agents", change)
    existing = {agent.name for agent in agent_store.list_agents(database)}
    for n, name in enumerate(names, start=1):
        if name not in existing:
            agent_store.create_agent(
                database,
                name,
                display_name=name,
                dial_string=lab_phone(name),
                agent_number=f"8{n:02d}" if numbered else None,
                groups=[group],
                change=change,
            )


@dataclass
class BotAgents:
    client: httpx.AsyncClient  # base_url and Authorization header set
    names: Sequence[str]
    campaign: str
    wrap_s: float = 1.0
    talk_s: float | None = None  # the bot ends its calls after this long; None: the customer does
    codes: Sequence[str] = ("sale", "not_interested", "call_back_later")
    served: Counter[str] = field(default_factory=Counter)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Log every bot in (concurrently); raises if one cannot log in."""
        await asyncio.gather(*(self._login(name) for name in self.names))
        self._tasks = [asyncio.create_task(self._work(name), name=f"bot-{name}") for name in self.names]

    async def stop(self) -> None:
        """Finish the dispositions in hand, then log every bot out."""
        self._stop.set()
        await asyncio.gather(*self._tasks)
        for name in self.names:
            await self.client.post(f"/agents/{name}/logout")

    async def abandon(self) -> None:
        """Stop at once without logging out (the engine is gone)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _login(self, name: str) -> None:
        response = await self.client.post(f"/agents/{name}/login", json={"campaign": self.campaign})
        if response.status_code != 200:
            raise RuntimeError(f"bot {name} could not log in: {response.text}")

    async def _work(self, name: str) -> None:
        while not self._stop.is_set():
            status = (await self.client.get(f"/agents/{name}")).json()
            if status["state"] == "on_call" and self.talk_s is not None:
                if datetime.now(UTC) - datetime.fromisoformat(status["since"]) >= timedelta(
                    seconds=self.talk_s
                ):
                    await self.client.post(f"/agents/{name}/hangup")
            elif status["state"] == "wrap_up" and status.get("awaiting_disposition"):
                await asyncio.sleep(self.wrap_s)
                code = self.codes[self.served[name] % len(self.codes)]
                response = await self.client.post(f"/agents/{name}/disposition", json={"code": code})
                if response.status_code != 200:
                    raise RuntimeError(f"bot {name} could not give a disposition: {response.text}")
                self.served[name] += 1
            elif status["state"] == "wrap_up":  # after an inbound call: nothing to dispose of
                await asyncio.sleep(self.wrap_s)
                response = await self.client.post(f"/agents/{name}/ready")
                if response.status_code != 200:
                    raise RuntimeError(f"bot {name} could not get ready: {response.text}")
                self.served[name] += 1
            await asyncio.sleep(POLL_S)
