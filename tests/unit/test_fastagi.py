"""The FastAGI server against a scripted Asterisk side on a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from dialer.asterisk.fastagi import AgiCall, AgiHangup, FastAgiServer

HEADERS = (
    b"agi_network: yes\nagi_network_script: survey\nagi_channel: PJSIP/carrier-00000001\n"
    b"agi_uniqueid: 1700000000.1\n\n"
)


@pytest.fixture
async def server() -> AsyncIterator[FastAgiServer]:
    server = FastAgiServer("127.0.0.1", 0)
    yield server
    await server.stop()


async def asterisk_side(port: int, headers: bytes, replies: list[bytes]) -> list[str]:
    """Connect like Asterisk, send headers, answer each command with the next reply; return the commands."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(headers)
    commands = []
    for reply in replies:
        line = await asyncio.wait_for(reader.readline(), 2)
        commands.append(line.decode().strip())
        writer.write(reply)
    await asyncio.wait_for(reader.read(), 2)  # the server closes the session
    writer.close()
    return commands


async def test_route_gets_typed_call_and_digits(server: FastAgiServer) -> None:
    results: list[object] = []

    async def survey(call: AgiCall) -> None:
        results.append((call.route, call.uniqueid, call.channel))
        results.append(await call.variable("RINGCAST_ATTEMPT"))
        results.append(await call.get_data("beep", 3000, 1))
        results.append(await call.get_data("beep", 3000, 1))

    server.route("survey", survey)
    await server.start()
    commands = await asterisk_side(
        server.port,
        HEADERS,
        [b"200 result=1 (42)\n", b"200 result=7\n", b"200 result= (timeout)\n"],
    )
    assert commands == ["GET VARIABLE RINGCAST_ATTEMPT", "GET DATA beep 3000 1", "GET DATA beep 3000 1"]
    assert results == [("survey", "1700000000.1", "PJSIP/carrier-00000001"), "42", "7", None]
    assert len(server.round_trips) == 3


async def test_caller_hangup_surfaces_as_agi_hangup(server: FastAgiServer) -> None:
    outcome: list[str] = []

    async def survey(call: AgiCall) -> None:
        try:
            await call.get_data("beep", 3000, 1)
        except AgiHangup:
            outcome.append("hangup")
            raise

    server.route("survey", survey)
    await server.start()
    await asterisk_side(server.port, HEADERS, [b"HANGUP\n"])
    assert outcome == ["hangup"]


async def test_socket_closed_mid_command_is_a_hangup(server: FastAgiServer) -> None:
    outcome: list[str] = []

    async def survey(call: AgiCall) -> None:
        try:
            await call.answer()
        except AgiHangup:
            outcome.append("hangup")

    server.route("survey", survey)
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(HEADERS)
    await reader.readline()
    writer.close()
    await asyncio.sleep(0.2)
    assert outcome == ["hangup"]


async def test_connection_closed_before_headers_end_does_not_spin(server: FastAgiServer) -> None:
    await server.start()
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"agi_network: yes\n")
    writer.close()
    await asyncio.sleep(0.2)
    assert not server._sessions  # panoramisk's own reader would loop forever here


async def test_unknown_route_is_closed(server: FastAgiServer) -> None:
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(HEADERS.replace(b"survey", b"nope"))
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()


def test_duplicate_route_is_refused() -> None:
    server = FastAgiServer("127.0.0.1", 0)

    async def handler(call: AgiCall) -> None:
        return None

    server.route("a", handler)
    with pytest.raises(ValueError, match="already registered"):
        server.route("a", handler)


async def test_the_server_keeps_the_handlers_think_time_between_commands(server: FastAgiServer) -> None:
    async def survey(call: AgiCall) -> None:
        await call.stream_file("beep", "12")
        await asyncio.sleep(0.05)  # the handler thinking: silence on the line
        assert await call.wait_for_digit(3000) == "1"

    server.route("survey", survey)
    await server.start()
    commands = await asterisk_side(server.port, HEADERS, [b"200 result=0 endpos=800\n", b"200 result=49\n"])
    assert commands == ["STREAM FILE beep 12", "WAIT FOR DIGIT 3000"]
    assert len(server.think_times) == 2 and 0.05 <= server.think_times[1] < 0.5
    assert server.peak_sessions == 1
