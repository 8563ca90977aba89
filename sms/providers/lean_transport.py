"""`LeanTransport`: the HTTP/1.1 keep-alive connection pool one provider account sends through.

It owns the account's connections: opening them (TCP, TLS with SNI), keeping them alive between
sends, noticing the ones the server closed, bounding how many are open (`max_connections`, the
account's concurrency) and queueing the sends that wait for one. It is an
`httpx.AsyncBaseTransport`, so the adapters still build `httpx.Request`s and read
`httpx.Response`s, and failures come out as the httpx exceptions `exchange()` maps to outcomes.

Why not `httpx.AsyncHTTPTransport`: httpcore's pool spends far more CPU per request than the
HTTP work itself (anyio locks and cancel scopes; at every request a poll of every pooled
connection's socket to see whether it is readable; passes over every connection and every waiting
request, encode/httpx#3215): profiled, it capped the sender near 1,250 messages/s on the 2-core
build machine. Measured there against the gateway simulator on loopback, 32 concurrent senders, the
generic adapter's request (POST JSON, bearer token, Idempotency-Key), 5 s runs:

    transport                         one pool of 32          8 pools of 4
    httpx.AsyncHTTPTransport          480-590 req/s, 1.8 ms   2,200-2,400 req/s, 0.41 ms
    LeanTransport                     5,000-5,400, 0.18 ms    4,000-5,400, 0.18 ms
    (client CPU per request after the comma; with 10 % faults, 2 % of replies held past a
    0.5 s timeout: httpx 1,040 and 1,970 req/s, LeanTransport 2,800 either way, near the
    3,200/s that the held replies alone allow 32 connections)

What is left: plain asyncio streams, and h11 (httpcore's own HTTP/1.1 engine) for the protocol:
framing, Content-Length, chunked and close-delimited bodies, keep-alive rules. A connection is
reused only when h11 says both sides finished cleanly; one that failed or was cancelled
mid-request is aborted, never pooled. A request is never re-sent here, not even on a kept-alive
connection the server closed before answering: an SMS resent blindly may go out twice; the
caller decides (`RemoteProtocolError` -> `UNKNOWN`). Whether an idle connection is still usable
is known without a syscall: its reader records any byte, EOF or error that arrived while idle.
Request head and body go out in one write. The reply is read whole before it is returned, as an
`httpx.ByteStream` that `aread()` decodes (Content-Encoding), as from httpx's own transport. As in
httpcore, a failed write is not reported by itself: the reply (or its absence) is read instead,
since a server may answer early and close.

Errors, mapped as httpcore/httpx map them (every one carries `request=`): connect refused,
unreachable, DNS or TLS failure -> `ConnectError`; connect (incl. TLS handshake) too slow ->
`ConnectTimeout`; no free connection within the `pool` timeout -> `PoolTimeout`; no byte within
the `read` timeout -> `ReadTimeout`; request not written within `write` -> `WriteTimeout`; the
peer closing before a whole reply, or an h11 parse error -> `RemoteProtocolError`; a reset or
other socket error while reading -> `ReadError`; a request h11 refuses -> `LocalProtocolError`;
a scheme other than http(s) -> `UnsupportedProtocol`. Timeouts come from the request's
`extensions["timeout"]` (`httpx.Timeout.as_dict()`; None or absent: no limit); read and write
ones apply per socket operation, as in httpcore.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, Final, SupportsIndex, cast

import certifi
import h11
import httpx

__all__ = ["LeanTransport"]

_READ_SIZE: Final = 64 * 1024  # as httpcore
_MAX_INCOMPLETE_EVENT_SIZE: Final = 100 * 1024  # as httpcore: the largest response head accepted
_DEFAULT_PORT: Final = {"http": 80, "https": 443}
_Key = tuple[str, str, int]  # (scheme, host, port)


class _Reader(asyncio.StreamReader):
    """A stream reader that counts the bytes nobody has read yet and remembers an EOF or error,
    so that an idle pooled connection the peer closed (or wrote to) is seen without a syscall."""

    def __init__(self) -> None:
        super().__init__(limit=_READ_SIZE)
        self.unread = 0
        self.ended = False

    def feed_data(self, data: Iterable[SupportsIndex]) -> None:
        self.unread += len(cast(bytes, data))
        super().feed_data(data)

    def feed_eof(self) -> None:
        self.ended = True
        super().feed_eof()

    def set_exception(self, exc: Exception) -> None:
        self.ended = True
        super().set_exception(exc)


class _Connection:
    """One open connection: its stream, its h11 state, and since when it has been idle."""

    __slots__ = ("closed", "h11", "idle_since", "key", "reader", "writer")

    def __init__(self, key: _Key, reader: _Reader, writer: asyncio.StreamWriter) -> None:
        self.key = key
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_INCOMPLETE_EVENT_SIZE)
        self.idle_since = 0.0
        self.closed = False

    def alive(self) -> bool:
        """Nothing arrived since the last reply (no byte, no EOF, no error) and it is not closing."""
        reader = self.reader
        return not reader.ended and not reader.unread and not self.writer.is_closing()

    async def read(self, timeout: float | None) -> bytes:
        reader = self.reader
        if reader.unread or timeout is None:  # already buffered: no timer needed
            data = await reader.read(_READ_SIZE)
        else:
            async with asyncio.timeout(timeout):
                data = await reader.read(_READ_SIZE)
        reader.unread -= len(data)
        return data

    def close(self, abort: bool) -> None:
        """Close the socket: `abort` drops unsent data at once (a broken or cancelled exchange)."""
        if self.closed:
            return
        self.closed = True
        if abort:
            self.writer.transport.abort()
        else:
            self.writer.close()


class LeanTransport(httpx.AsyncBaseTransport):
    """An HTTP/1.1 keep-alive pool of at most `max_connections` (all origins together); idle
    connections are dropped after `keepalive_expiry` seconds. `ssl_context` verifies https
    servers (default: the certifi CA bundle httpx trusts, made on the first https request)."""

    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_expiry: float = 4.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._idle: dict[_Key, deque[_Connection]] = {}  # oldest first
        self._idle_count = 0
        self._slots = 0  # connections open or being opened
        self._connections: set[_Connection] = set()
        self._waiters: deque[tuple[_Key, asyncio.Future[_Connection | None]]] = deque()
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"LeanTransport(max_connections={self._max_connections}, open={self._slots}, "
            f"idle={self._idle_count}, closed={self._closed})"
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORT:
            message = (
                f"Request URL has an unsupported protocol '{scheme}://'."
                if scheme
                else "Request URL is missing an 'http://' or 'https://' protocol."
            )
            raise httpx.UnsupportedProtocol(message, request=request)
        key = (scheme, url.raw_host.decode("ascii"), url.port or _DEFAULT_PORT[scheme])
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})

        connection = await self._acquire(key, timeouts.get("pool"), request)
        if connection is None:  # a free slot: open a connection in it
            try:
                connection = await self._connect(key, timeouts.get("connect"), request)
            except BaseException:
                self._free_slot()
                raise
        try:
            status, http_version, reason, headers, body = await self._exchange(connection, request, timeouts)
        except BaseException:
            self._drop(connection, abort=True)
            raise
        state = connection.h11
        if state.our_state is h11.DONE and state.their_state is h11.DONE and not state.trailing_data[0]:
            state.start_next_cycle()
            self._release(connection)
        else:
            self._drop(connection, abort=False)
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(body),
            request=request,
            extensions={"http_version": http_version, "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        """Close every connection, idle or busy (a busy request then fails); later requests raise
        `RuntimeError`."""
        if self._closed:
            return
        self._closed = True
        for connection in self._connections:
            connection.close(abort=False)
        self._connections.clear()
        self._idle.clear()
        self._idle_count = 0
        self._slots = 0
        while self._waiters:
            _key, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the transport is closed"))
        await asyncio.sleep(0)  # let the transports' close callbacks run

    # the pool

    async def _acquire(self, key: _Key, timeout: float | None, request: httpx.Request) -> _Connection | None:
        """An idle live connection to `key`, or None: a slot taken, to open one in."""
        idle = self._idle.get(key)
        if idle:
            now = time.monotonic()
            while idle:
                connection = idle.pop()  # the most recently used
                self._idle_count -= 1
                if now - connection.idle_since >= self._keepalive_expiry:
                    self._drop(connection, abort=False)
                    while idle:  # all older: expired too
                        self._idle_count -= 1
                        self._drop(idle.popleft(), abort=False)
                elif connection.alive():
                    while idle and now - idle[0].idle_since >= self._keepalive_expiry:
                        self._idle_count -= 1  # the oldest, unused for too long: let them go
                        self._drop(idle.popleft(), abort=False)
                    return connection
                else:
                    self._drop(connection, abort=False)
        if self._slots < self._max_connections:
            self._slots += 1
            return None
        if self._idle_count:  # full, but of idle connections to other origins: close the oldest one
            for other in self._idle.values():
                if other:
                    self._idle_count -= 1
                    self._forget(other.popleft(), abort=False)  # its slot is ours
                    return None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[_Connection | None] = loop.create_future()
        self._waiters.append((key, waiter))
        try:
            async with asyncio.timeout(timeout):
                given = await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._pass_on(waiter.result())  # handed over just as we gave up: not ours to keep
            else:
                waiter.cancel()  # skipped when its turn comes
            if isinstance(exc, TimeoutError):
                raise httpx.PoolTimeout(
                    "no free connection within the pool timeout", request=request
                ) from None
            raise
        if given is not None and not given.alive():  # closed by the peer while handed over
            self._forget(given, abort=False)
            return None
        return given

    def _release(self, connection: _Connection) -> None:
        """A connection that finished an exchange cleanly: to the first waiter, else idle."""
        if self._closed:
            connection.close(abort=False)
            return
        waiters = self._waiters
        while waiters:
            key, waiter = waiters.popleft()
            if waiter.done():
                continue
            if key == connection.key:
                waiter.set_result(connection)
            else:  # another origin: close it and pass its slot on
                self._forget(connection, abort=False)
                waiter.set_result(None)
            return
        connection.idle_since = time.monotonic()
        self._idle.setdefault(connection.key, deque()).append(connection)
        self._idle_count += 1

    def _pass_on(self, given: _Connection | None) -> None:
        if given is None:
            self._free_slot()
        else:
            self._release(given)

    def _free_slot(self) -> None:
        """A slot no longer used: to the first waiter (it opens a connection), else free."""
        if self._closed:
            return
        waiters = self._waiters
        while waiters:
            _key, waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._slots -= 1

    def _forget(self, connection: _Connection, abort: bool) -> None:
        """Close a connection, keeping its slot."""
        connection.close(abort)
        self._connections.discard(connection)

    def _drop(self, connection: _Connection, abort: bool) -> None:
        """Close a connection and free its slot."""
        if connection.closed and connection not in self._connections:
            return  # closed by aclose()
        self._forget(connection, abort)
        self._free_slot()

    # one connection

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            context = ssl.create_default_context(cafile=certifi.where())  # httpx's own CA bundle
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return self._ssl_context

    async def _connect(self, key: _Key, timeout: float | None, request: httpx.Request) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        reader = _Reader()
        protocol = asyncio.StreamReaderProtocol(reader)
        tls = self._tls() if scheme == "https" else None
        sni = request.extensions.get("sni_hostname", host) if tls is not None else None
        try:
            async with asyncio.timeout(timeout):
                transport, _ = await loop.create_connection(
                    lambda: protocol, host, port, ssl=tls, server_hostname=sni, happy_eyeballs_delay=0.25
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "timed out connecting", request=request) from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        connection = _Connection(key, reader, asyncio.StreamWriter(transport, protocol, reader, loop))
        if self._closed:
            connection.close(abort=True)
            raise RuntimeError("the transport is closed")
        self._connections.add(connection)
        return connection

    async def _exchange(
        self, connection: _Connection, request: httpx.Request, timeouts: dict[str, Any]
    ) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]], bytes]:
        """Write the request, read the whole reply: (status, HTTP version, reason, headers, body)."""
        state = connection.h11
        try:
            head = h11.Request(
                method=request.method, target=request.url.raw_path, headers=request.headers.raw
            )
            data = state.send(head) or b""
            try:
                content: bytes | None = request.content
            except httpx.RequestNotRead:
                content = None
            if content is not None:
                if content:
                    data += state.send(h11.Data(data=content)) or b""
                data += state.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from exc
        write_timeout = timeouts.get("write")
        try:
            await self._write(connection, data, write_timeout, request)
            if content is None:  # a streamed body
                stream = request.stream
                assert isinstance(stream, httpx.AsyncByteStream)
                async for chunk in stream:
                    try:
                        data = state.send(h11.Data(data=chunk)) or b""
                    except h11.LocalProtocolError as exc:
                        raise httpx.LocalProtocolError(str(exc), request=request) from exc
                    await self._write(connection, data, write_timeout, request)
                try:
                    data = state.send(h11.EndOfMessage()) or b""
                except h11.LocalProtocolError as exc:
                    raise httpx.LocalProtocolError(str(exc), request=request) from exc
                await self._write(connection, data, write_timeout, request)
        except httpx.WriteError:
            pass  # as httpcore: the server may have answered (and closed) early; read what it sent

        read_timeout = timeouts.get("read")
        while True:
            event = await self._next_event(connection, read_timeout, request)
            if isinstance(event, h11.Response):
                break  # (an InformationalResponse, 1xx, is skipped)
        parts: list[bytes] = []
        while True:
            body_event = await self._next_event(connection, read_timeout, request)
            if isinstance(body_event, h11.Data):
                parts.append(body_event.data)
            elif isinstance(body_event, h11.EndOfMessage):
                break
        version = b"HTTP/" + event.http_version
        return event.status_code, version, event.reason, event.headers.raw_items(), b"".join(parts)

    @staticmethod
    async def _write(
        connection: _Connection, data: bytes, timeout: float | None, request: httpx.Request
    ) -> None:
        writer = connection.writer
        writer.write(data)
        if not writer.transport.get_write_buffer_size():
            return  # all of it went to the socket at once
        try:
            async with asyncio.timeout(timeout):
                await writer.drain()
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc) or "timed out writing the request", request=request) from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc

    @staticmethod
    async def _next_event(
        connection: _Connection, timeout: float | None, request: httpx.Request
    ) -> h11.Event:
        state = connection.h11
        while True:
            try:
                event = state.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from exc
            if event is not h11.NEED_DATA:
                if event is h11.PAUSED:  # cannot happen before the reply's end; keep h11's promise explicit
                    raise httpx.RemoteProtocolError("unexpected pause in the reply", request=request)
                return cast(h11.Event, event)
            try:
                data = await connection.read(timeout)
            except TimeoutError as exc:
                raise httpx.ReadTimeout(
                    str(exc) or "timed out waiting for the reply", request=request
                ) from exc
            except OSError as exc:  # reset, broken pipe
                raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
            if not data and state.their_state is h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )
            state.receive_data(data)
