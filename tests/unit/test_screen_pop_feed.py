"""What each agent step publishes (`ScreenFeed.stepped`, AGT-3), on a stand-in dialer: its desk, an
inbound ACD following one waiting call, and a database thread answering the screen facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from campaigns.persistence.models.enums import AgentState
from dialer.acd.calls import WaitingCall
from dialer.agents.state import AgentStatus, AgentStep, Wrap
from dialer.live import screen_facts
from dialer.live.desk import AgentDesk, AgentSession
from dialer.live.inbound_call import InboundCall
from dialer.live.screen_feed import ScreenFeed
from dialer.live.service import LiveDialer
from tests.support.inbound import TALK_EVENTS

AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
CALLER = "+8613800138000"


class FakeDb:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def run(self, work: Callable[..., Any], database: Any, call: str) -> dict[str, Any]:
        self.asked.append((work.__name__, call))
        if work is screen_facts.inbound_facts:
            return {"did": "4008001000", "known": False, "customer": {}}
        return {"campaign": "spring", "lead": {"lead_id": 3, "e164": CALLER}}


def _feed() -> tuple[ScreenFeed, SimpleNamespace, AgentSession]:
    call = InboundCall(1, "1.1", CALLER, "广东省", AT - timedelta(seconds=30), flags=("vip",))
    call.waiting = WaitingCall("1.1", "sales", AT - timedelta(seconds=12), CALLER, 10, "广东省")
    inbound = SimpleNamespace(calls={"1.1": call}, follows=lambda uniqueid: uniqueid == "1.1")
    inbound.screen_pop = lambda uniqueid: {"caller": CALLER, "queue": "sales", "flags": ["vip"]}
    dialer = SimpleNamespace(desk=AgentDesk(), inbound=inbound, db=FakeDb(), database=None)
    session = AgentSession(7, "bot1", 1, AgentStatus(7, AgentState.READY, AT), Wrap())
    dialer.desk.sessions[7] = session
    return ScreenFeed(cast(LiveDialer, dialer)), dialer, session


def _step(feed: ScreenFeed, session: AgentSession, step: AgentStep) -> None:
    before, session.status = session.status, step.agent
    assert step.change is not None
    feed.stepped(session, before, step.change)


async def test_an_inbound_call_is_offered_with_its_wait_and_facts_then_connected_and_ended() -> None:
    feed, _, session = _feed()
    with feed.pops.subscribe("bot1") as reader:
        _step(feed, session, session.status.reserve(AT, "1.1"))
        _step(feed, session, session.status.bridge(AT, "1.1"))
        _step(feed, session, session.status.hangup(AT, "1.1", Wrap()))
        events = [(await reader.next()) for _ in range(6)]
    assert [(e.kind, e.data.get("state")) for e in events if e is not None] == TALK_EVENTS
    offered, ended = events[0], events[4]
    assert offered is not None and ended is not None
    assert offered.data == {
        "call": "1.1",
        "direction": "inbound",
        "caller": CALLER,
        "queue": "sales",
        "flags": ["vip"],
        "wait_s": 12.0,
        "did": "4008001000",
        "known": False,
        "customer": {},
    }
    assert ended.data == {"call": "1.1", "talked": True}


async def test_an_outbound_call_is_offered_with_its_lead_card_and_nothing_is_read_unwatched() -> None:
    feed, dialer, session = _feed()
    _step(feed, session, session.status.pause(AT, "preview"))
    assert dialer.db.asked == [], "nobody watches bot1"
    with feed.pops.subscribe("bot1") as reader:
        _step(feed, session, session.status.reserve(AT, "rc-1"))
        offered, reserved = await reader.next(), await reader.next()
    assert offered is not None and reserved is not None
    assert offered.data == {
        "call": "rc-1",
        "direction": "outbound",
        "campaign": "spring",
        "lead": {"lead_id": 3, "e164": CALLER},
    }
    assert dialer.db.asked == [("outbound_facts", "rc-1")]
    assert reserved.data == {"state": "reserved", "reason": None, "since": AT.isoformat(), "call": "rc-1"}
    assert feed.current("bot1")["state"] == "reserved"
    assert feed.current("nobody") == {"state": "logged_out", "reason": None, "since": None, "call": None}


async def test_agents_offered_one_call_at_once_share_one_read_of_its_details() -> None:
    feed, dialer, first = _feed()
    second = AgentSession(8, "bot2", 1, AgentStatus(8, AgentState.READY, AT), Wrap())
    dialer.desk.sessions[8] = second
    with feed.pops.subscribe("bot1") as one, feed.pops.subscribe("bot2") as two:
        _step(feed, first, first.status.reserve(AT, "1.1"))  # ring-all: both at once
        _step(feed, second, second.status.reserve(AT, "1.1"))
        offers = [await one.next(), await two.next()]
        assert dialer.db.asked == [("inbound_facts", "1.1")]
        assert all(offer is not None and offer.data["did"] == "4008001000" for offer in offers)
        _step(feed, first, first.status.hangup(AT, "1.1", Wrap()))  # not answered: ready again
        _step(feed, first, first.status.reserve(AT, "1.1"))  # offered again later: read again
        kinds = [event.kind for event in [await one.next() for _ in range(4)] if event is not None]
    assert kinds == ["state", "ended", "state", "offered"]
    assert dialer.db.asked == [("inbound_facts", "1.1")] * 2
