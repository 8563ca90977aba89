"""The FastAGI server: Asterisk's `AGI(agi://host:port/ROUTE)` lands here and runs the route's handler.

Built on panoramisk's `fast_agi.Request` for the command protocol. The session set-up
is our own because panoramisk's reads the AGI headers with a loop that spins forever
if Asterisk closes the socket early; here headers are read with a limit and a timeout.
Handlers get an `AgiCall` with typed helpers; a caller hanging up surfaces as
`AgiHangup` from whichever command noticed it. For the survey benchmark the server keeps every
command with its round-trip time (`round_trips`), the handlers' think time before each command, from the
session's start or the last command's answer (`think_times`: the silence on the line the engine
causes), and the most
sessions it served at once (`peak_sessions`).
REDIRECT_NOTE: a channel whose AGI session is open must not be moved by an AMI Redirect: an AGI
that ends on its own just as the Redirect lands leaves the channel at a priority that does not
exist, and Asterisk hangs it up ("Auto fallthrough"; seen on the lab with an inbound caller
Redirected to its agent as its flow's session closed), and waiting for Asterisk to end the AGI
instead costs a voice frame or two (20 to 40 ms) before it notices the Redirect. So while a
handler holds the session, the engine moves its caller through the session: it sets where the
dialplan goes next (an inbound caller's NEXT_VAR, `dialer.live.inbound_acd`), and the channel
goes there as the handler ends the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from panoramisk.fast_agi import Request

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 5.0
TIMINGS_KEPT = 100_000  # the latest round trips and think times (a day of calls would be millions)
HEADER_LIMIT = 16_384


class AgiHangup(Exception):
    """The channel hung up while the handler was running."""


class AgiCommandError(Exception):
    """Asterisk rejected an AGI command (usage error, invalid command)."""


class AgiCall:
    """One FastAGI session: the channel's AGI headers and the commands a handler may send."""

    def __init__(self, request: Request, server: FastAgiServer) -> None:
        self._request = request
        self._server = server
        self._answered_at = time.perf_counter()  # the session's start: the wait for a first command counts
        self.headers: dict[str, str] = dict(request.headers)

    @property
    def route(self) -> str:
        return self.headers.get("agi_network_script", "")

    @property
    def uniqueid(self) -> str:
        return self.headers.get("agi_uniqueid", "")

    @property
    def channel(self) -> str:
        return self.headers.get("agi_channel", "")

    async def command(self, line: str) -> dict[str, Any]:
        """Send one AGI command; return panoramisk's parsed result; raise on hang-up or error."""
        started = time.perf_counter()
        self._server.think_times.append(started - self._answered_at)
        try:
            result: dict[str, Any] = await self._request.send_command(line)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            # ValueError: panoramisk could not parse an empty line, i.e. Asterisk closed the socket.
            raise AgiHangup(f"{line}: session closed ({exc})") from None
        self._answered_at = time.perf_counter()
        self._server.round_trips.append((line, self._answered_at - started))
        if result.get("error") in ("AGIResultHangup", "AGIAppError"):  # HANGUP, or result=-1
            raise AgiHangup(line)
        if "error" in result:
            raise AgiCommandError(f"{line}: {result.get('msg', result['error'])}")
        return result

    async def variable(self, name: str) -> str:
        """A channel variable's value ('' when unset)."""
        code, value = (await self.command(f"GET VARIABLE {name}"))["result"]
        return str(value) if code == "1" else ""

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str | None:
        """Play `prompt` and collect up to `max_digits`; None when nothing was pressed before the timeout."""
        code, _ = (await self.command(f"GET DATA {prompt} {timeout_ms} {max_digits}"))["result"]
        return str(code) or None

    async def stream_file(self, prompt: str, escape_digits: str = '""') -> str | None:
        """Play a sound; return the digit that interrupted it, if any."""
        code, _ = (await self.command(f"STREAM FILE {prompt} {escape_digits}"))["result"]
        return chr(int(code)) if code not in ("", "0") else None

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """Wait for one key; None when none came before the timeout."""
        code, _ = (await self.command(f"WAIT FOR DIGIT {timeout_ms}"))["result"]
        return chr(int(code)) if code not in ("", "0") else None

    async def exec(self, application: str, arguments: str = "") -> str:
        code, _ = (await self.command(f"EXEC {application} {arguments}".rstrip()))["result"]
        return str(code)

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f'SET VARIABLE {name} "{value}"')

    async def hangup(self) -> None:
        with contextlib.suppress(AgiHangup):
            await self.command("HANGUP")


Handler = Callable[[AgiCall], Awaitable[None]]


class FastAgiServer:
    """Routes FastAGI sessions to handlers. `port=0` picks a free port (see `port` after `start`)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.round_trips: deque[tuple[str, float]] = deque(maxlen=TIMINGS_KEPT)  # (command, seconds)
        self.think_times: deque[float] = deque(maxlen=TIMINGS_KEPT)
        self.peak_sessions = 0
        self._routes: dict[str, Handler] = {}
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[Any]] = set()

    def route(self, name: str, handler: Handler) -> None:
        if name in self._routes:
            raise ValueError(f"FastAGI route {name!r} already registered")
        self._routes[name] = handler

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._session, self.host, self.port, limit=HEADER_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("FastAGI listening on %s:%s (routes: %s)", self.host, self.port, ", ".join(self._routes))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._sessions):
            task.cancel()
        await asyncio.gather(*self._sessions, return_exceptions=True)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        self.peak_sessions = max(self.peak_sessions, len(self._sessions))
        try:
            headers = await self._read_headers(reader)
            if headers is None:
                return
            route = headers.get("agi_network_script", "")
            handler = self._routes.get(route)
            if handler is None:
                log.error("FastAGI request for unknown route %r from %s", route, headers.get("agi_channel"))
                return
            call = AgiCall(Request(None, headers, reader, writer), self)
            try:
                await handler(call)
            except AgiHangup:
                log.debug("FastAGI %s: caller hung up", route)
            except Exception:
                log.exception("FastAGI handler %r failed on %s", route, call.channel)
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str] | None:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\n\n"), HEADER_TIMEOUT_S)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            log.warning("FastAGI connection closed or stalled before its headers ended")
            return None
        lines = raw.decode("utf-8", "replace").splitlines()
        return dict(line.split(": ", 1) for line in lines if ": " in line)
