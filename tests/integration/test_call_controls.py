"""In-call controls on the lab (AGT-4): hold and resume, blind transfers, a three-way conference.

A caller presses 1 at the hotline's menu and reaches `bot1` (`sales`); `bot1` then puts it on hold
and back (the pbx shows the caller's channel in MusicOnHold, then in ConfBridge again), transfers it
blind to `bot2`, to the queue `sales` (where `bot2` takes it), to an external number (the carrier
receives the call), and dials a number into its conference for a three-way call it then cancels.
Each control is checked from the pbx's channels or the carrier's log, and from its record
(`call_controls`, `GET /calls/CALL/controls`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest

from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import InboundOutcome
from dialer.asterisk.ami import AmiLink, endpoint_from_settings
from dialer.asterisk.carrier_caller import InboundCaller, call_pbx
from dialer.asterisk.lab import Lab
from dialer.engine import running_engine
from ringcast.settings import load_settings
from tests.support.inbound import AGENT, HOTLINE_DID, OTHER_AGENT, inbound_calls, prepare_inbound
from tests.support.live_campaign import CAMPAIGN

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

CALLER_NUMBER = "13800138000"
EXTERNAL = "+8613800131201"  # the carrier answers it as a human who talks 15 s


@pytest.fixture
async def engine(lab: Lab, empty_database_url: str) -> AsyncIterator[tuple[Database, httpx.AsyncClient]]:
    database = Database(empty_database_url)  # on SQLite and on PostgreSQL
    database.upgrade()
    prepare_inbound(database, datetime.now(UTC))
    async with running_engine(database, load_settings()) as client:
        yield database, client
    database.dispose()


@pytest.fixture
async def pbx_ami(lab: Lab) -> AsyncIterator[AmiLink]:
    """The test's own AMI link to the pbx, to see where the caller's channel is."""
    link = AmiLink(endpoint_from_settings(load_settings()))
    await link.connect()
    yield link
    await link.close()


async def _until(done: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {timeout_s:.0f} s")
        await asyncio.sleep(0.1)


async def _post(client: httpx.AsyncClient, name: str, path: str, body: object = None) -> dict[str, object]:
    response = await client.post(f"/agents/{name}/{path}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


async def _state(client: httpx.AsyncClient, name: str, state: str) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while True:
        status: dict[str, object] = (await client.get(f"/agents/{name}")).json()
        if status["state"] == state:
            return status
        assert time.monotonic() < deadline, f"agent {name} not {state}: {status['state']}"
        await asyncio.sleep(0.1)


async def _caller_with_bot1(client: httpx.AsyncClient, carrier_ami: AmiLink, *others: str) -> str:
    """bot1 (then `others`) logged in; a caller through the hotline's menu reaches bot1: its uniqueid."""
    await _post(client, AGENT, "login", {"campaign": CAMPAIGN})
    for name in others:
        await _post(client, name, "login", {"campaign": CAMPAIGN})
    await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1", hang_up_after_s=30))
    status = await _state(client, AGENT, "on_call")
    await asyncio.sleep(0.5)
    return str(status["call"])


async def _application(pbx_ami: AmiLink, uniqueid: str) -> str:
    for channel in await pbx_ami.channels():
        if channel.uniqueid == uniqueid:
            return channel.application
    return "gone"


async def _controls(client: httpx.AsyncClient, call: str) -> list[tuple[object, ...]]:
    rows = (await client.get(f"/calls/{call}/controls")).json()
    return [(row["agent"], row["control"], row["target"], row["legs"]) for row in rows]


