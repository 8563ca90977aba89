"""A lean HTTP/1.1 server on asyncio + httptools: just what the gateway simulator needs.

Why not uvicorn + starlette: the simulator must be able to *drop* a connection after it accepted a
message (close the socket with no reply at all) and to hold a reply past the client's timeout;
ASGI gives the application no handle on the socket (uvicorn answers 500 when the app fails before
replying), and the framework layers cost about half of the throughput. Parsing is httptools (the
parser uvicorn uses); everything else is ~150 lines: keep-alive, pipelined requests answered in
order, one task per connection.

A handler takes a `Request` and returns a `Response`, or `DROP` to close the connection unanswered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qsl

import httptools

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Final = Drop()

Handler = Callable[[Request], Awaitable[Response | Drop]]
_MAX_QUEUED = 64  # pipelined requests read ahead before reading pauses


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def encode_response(response: Response, keep_alive: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {response.status} {_reason(response.status)}",
        f"content-type: {response.content_type}",
        f"content-length: {len(response.body)}",
    ]
    lines.extend(f"{name}: {value}" for name, value in response.headers.items())
    if not keep_alive:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


class HttpConnection(asyncio.Protocol):
    """One client connection: parses requests and answers them one after another."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._pending: deque[tuple[Request, bool]] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._method = ""

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._pending.clear()
        if self._worker is not None:
            self._worker.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.write(encode_response(Response(400, b'{"error":"bad request"}'), False))
                self._transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._method = self._parser.get_method().decode("ascii")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        parsed = httptools.parse_url(self._url)
        query = dict(parse_qsl(parsed.query.decode("utf-8"), keep_blank_values=True)) if parsed.query else {}
        request = Request(
            self._method, parsed.path.decode("utf-8"), query, self._headers, b"".join(self._body)
        )
        self._pending.append((request, self._parser.should_keep_alive()))
        if len(self._pending) > _MAX_QUEUED and self._transport is not None:
            self._transport.pause_reading()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._answer_pending())

    async def _answer_pending(self) -> None:
        while self._pending and self._transport is not None:
            request, keep_alive = self._pending.popleft()
            try:
                outcome = await self._handler(request)
            except Exception:
                log.exception("handler failed on %s %s", request.method, request.path)
                outcome = Response(500, b'{"error":"internal error"}')
            transport = self._transport
            if transport is None:
                return
            if isinstance(outcome, Drop):
                transport.close()
                return
            transport.write(encode_response(outcome, keep_alive))
            if not keep_alive:
                transport.close()
                return
            if len(self._pending) <= _MAX_QUEUED:
                with contextlib.suppress(RuntimeError):
                    transport.resume_reading()


async def serve(handler: Handler, host: str, port: int) -> asyncio.Server:
    """Listen on host:port (0: any free port) and answer with `handler`."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: HttpConnection(handler), host, port, reuse_address=True)
