"""The control API's HTTP server (`dialer.engine.api_server`) on a loopback port: an idle keep-alive
connection stays open past the 5 s that httpx (and uvicorn by default) allow, so a client never
sends on a connection the server is closing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from dialer.asterisk.ports import free_tcp_port
from dialer.engine import api_server

IDLE_S = 6.0  # longer than httpx's keep-alive expiry and uvicorn's default keep-alive timeout
REQUEST = b"GET /ping HTTP/1.1\r\nHost: api\r\n\r\n"


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, bool]:
        return {"pong": True}

    port = free_tcp_port()
    server = api_server(app, "127.0.0.1", port)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the server did not start"
        await asyncio.sleep(0.01)
    yield port
    server.should_exit = True
    await serving


async def _response(reader: asyncio.StreamReader) -> bytes:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return head.split(b"\r\n")[0] + b" " + await reader.readexactly(length)


async def test_an_idle_connection_outlives_the_clients_keep_alive(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(REQUEST)
        assert await _response(reader) == b'HTTP/1.1 200 OK {"pong":true}'
        await asyncio.sleep(IDLE_S)
        writer.write(REQUEST)  # the same connection, as a pooled client reuses it
        assert await _response(reader) == b'HTTP/1.1 200 OK {"pong":true}'
    finally:
        writer.close()