async def test_hold_and_resume(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink, pbx_ami: AmiLink
) -> None:
    _, client = engine
    call = await _caller_with_bot1(client, carrier_ami)
    assert (await _post(client, AGENT, "hold"))["legs"] == "held"
    await asyncio.sleep(0.5)
    assert await _application(pbx_ami, call) == "MusicOnHold"
    refused = await client.post(f"/agents/{AGENT}/hold")
    assert refused.status_code == 409
    assert refused.json() == {"error": "cannot hold: the customer is on hold"}
    assert (await _post(client, AGENT, "resume"))["legs"] == "talking"
    await asyncio.sleep(0.5)
    assert await _application(pbx_ami, call) == "ConfBridge"
    assert (await _state(client, AGENT, "on_call"))["call"] == call
    await _post(client, AGENT, "hangup")
    assert await _controls(client, call) == [
        (AGENT, "hold", None, "held"),
        (AGENT, "resume", None, "talking"),
    ]


async def test_blind_transfer_to_another_agent(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink
) -> None:
    database, client = engine
    call = await _caller_with_bot1(client, carrier_ami, OTHER_AGENT)
    await _post(client, AGENT, "transfer", {"to": f"agent:{OTHER_AGENT}"})
    assert (await _state(client, OTHER_AGENT, "on_call"))["call"] == call
    await _state(client, AGENT, "wrap_up")
    await _post(client, OTHER_AGENT, "hangup")
    await _until(lambda: inbound_calls(database)[0].ended_at is not None, "ended")
    [record] = inbound_calls(database)
    assert record.outcome is InboundOutcome.ANSWERED
    assert await _controls(client, call) == [(AGENT, "transfer", f"agent:{OTHER_AGENT}", None)]


async def test_blind_transfer_to_a_queue(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink
) -> None:
    _, client = engine
    call = await _caller_with_bot1(client, carrier_ami, OTHER_AGENT)
    await _post(client, AGENT, "transfer", {"to": "queue:sales"})
    assert (await _state(client, OTHER_AGENT, "on_call"))["call"] == call, "the queue's ready agent"
    await _state(client, AGENT, "wrap_up")
    await _post(client, OTHER_AGENT, "hangup")
    assert await _controls(client, call) == [(AGENT, "transfer", "queue:sales", None)]


async def test_blind_transfer_to_an_external_number(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink, lab: Lab
) -> None:
    _, client = engine
    call = await _caller_with_bot1(client, carrier_ami)
    started = time.time()
    await _post(client, AGENT, "transfer", {"to": f"number:{EXTERNAL}"})
    await _state(client, AGENT, "wrap_up")
    await _until(lambda: bool(lab.carrier_log(since=started - 1, number=EXTERNAL)), "dialled out")
    [carried] = lab.carrier_log(since=started - 1, number=EXTERNAL)
    await _until(lambda: bool(lab.carrier_log(since=started - 1, number=EXTERNAL)[0].answered_at), "answered")
    assert carried.number == EXTERNAL
    assert await _controls(client, call) == [(AGENT, "transfer", f"number:{EXTERNAL}", None)]


async def test_three_way_conference_with_an_external_party(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink, pbx_ami: AmiLink, lab: Lab
) -> None:
    _, client = engine
    call = await _caller_with_bot1(client, carrier_ami)
    started = time.time()
    assert (await _post(client, AGENT, "add", {"to": f"number:{EXTERNAL}"}))["legs"] == "conference"
    await _until(lambda: bool(lab.carrier_log(since=started - 1, number=EXTERNAL)), "dialled in")
    deadline = time.monotonic() + 15
    while await _application(pbx_ami, f"{call}-third") != "ConfBridge":  # answered, joined
        assert time.monotonic() < deadline, "the third party never joined the conference"
        await asyncio.sleep(0.2)
    assert await _application(pbx_ami, call) == "ConfBridge", "the customer stays in the conference"
    assert (await _post(client, AGENT, "cancel"))["legs"] == "talking"
    await _until(lambda: bool(lab.carrier_log(since=started - 1, number=EXTERNAL)[0].ended_at), "third gone")
    assert (await _state(client, AGENT, "on_call"))["call"] == call
    await _post(client, AGENT, "hangup")
    assert await _controls(client, call) == [
        (AGENT, "add", f"number:{EXTERNAL}", "conference"),
        (AGENT, "cancel", f"number:{EXTERNAL}", "talking"),
    ]
