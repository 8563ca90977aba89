"""`LeanTransport` (sms.providers.lean_transport) against real servers on loopback: no mocks.

The adapters through it against the gateway simulator, with faults; then the transport alone
against tiny asyncio servers written here (raw HTTP/1.1 bytes, so every reply's framing is exactly
what the test says): bodies (Content-Length, chunked, connection-close), keep-alive reuse and its
limits, the pool's bound and queue, TLS, and each failure mapped to the httpx exception that
`httpx.AsyncHTTPTransport` raises for it (both transports are run where they must agree).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from sms.providers import build_provider, provider_transport
from sms.providers.base import OutgoingSms, SendOutcome
from sms.providers.lean_transport import LeanTransport
from tests.support.sms_gateway import SmsGateway, free_port, provider_settings

# the adapters through it, against the gateway simulator


def test_provider_transport_is_a_lean_pool_of_the_accounts_size(sms_gateway: SmsGateway) -> None:
    transport = provider_transport(provider_settings("generic", sms_gateway, max_connections=7))
    assert isinstance(transport, LeanTransport)
    assert "max_connections=7" in repr(transport)


@pytest.mark.parametrize("shape", ["generic", "twilio", "aliyun"])
async def test_mixed_faults_over_one_shared_pool_each_get_their_outcome(
    shape: str, sms_gateway: SmsGateway
) -> None:
    """120 concurrent sends over 8 connections while the gateway fails a third of them in every way
    it can: each outcome must match what the gateway did with that message."""
    sms_gateway.set_faults(
        seed=7, server_error=0.1, slow=0.1, slow_ms=20, drop_after_accept=0.1, garbled=0.05, timeout=0.05,
        hold_ms=800,
    )  # fmt: skip
    settings = provider_settings(shape, sms_gateway, timeout_s=0.4, max_connections=8)
    transport = LeanTransport(max_connections=8)
    provider = build_provider(f"sim-{shape}", settings, transport)
    keys = [f"mix-{shape}-{n}" for n in range(120)]
    try:
        results = await asyncio.gather(
            *(provider.send(OutgoingSms(key=key, to="+8613800138000", body="hi", params={})) for key in keys)
        )
    finally:
        await transport.aclose()
    outcomes = Counter(result.outcome for result in results)
    # held replies keep connections busy for the whole timeout: some sends may find none free in time
    unsent = sum(1 for r in results if r.error and "no free connection" in r.error)
    stats = sms_gateway.stats()
    faults = stats["faults"]
    assert set(outcomes) <= {SendOutcome.ACCEPTED, SendOutcome.RETRY, SendOutcome.UNKNOWN}, results
    assert outcomes[SendOutcome.RETRY] - unsent == faults.get("server_error", 0) > 0
    lost_replies = sum(faults.get(name, 0) for name in ("drop_after_accept", "garbled", "timeout"))
    assert outcomes[SendOutcome.UNKNOWN] == lost_replies > 0
    assert outcomes[SendOutcome.ACCEPTED] + lost_replies == stats["accepted"]
    assert outcomes[SendOutcome.ACCEPTED] + lost_replies + outcomes[SendOutcome.RETRY] == 120
    accepted_ids = {line["id"] for line in sms_gateway.log("accepted")}
    assert {r.provider_message_id for r in results if r.outcome is SendOutcome.ACCEPTED} <= accepted_ids
    if shape != "twilio":  # Twilio takes no key: only the others' log lines say which message it was
        accepted_keys = {line["key"] for line in sms_gateway.log("accepted")}
        for key, result in zip(keys, results, strict=True):
            assert (key in accepted_keys) is (result.outcome is not SendOutcome.RETRY), (key, result)


# tiny servers


@dataclass
class Peer:
    """One connection to a tiny server, as its handler sees it."""

    number: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: TinyServer

    async def request(self) -> bytes | None:
        """The next request's head and body (dechunked), recorded; None at EOF."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])
        }
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                body += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", 0)))
        self.server.requests.append((self.number, lines[0], headers, body))
        return head + body

    def send(self, data: bytes) -> None:
        self.writer.write(data)


