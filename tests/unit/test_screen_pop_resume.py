"""A desktop coming back to its agent's screen pops (AGT-3): the feed follows the agent while its
reader is away, and `GET /agents/NAME/events` with `Last-Event-ID` resumes the stream. On a
stand-in dialer (an agent desk, no inbound call, a database thread answering the outbound facts);
the control API's app is called in process through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import httpx

from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import AgentStatus, AgentStep, Wrap
from dialer.live.desk import AgentDesk, AgentSession
from dialer.live.screen_feed import ScreenFeed
from dialer.live.screen_pop import KEPT, STATE, ScreenPops
from dialer.live.service import LiveDialer
from web.api import create_app

TOKEN = "s3cret-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


class FakeDb:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def run(self, work: Callable[..., Any], database: Any, call: str) -> dict[str, Any]:
        self.asked.append(call)
        return {"campaign": "spring"}


def _dialer() -> tuple[SimpleNamespace, AgentSession]:
    inbound = SimpleNamespace(follows=lambda uniqueid: False)
    dialer = SimpleNamespace(desk=AgentDesk(), inbound=inbound, db=FakeDb(), database=None)
    dialer.screen = ScreenFeed(cast(LiveDialer, dialer))
    session = AgentSession(7, "bot1", 1, AgentStatus(7, AgentState.READY, AT), Wrap())
    dialer.desk.sessions[7] = session
    return dialer, session


def _step(dialer: SimpleNamespace, session: AgentSession, step: AgentStep) -> None:
    before = session.status
    change = dialer.desk.apply(session, step)
    assert change is not None
    dialer.screen.stepped(session, before, change)


async def test_a_logged_in_agent_stays_followed_while_its_reader_is_away_then_forgotten_at_logout() -> None:
    dialer, session = _dialer()
    feed: ScreenFeed = dialer.screen
    with feed.reader("bot1") as first:
        _step(dialer, session, session.status.pause(AT, "break"))
        had = await asyncio.wait_for(first.next(), 1)
    assert had is not None and had.seq == 1
    _step(dialer, session, session.status.ready(AT))
    _step(dialer, session, session.status.reserve(AT, "rc-1"))  # nobody reads: followed all the same
    with feed.reader("bot1", last_event_id="1") as back:
        missed = [await asyncio.wait_for(back.next(), 1) for _ in range(3)]
    assert dialer.db.asked == ["rc-1"]
    assert [(e.seq, e.kind, e.data.get("state")) for e in missed if e is not None] == [
        (2, STATE, "ready"),
        (3, "offered", None),
        (4, STATE, "reserved"),
    ]
    _step(dialer, session, session.status.hangup(AT, "rc-1", Wrap()))
    _step(dialer, session, session.status.logout(AT))
    assert not feed.pops.followed("bot1"), "logged out, nobody reads"
    session.status = AgentStatus(7, AgentState.READY, AT)  # logged in again
    _step(dialer, session, session.status.reserve(AT, "rc-2"))
    await asyncio.sleep(0)
    assert dialer.db.asked == ["rc-1"], "nothing looked up for an agent nobody follows"


def test_the_last_reader_leaving_a_logged_out_agent_forgets_it() -> None:
    dialer, session = _dialer()
    feed: ScreenFeed = dialer.screen
    with feed.reader("bot1"):
        _step(dialer, session, session.status.logout(AT))
        assert feed.pops.followed("bot1"), "somebody reads"
    assert not feed.pops.followed("bot1")


def _app() -> tuple[Any, ScreenPops]:
    dialer, _ = _dialer()
    return create_app(cast(LiveDialer, dialer), TOKEN), dialer.screen.pops


async def _stream(app: Any, pops: ScreenPops, last_event_id: str | None, *live: int) -> list[str]:
    """The events of one stream, as sent: the client comes back with `last_event_id`, `live`
    events are published once it reads, then the engine stops."""
    headers = HEADERS | ({"Last-Event-ID": last_event_id} if last_event_id is not None else {})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as client:
        streaming = asyncio.create_task(client.get("/agents/bot1/events", headers=headers))
        await asyncio.wait_for(_subscribed(pops), 5)
        for n in live:
            pops.publish("bot1", STATE, AT, {"n": n})
            await asyncio.sleep(0)  # the stream may be sending its replay meanwhile
        pops.close()
        response = await asyncio.wait_for(streaming, 5)
    assert response.status_code == 200
    return response.text.strip().split("\n\n")


async def _subscribed(pops: ScreenPops) -> None:
    while not pops.watched("bot1"):
        await asyncio.sleep(0.001)


def _had(pops: ScreenPops, *numbers: int) -> None:
    """A first stream read these events, then its connection dropped."""
    with pops.subscribe("bot1"):
        for n in numbers:
            pops.publish("bot1", STATE, AT, {"n": n})


def _ids_and_numbers(events: list[str]) -> list[tuple[str, int]]:
    """(id, the event's n) of each numbered event sent."""
    pairs = []
    for event in events:
        fields = dict(line.split(": ", 1) for line in event.splitlines())
        if "id" in fields:
            pairs.append((fields["id"], json.loads(fields["data"])["n"]))
    return pairs


async def test_a_client_coming_back_gets_the_events_after_its_last_then_the_live_ones() -> None:
    app, pops = _app()
    _had(pops, 1, 2, 3, 4)
    events = await _stream(app, pops, "2", 5, 6)
    assert events[0].startswith("event: state\ndata: "), "a replayed event first, no state now"
    assert _ids_and_numbers(events) == [("3", 3), ("4", 4), ("5", 5), ("6", 6)]
    assert len(events) == 4


async def test_a_client_back_after_events_no_longer_kept_gets_its_state_now_and_missed() -> None:
    app, pops = _app()
    _had(pops, *range(1, KEPT + 3))
    now, missed, *rest = await _stream(app, pops, "1", KEPT + 3)
    assert now.startswith("event: state\n") and "id:" not in now
    assert '"state": "ready"' in now
    assert missed.startswith('event: missed\ndata: {"type": "missed", "agent": "bot1", "at": ')
    assert missed.endswith('"after": "1"}') and "id:" not in missed
    assert _ids_and_numbers(rest) == [(str(KEPT + 3), KEPT + 3)]


async def test_a_client_with_an_id_no_event_has_yet_or_no_id_at_all_has_missed_events() -> None:
    for strange in ("9", "x"):
        app, pops = _app()
        _had(pops, 1, 2)
        events = await _stream(app, pops, strange)
        assert [event.split("\n", 1)[0] for event in events] == ["event: state", "event: missed"]


async def test_a_fresh_client_gets_its_state_now_and_nothing_kept() -> None:
    app, pops = _app()
    _had(pops, 1, 2)
    now, live = await _stream(app, pops, None, 3)
    assert now.startswith("event: state\n") and '"state": "ready"' in now
    assert _ids_and_numbers([live]) == [("3", 3)]
