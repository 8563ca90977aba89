"""A caller that Asterisk will not move into its agent's conference (`LiveDialer.move_to_agent`,
`LiveDialer.not_moved`), on a real database with a stub pbx that refuses every Redirect: the agent
reserved for it is free again; an outbound customer is hung up, an inbound caller waits again."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import AgentState
from dialer.acd.calls import WaitingCall
from dialer.agents.state import AgentStatus, Wrap
from dialer.asterisk.ami import AmiError, AmiLink
from dialer.live.desk import AgentSession
from dialer.live.inbound_call import InboundCall, Stage
from dialer.live.service import LiveDialer
from tests.db.test_inbound_surveys import StubAmi
from tests.db.test_queue_store import add_agents
from tests.support.waiting import until

pytestmark = pytest.mark.db

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CHANNEL_ID = "1700000000.7"


class RefusingAmi(StubAmi):
    """Every Redirect refused, as Asterisk refuses one for a channel it no longer has."""

    def redirect_now(
        self, channel: str, context: str, exten: str = "s"
    ) -> Coroutine[Any, Any, Mapping[str, Any]]:
        async def refused() -> Mapping[str, Any]:
            self.sent.append(("redirect", channel, context, exten))
            raise AmiError("Channel does not exist")

        return refused()


async def _refused_move(database: Database, *, inbound: bool) -> tuple[RefusingAmi, LiveDialer, AgentSession]:
    ami = RefusingAmi()
    dialer = LiveDialer(database, cast(AmiLink, ami))
    agent_id = add_agents(database, "li")["li"]
    session = AgentSession(agent_id, "li", 1, AgentStatus(agent_id, AgentState.READY, AT), Wrap())
    session.status = session.status.reserve(AT, CHANNEL_ID).agent
    dialer.desk.sessions[agent_id] = session
    if inbound:
        waiting = WaitingCall(CHANNEL_ID, "sales", AT, "+8613800138000")
        call = InboundCall(1, CHANNEL_ID, "+8613800138000", None, AT, Stage.OFFERED, True, waiting, agent_id)
        dialer.inbound.calls[CHANNEL_ID] = call
    await dialer.move_to_agent(CHANNEL_ID, session)
    await until(lambda: session.status.state is not AgentState.RESERVED, "the agent freed")
    await asyncio.sleep(0.05)  # anything else the refusal does, done
    return ami, dialer, session


async def test_a_refused_move_frees_the_agent_and_hangs_up_the_customer(database: Database) -> None:
    ami, dialer, session = await _refused_move(database, inbound=False)
    try:
        assert session.status.state is AgentState.READY and session.status.call is None
        assert [sent[0] for sent in ami.sent] == ["redirect", "hangup"]
    finally:
        dialer.db.close()


async def test_a_refused_move_puts_an_inbound_caller_back_in_line(database: Database) -> None:
    ami, dialer, session = await _refused_move(database, inbound=True)
    try:
        call = dialer.inbound.calls[CHANNEL_ID]
        assert session.status.state is AgentState.READY
        assert (call.stage, call.agent_id) == (Stage.WAITING, None), "it waits again"
        assert [sent[0] for sent in ami.sent] == ["redirect"], "never hung up"
    finally:
        if call.wake is not None:
            call.wake.cancel()
        dialer.db.close()
