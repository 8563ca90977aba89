"""`GET /agents/NAME/events` (AGT-3) off the engine: the control API's app on a stand-in dialer that
has only an agent desk and the screen feed; the app is called in process (httpx's ASGI transport,
or by hand to see a client go away)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import httpx

from dialer.live.desk import AgentDesk
from dialer.live.screen_feed import ScreenFeed
from dialer.live.screen_pop import OFFERED, STATE, ScreenPops
from dialer.live.service import LiveDialer
from web.api import create_app

TOKEN = "s3cret-token"
AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


def _app_and_pops() -> tuple[Any, ScreenPops]:
    dialer = SimpleNamespace(desk=AgentDesk())
    dialer.screen = ScreenFeed(cast(LiveDialer, dialer))
    return create_app(cast(LiveDialer, dialer), TOKEN), dialer.screen.pops


async def _subscribed(pops: ScreenPops, agent: str) -> None:
    while not pops.watched(agent):
        await asyncio.sleep(0.001)


async def test_the_stream_needs_the_token() -> None:
    app, _ = _app_and_pops()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as client:
        response = await client.get("/agents/bot1/events")
    assert response.status_code == 401


async def test_the_stream_says_the_agents_state_then_each_event_until_the_engine_stops() -> None:
    app, pops = _app_and_pops()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as client:
        streaming = asyncio.create_task(client.get("/agents/bot1/events", headers=headers))
        await _subscribed(pops, "bot1")
        pops.publish("bot1", OFFERED, AT, {"call": "1.1", "customer": {}, "known": False})
        pops.publish("bot1", STATE, AT, {"state": "reserved"})
        pops.close()  # the engine stops: the stream ends
        response = await streaming
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    now, offered, reserved = response.text.strip().split("\n\n")
    assert now.startswith('event: state\ndata: {"type": "state", "agent": "bot1", "at": ')
    assert now.endswith('"state": "logged_out", "reason": null, "since": null, "call": null}')
    assert offered == (
        "event: offered\n"
        'data: {"type": "offered", "agent": "bot1", "at": "2025-03-03T09:30:00+00:00", "call": "1.1",'
        ' "customer": {}, "known": false}\n'
        "id: 1"
    )
    assert reserved.startswith("event: state\n") and reserved.endswith("id: 2")
    assert TOKEN not in response.text


async def test_the_stream_ends_and_its_reader_goes_when_the_client_disconnects() -> None:
    app, pops = _app_and_pops()
    requested, gone = asyncio.Event(), asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not requested.is_set():
            requested.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/agents/bot1/events",
        "raw_path": b"/agents/bot1/events",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", f"Bearer {TOKEN}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    serving = asyncio.create_task(app(scope, receive, send))
    await _subscribed(pops, "bot1")
    gone.set()
    await asyncio.wait_for(serving, 5)
    assert not pops.watched("bot1")
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
