"""Ready agents resting after a busy spell (AGT-7), served as soon as they are rested.

An agent ready but over its maximum occupancy is passed over by the router. Its occupancy falls
as time passes, with no event to say so: `RestWatch` keeps one timer per such agent, at the moment
its busy time has slid out of the window enough (`selection.rested_at`), and then serves it as an
agent that became ready (`LiveDialer.serve_waiting`: a waiting inbound call first). Each state
change of the agent (`watch`) replaces its timer; agents of no inbound queue are not watched.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dialer.agents.selection import Candidate, rested_at
from dialer.live.desk import AgentSession

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer


class RestWatch:
    def __init__(self, dialer: LiveDialer) -> None:
        self.dialer = dialer
        self._timers: dict[int, asyncio.TimerHandle] = {}  # by agent

    def watch(self, session: AgentSession, candidate: Candidate, queue_member: bool) -> None:
        """The agent's state changed (`candidate`): when it is rested, if it rests now."""
        timer = self._timers.pop(session.agent_id, None)
        if timer is not None:
            timer.cancel()
        now = datetime.now(UTC)
        at = rested_at(candidate, now) if queue_member else None
        if at is not None:
            loop = asyncio.get_running_loop()
            self._timers[session.agent_id] = loop.call_at(
                loop.time() + (at - now).total_seconds(),
                lambda: self.dialer.in_background(self._rested(session)),
            )

    async def _rested(self, session: AgentSession) -> None:
        self._timers.pop(session.agent_id, None)
        if self.dialer.desk.get(session.agent_id) is session:
            await self.dialer.serve_waiting(session)
