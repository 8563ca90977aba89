"""Ring-mode agents on the agents' side (ACD-6): set not ready after a ring-out (in the state log,
offered nothing on the way), and kept out of outbound calls: not chosen for an answered customer,
no preview, no click-to-call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dialer.acd.commands import RING_NO_ANSWER
from dialer.agents.state import AgentStatus, StateChange, Wrap
from dialer.live.agents import AgentService
from dialer.live.desk import AgentDesk, AgentSession
from ringcast.errors import UserError
from tests.unit.test_agent_selection import NOW, A


class _Dialer:
    """What `AgentService.step` touches, recording the state-log rows and the calls served."""

    def __init__(self) -> None:
        self.desk = AgentDesk()
        self.inbound = self.screen = self.db = self
        self.runners: dict[int, Any] = {}
        self.logged: list[StateChange] = []
        self.served: list[int] = []

    def agent_changed(self, session: AgentSession) -> None:
        pass

    def stepped(self, session: AgentSession, before: AgentStatus, change: StateChange) -> None:
        pass

    def submit(self, work: Any, change: StateChange, campaign_id: int) -> None:
        self.logged.append(change)

    async def serve_waiting(self, session: AgentSession) -> None:
        self.served.append(session.agent_id)


def _session(dialer: _Dialer, agent_id: int, idle_s: float, ring_phone: str | None = None) -> AgentSession:
    status = AgentStatus(agent_id, A.READY, NOW - timedelta(seconds=idle_s))
    session = AgentSession(agent_id, f"agent{agent_id}", 1, status, Wrap(), ring_phone=ring_phone)
    dialer.desk.sessions[agent_id] = session
    return session


async def test_a_ring_out_sets_the_agent_not_ready_through_ready_without_offering_it_a_call() -> None:
    dialer = _Dialer()
    session = _session(dialer, 7, 60, ring_phone="PJSIP/agent-7@carrier")
    session.status = session.status.reserve(NOW, "1.1").agent
    service = AgentService(dialer)  # type: ignore[arg-type]
    await service.set_not_ready(session, RING_NO_ANSWER, NOW)
    assert [(c.from_state, c.to_state, c.reason) for c in dialer.logged] == [
        (A.RESERVED, A.READY, None),
        (A.READY, A.NOT_READY, RING_NO_ANSWER),
    ]
    assert dialer.served == [], "not offered a waiting call while passing through ready"
    await service.set_not_ready(session, RING_NO_ANSWER, NOW)
    assert len(dialer.logged) == 2, "already not ready for that reason: nothing more to log"


async def test_an_agent_in_ring_mode_gets_no_outbound_call() -> None:
    dialer = _Dialer()
    _session(dialer, 7, 600, ring_phone="PJSIP/agent-7@carrier")  # idle the longest
    persistent = _session(dialer, 8, 60)
    assert dialer.desk.choose(1, NOW) is persistent, "an answered customer goes to a connected agent"
    assert dialer.desk.dialing(1) == [persistent]
    service = AgentService(dialer)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="agent7 is in ring mode: it takes inbound calls only"):
        await service.preview("agent7")
    with pytest.raises(UserError, match="ring mode"):
        await service.click_to_call("agent7", "13800138000")
