"""A caller that cannot be moved into its reserved agent's conference (`LiveDialer.move_to_agent`,
`InboundAcd.connect`, both ending in `LiveDialer.move_failed`), on a real database with stubs for
the pbx: an AMI that refuses every Redirect, a FastAGI session already gone. The agent reserved for
the caller is free again; an outbound customer is hung up, an inbound caller waits again, and a
call that has ended meanwhile is left alone."""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import AgentState
from dialer.acd.calls import WaitingCall
from dialer.agents.state import AgentStatus, Wrap
from dialer.asterisk.ami import AmiError, AmiLink
from dialer.asterisk.fastagi import AgiCall, AgiHangup
from dialer.calls.outbound import CallState, OutboundCall
from dialer.live.desk import AgentSession
from dialer.live.inbound_call import InboundCall, Stage
from dialer.live.service import LiveDialer
from tests.db.test_inbound_surveys import StubAmi
from tests.db.test_queue_store import add_agents
from tests.support.waiting import until

pytestmark = pytest.mark.db

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CHANNEL_ID = "1700000000.7"
CALLER = "+8613800138000"


class RefusingAmi(StubAmi):
    """Every Redirect refused, as Asterisk refuses one for a channel it no longer has."""

    def redirect_now(
        self, channel: str, context: str, exten: str = "s"
    ) -> Coroutine[Any, Any, Mapping[str, Any]]:
        async def refused() -> Mapping[str, Any]:
            self.sent.append(("redirect", channel, context, exten))
            raise AmiError("Channel does not exist")

        return refused()


class GoneSession:
    """A flow's FastAGI session whose caller has hung up."""

    async def set_variable(self, name: str, value: str) -> None:
        raise AgiHangup(f"SET VARIABLE {name}")


def _dialer(database: Database) -> tuple[RefusingAmi, LiveDialer, AgentSession]:
    ami = RefusingAmi()
    dialer = LiveDialer(database, cast(AmiLink, ami))
    agent_id = add_agents(database, "li")["li"]
    session = AgentSession(agent_id, "li", 1, AgentStatus(agent_id, AgentState.READY, AT), Wrap())
    dialer.desk.sessions[agent_id] = session
    return ami, dialer, session


def _inbound(dialer: LiveDialer, *, followed: bool) -> InboundCall:
    waiting = WaitingCall(CHANNEL_ID, "sales", AT, CALLER)
    call = InboundCall(1, CHANNEL_ID, CALLER, None, AT, Stage.WAITING, True, waiting)
    if followed:
        dialer.inbound.calls[CHANNEL_ID] = call
    return call


async def _refused_redirect(dialer: LiveDialer, session: AgentSession) -> None:
    session.status = session.status.reserve(AT, CHANNEL_ID).agent
    await dialer.move_to_agent(CHANNEL_ID, session)
    await until(lambda: session.status.state is not AgentState.RESERVED, "the agent freed")


async def test_a_refused_redirect_frees_the_agent_and_hangs_up_the_customer(database: Database) -> None:
    ami, dialer, session = _dialer(database)
    try:
        dialer.calls[CHANNEL_ID] = OutboundCall(1, 1, 1, CHANNEL_ID, 0.0, state=CallState.CONNECTING)
        await _refused_redirect(dialer, session)
        await until(lambda: len(ami.sent) == 2, "the customer hung up")
        assert session.status.state is AgentState.READY and session.status.call is None
        assert [sent[0] for sent in ami.sent] == ["redirect", "hangup"]
    finally:
        dialer.db.close()


async def test_a_refused_redirect_puts_an_inbound_caller_back_in_line(database: Database) -> None:
    ami, dialer, session = _dialer(database)
    call = _inbound(dialer, followed=True)
    call.stage, call.agent_id = Stage.OFFERED, session.agent_id
    try:
        await _refused_redirect(dialer, session)
        assert session.status.state is AgentState.READY
        assert (call.stage, call.agent_id) == (Stage.WAITING, None), "it waits again"
        assert [sent[0] for sent in ami.sent] == ["redirect"], "never hung up"
    finally:
        if call.wake is not None:
            call.wake.cancel()
        dialer.db.close()


@pytest.mark.parametrize("followed", [True, False], ids=["waiting", "ended meanwhile"])
async def test_a_caller_gone_from_its_session_frees_its_agent(database: Database, followed: bool) -> None:
    ami, dialer, session = _dialer(database)
    call = _inbound(dialer, followed=followed)
    call.session = cast(AgiCall, GoneSession())
    try:
        await dialer.inbound.connect(call, session, AT)
        assert session.status.state is AgentState.READY and session.status.call is None
        assert ami.sent == [], "nothing sent to the pbx: its hang-up ends the call"
        if followed:
            assert (call.stage, call.agent_id) == (Stage.WAITING, None), "back in line until its hang-up"
    finally:
        if call.wake is not None:
            call.wake.cancel()
        dialer.db.close()