Handler = Callable[[Peer], Awaitable[None]]


@dataclass
class TinyServer:
    url: str
    requests: list[tuple[int, str, dict[str, str], bytes]] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    ended: list[int] = field(default_factory=list)  # connections the client closed


def reply(body: bytes = b"ok", *, status: bytes = b"200 OK", headers: bytes = b"") -> bytes:
    return b"HTTP/1.1 %s\r\ncontent-length: %d\r\n%s\r\n%s" % (status, len(body), headers, body)


async def answer_all(peer: Peer) -> None:
    """Keep-alive: answer every request with 200 "ok"."""
    while await peer.request() is not None:
        peer.send(reply())


@asynccontextmanager
async def tiny_server(
    handler: Handler = answer_all, *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"
) -> AsyncIterator[TinyServer]:
    state = TinyServer(url="")

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        state.open_now += 1
        state.most_open = max(state.most_open, state.open_now)
        peer = Peer(state.connections, reader, writer, state)
        try:
            await handler(peer)
            if not writer.is_closing():
                await writer.drain()
                if await reader.read() == b"":  # wait until the client closes
                    state.ended.append(peer.number)
        except (ConnectionError, asyncio.IncompleteReadError):
            state.ended.append(peer.number)
        finally:
            state.open_now -= 1
            writer.close()

    server = await asyncio.start_server(on_connect, host, 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    state.url = f"{'https' if tls else 'http'}://{'localhost' if tls else host}:{port}"
    try:
        yield state
    finally:
        server.close()
        with suppress(Exception):
            server.close_clients()  # type: ignore[attr-defined]  # 3.13+


def request(url: str, *, timeout: float = 2.0, pool: float | None = None, **given: object) -> httpx.Request:
    method = "POST" if "content" in given or "json" in given else "GET"
    limits = httpx.Timeout(timeout, pool=pool if pool is not None else timeout)
    return httpx.Request(method, url, **given, extensions={"timeout": limits.as_dict()})  # type: ignore[arg-type]


async def fetch(transport: httpx.AsyncBaseTransport, req: httpx.Request) -> httpx.Response:
    """As `sms.providers.outcomes.exchange` does it."""
    try:
        response = await transport.handle_async_request(req)
    except httpx.RequestError as exc:
        if isinstance(transport, LeanTransport):  # httpx's own transport leaves that to its client
            assert exc.request is req
        raise
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


def lean(max_connections: int = 4, **given: object) -> LeanTransport:
    return LeanTransport(max_connections=max_connections, **given)  # type: ignore[arg-type]


def httpx_transport(max_connections: int = 4, **given: object) -> httpx.AsyncHTTPTransport:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.AsyncHTTPTransport(limits=limits, trust_env=False, **given)  # type: ignore[arg-type]


BOTH = pytest.mark.parametrize("make", [lean, httpx_transport], ids=["lean", "httpx"])
Make = Callable[..., httpx.AsyncBaseTransport]


# bodies and keep-alive


async def test_keep_alive_reuses_one_connection_and_sends_the_request_as_given() -> None:
    async with tiny_server() as server, lean() as transport:
        for n in range(5):
            response = await fetch(transport, request(f"{server.url}/send?n={n}&x=a%20b", json={"n": n}))
            assert response.status_code == 200 and response.content == b"ok"
            assert response.reason_phrase == "OK" and response.http_version == "HTTP/1.1"
    assert server.connections == 1 and len(server.requests) == 5
    number, line, headers, body = server.requests[3]
    assert (number, line) == (1, "POST /send?n=3&x=a%20b HTTP/1.1")
    assert headers["host"] == server.url.removeprefix("http://")
    assert headers["content-length"] == str(len(body)) and body == b'{"n":3}'


async def test_chunked_reply_body_is_joined() -> None:
    async def chunked(peer: Peer) -> None:
        while await peer.request() is not None:
            peer.send(b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\nx-a: 1\r\n\r\n")
            peer.send(b"5\r\nhello\r\n1\r\n \r\n")
            peer.send(b"5\r\nworld\r\n0\r\n\r\n")

    async with tiny_server(chunked) as server, lean() as transport:
        first = await fetch(transport, request(server.url))
        second = await fetch(transport, request(server.url))
    assert first.status_code == 201 and first.reason_phrase == "Created"
    assert first.content == second.content == b"hello world"
    assert first.headers["x-a"] == "1" and "content-length" not in first.headers
    assert server.connections == 1


async def test_connection_close_reply_is_not_reused() -> None:
    async def once(peer: Peer) -> None:
        await peer.request()
        peer.send(reply(b"bye", headers=b"connection: close\r\n"))
        await peer.writer.drain()
        peer.writer.close()

    async with tiny_server(once) as server, lean() as transport:
        for _ in range(3):
            assert (await fetch(transport, request(server.url))).content == b"bye"
    assert server.connections == 3
    assert [number for number, *_ in server.requests] == [1, 2, 3]


async def test_body_delimited_by_the_servers_close_is_read_whole() -> None:
    async def close_delimited(peer: Peer) -> None:
        await peer.request()
        peer.send(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
        await peer.writer.drain()
        peer.writer.close()

    async with tiny_server(close_delimited) as server, lean() as transport:
        assert (await fetch(transport, request(server.url))).content == b"until the end"
        assert (await fetch(transport, request(server.url))).content == b"until the end"
    assert server.connections == 2


async def test_streamed_request_body_goes_chunked() -> None:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"three"):
            yield part

    async with tiny_server() as server, lean() as transport:
        assert (await fetch(transport, request(server.url, content=parts()))).content == b"ok"
        assert (await fetch(transport, request(server.url))).content == b"ok"
    assert server.requests[0][2]["transfer-encoding"] == "chunked"
    assert server.requests[0][3] == b"one two three"
    assert server.connections == 1


@BOTH
async def test_idle_connection_closed_by_the_server_is_noticed_before_sending(make: Make) -> None:
    """The server closes each connection after one reply, without saying so. The next request must
    go on a new connection: had it been written to the closed one, it would fail (no retry)."""

    async def one_then_close(peer: Peer) -> None:
        await peer.request()
        peer.send(reply())
        await peer.writer.drain()
        peer.writer.close()

    async with tiny_server(one_then_close) as server, make(max_connections=1) as transport:
        for _ in range(3):
            await fetch(transport, request(server.url))
            await asyncio.sleep(0.05)  # the FIN arrives while the connection is idle in the pool
    assert server.connections == 3 and len(server.requests) == 3


async def test_idle_connection_the_server_wrote_to_is_not_reused() -> None:
    async def answer_then_babble(peer: Peer) -> None:
        await peer.request()
        peer.send(reply() + b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n")
        await answer_all(peer)

    async with tiny_server(answer_then_babble) as server, lean(max_connections=1) as transport:
        assert (await fetch(transport, request(server.url))).status_code == 200
        await asyncio.sleep(0.05)
        assert (await fetch(transport, request(server.url))).status_code == 200  # not the stray 408
    assert server.connections == 2


async def test_connection_idle_past_the_keepalive_expiry_is_replaced() -> None:
    async with tiny_server() as server, lean(keepalive_expiry=0.1) as transport:
        await fetch(transport, request(server.url))
        await fetch(transport, request(server.url))
        await asyncio.sleep(0.15)
        await fetch(transport, request(server.url))
        await asyncio.sleep(0.05)
    assert [number for number, *_ in server.requests] == [1, 1, 2]
    assert 1 in server.ended  # the expired one was closed, not leaked


async def test_200_concurrent_requests_share_at_most_4_connections() -> None:
    async def slowish(peer: Peer) -> None:
        while await peer.request() is not None:
            await asyncio.sleep(0.001)
            peer.send(reply())

    async with tiny_server(slowish) as server, lean(max_connections=4) as transport:
        responses = await asyncio.gather(
            *(fetch(transport, request(f"{server.url}/?n={n}", pool=10.0)) for n in range(200))
        )
    assert all(r.status_code == 200 for r in responses)
    assert len(server.requests) == 200
    assert server.connections <= 4 and server.most_open <= 4


# failures, as httpx.AsyncHTTPTransport raises them


async def never_answer(peer: Peer) -> None:
    await peer.request()
    await peer.reader.read()


@BOTH
async def test_reply_never_coming_is_a_read_timeout(make: Make) -> None:
    async with tiny_server(never_answer) as server, make() as transport:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await fetch(transport, request(server.url, timeout=0.2))
    assert 0.15 < time.monotonic() - started < 1.5


@BOTH
async def test_nothing_listening_is_a_connect_error(make: Make) -> None:
    async with make() as transport:
        with pytest.raises(httpx.ConnectError):
            await fetch(transport, request(f"http://127.0.0.1:{free_port()}/send"))


@BOTH
async def test_unknown_host_is_a_connect_error(make: Make) -> None:
    async with make() as transport:
        with pytest.raises(httpx.ConnectError):
            await fetch(transport, request("http://no-such-host.invalid/"))


@BOTH
async def test_connecting_too_slowly_is_a_connect_timeout(make: Make) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)  # never accepted: once its queue is full, new SYNs are dropped
    fillers = [socket.socket() for _ in range(3)]
    try:
        for filler in fillers:
            filler.setblocking(False)
            with suppress(BlockingIOError):
                filler.connect(listener.getsockname())
        await asyncio.sleep(0.05)
        async with make() as transport:
            started = time.monotonic()
            with pytest.raises(httpx.ConnectTimeout):
                await fetch(transport, request(f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.2))
            assert time.monotonic() - started < 1.5
    finally:
        for sock in [*fillers, listener]:
            sock.close()


@BOTH
async def test_request_the_server_does_not_read_is_a_write_timeout(make: Make) -> None:
    async def deaf(peer: Peer) -> None:
        await asyncio.sleep(3)

    async with tiny_server(deaf) as server, make() as transport:
        started = time.monotonic()
        with pytest.raises(httpx.WriteTimeout):
            await fetch(transport, request(server.url, timeout=0.2, content=b"x" * 32_000_000))
        assert time.monotonic() - started < 2.0


@BOTH
async def test_no_free_connection_in_time_is_a_pool_timeout(make: Make) -> None:
    release = asyncio.Event()

    async def held(peer: Peer) -> None:
        while await peer.request() is not None:
            await release.wait()
            peer.send(reply())

    async with tiny_server(held) as server, make(max_connections=1) as transport:
        busy = asyncio.create_task(fetch(transport, request(server.url, timeout=5.0)))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(httpx.PoolTimeout):
            await fetch(transport, request(server.url, timeout=5.0, pool=0.2))
        assert 0.15 < time.monotonic() - started < 1.0
        release.set()
        assert (await busy).status_code == 200
        assert (await fetch(transport, request(server.url))).status_code == 200  # the queue let go
    assert server.connections == 1


@BOTH
async def test_kept_alive_connection_closed_before_the_reply_is_a_protocol_error_not_a_resend(
    make: Make,
) -> None:
    async def answer_one_drop_next(peer: Peer) -> None:
        await peer.request()
        peer.send(reply())
        await peer.request()
        peer.writer.close()  # accepted it, perhaps; the client cannot know

    async with tiny_server(answer_one_drop_next) as server, make(max_connections=1) as transport:
        await fetch(transport, request(server.url))
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await fetch(transport, request(server.url, json={"sms": 2}))
        await fetch(transport, request(server.url))  # a new connection
    assert [number for number, *_ in server.requests] == [1, 1, 2]  # the second was sent once


@BOTH
async def test_reset_before_the_reply_is_a_read_error(make: Make) -> None:
    async def reset(peer: Peer) -> None:
        await peer.request()
        sock = peer.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.writer.transport.abort()

    async with tiny_server(reset) as server, make() as transport:
        with pytest.raises(httpx.ReadError):
            await fetch(transport, request(server.url))


@BOTH
@pytest.mark.parametrize(
    "wire",
    [
        reply(b"0123456789")[:-4],  # closed inside the body
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",  # inside a chunk
        b"HTTP/1.1 200 OK\r\ncontent-le",  # inside the head
        b"SMTP ready\r\n\r\n",  # not HTTP
        b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",  # bad framing
    ],
    ids=["body", "chunk", "head", "not-http", "bad-length"],
)
async def test_broken_reply_is_a_remote_protocol_error(make: Make, wire: bytes) -> None:
    async def broken(peer: Peer) -> None:
        await peer.request()
        peer.send(wire)
        await peer.writer.drain()
        peer.writer.close()

    async with tiny_server(broken) as server, make() as transport:
        with pytest.raises(httpx.RemoteProtocolError):
            await fetch(transport, request(server.url))


@BOTH
async def test_request_h11_refuses_is_a_local_protocol_error_and_other_schemes_unsupported(
    make: Make,
) -> None:
    async with tiny_server() as server, make() as transport:
        bad = request(server.url)
        bad.headers["x-bad"] = "a\nb"
        with pytest.raises(httpx.LocalProtocolError):
            await fetch(transport, bad)
        with pytest.raises(httpx.UnsupportedProtocol):
            await fetch(transport, request("ftp://127.0.0.1/"))
        assert (await fetch(transport, request(server.url))).status_code == 200


async def test_cancelled_request_closes_its_connection_and_frees_its_slot() -> None:
    async def first_held(peer: Peer) -> None:
        if peer.number == 1:
            await never_answer(peer)
        else:
            await answer_all(peer)

    async with tiny_server(first_held) as server, lean(max_connections=1) as transport:
        task = asyncio.create_task(fetch(transport, request(server.url, timeout=10.0)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await fetch(transport, request(server.url, pool=0.5))).status_code == 200
        await asyncio.sleep(0.05)
    assert server.connections == 2 and 1 in server.ended


async def test_waiter_cancelled_in_the_queue_does_not_lose_the_connection() -> None:
    release = asyncio.Event()

    async def held(peer: Peer) -> None:
        while await peer.request() is not None:
            await release.wait()
            peer.send(reply())

    async with tiny_server(held) as server, lean(max_connections=1) as transport:
        busy = asyncio.create_task(fetch(transport, request(server.url)))
        queued = [asyncio.create_task(fetch(transport, request(server.url))) for _ in range(3)]
        await asyncio.sleep(0.05)
        queued[0].cancel()
        release.set()
        await busy
        with pytest.raises(asyncio.CancelledError):
            await queued[0]
        assert [(await task).status_code for task in queued[1:]] == [200, 200]
    assert server.connections == 1 and len(server.requests) == 3


async def test_aclose_closes_idle_connections_and_refuses_later_requests() -> None:
    async with tiny_server() as server:
        transport = lean()
        await asyncio.gather(*(fetch(transport, request(server.url)) for _ in range(3)))
        await transport.aclose()
        await asyncio.sleep(0.05)
        assert sorted(server.ended) == list(range(1, server.connections + 1))
        with pytest.raises(RuntimeError):
            await fetch(transport, request(server.url))


# TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for localhost (openssl), and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    yield cert, key


async def test_https_with_a_given_context_keeps_alive_and_sends_sni(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    names: list[str | None] = []
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    def note_sni(_sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        names.append(name)

    server_context.sni_callback = note_sni
    client_context = ssl.create_default_context(cafile=str(cert))
    async with tiny_server(tls=server_context) as server, lean(ssl_context=client_context) as transport:
        for _ in range(3):
            response = await fetch(transport, request(f"{server.url}/send", json={"to": "+1"}))
            assert response.status_code == 200 and response.content == b"ok"
    assert server.connections == 1 and names == ["localhost"]


@BOTH
async def test_https_to_an_unknown_certificate_is_a_connect_error(
    make: Make, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    async with tiny_server(tls=server_context) as server, make() as transport:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await fetch(transport, request(server.url))
