"""In-call controls on the lab (AGT-4): hold and resume, blind transfers, a three-way conference.

A caller presses 1 at the hotline's menu and reaches `bot1` (`sales`); `bot1` then puts it on hold
and back (the pbx shows the caller's channel in MusicOnHold, then in ConfBridge again), transfers it
blind to `bot2`, to the queue `sales` (where `bot2` takes it), to an external number (the carrier
receives the call), dials a number into its conference for a three-way call it then cancels, and
sends the caller into a flow that reads four digits and brings it back (IVR-6). And an attended
transfer to another agent: `bot1` holds the caller and consults `bot2` (a Local channel links
`bot2`'s conference to `bot1`'s), then makes it three-way and completes (the caller in `bot2`'s
conference), or `bot2` hangs up, or `bot1` cancels. Last, an outbound customer `bot1` dialled by hand
sent into a flow and back (IVR-6); and `bot1` muted and unmuted toward the caller (the pbx's
conference shows it), unmuted when it leaves the call muted.
Each control is checked from the pbx's channels or the carrier's log, and from its record
(`call_controls`, `GET /calls/CALL/controls`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from campaigns import ivr_store
from campaigns.compliance import blocklist_store
from campaigns.compliance.blocklist import BlockEntry
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, Attempt, AuditEntry
from campaigns.persistence.models.enums import BlockKind, CallOutcome, InboundOutcome
from dialer.asterisk.ami import AmiLink
from dialer.asterisk.carrier_caller import InboundCaller, call_pbx
from dialer.asterisk.lab import Lab
from dialer.engine import running_engine
from ringcast.settings import load_settings
from tests.support.inbound import (
    AGENT,
    HOTLINE_DID,
    OTHER_AGENT,
    inbound_calls,
    prepare_inbound,
    screen_events,
)
from tests.support.live_campaign import CAMPAIGN, hand_dialled_number
from tests.support.waiting import until

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

CALLER_NUMBER = "13800138000"
EXTERNAL = "+8613800131201"  # the carrier answers it as a human who talks 15 s
VERIFY_FLOW = """
name: verify-id
start: ask
nodes:
  ask:
    type: read
    prompt: {audio: beep}
    variable: id_number
    min_digits: 4
    max_digits: 4
    terminator: ""
    timeout_s: 10
    retries: 0
    next: back
    on_invalid: back
    on_timeout: back
  back: {type: back, fallback: sales}
"""


@pytest.fixture
async def engine(lab: Lab, empty_database_url: str) -> AsyncIterator[tuple[Database, httpx.AsyncClient]]:
    database = Database(empty_database_url)  # on SQLite and on PostgreSQL
    database.upgrade()
    prepare_inbound(database, datetime.now(UTC))
    async with running_engine(database, load_settings()) as client:
        yield database, client
    database.dispose()


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
    await until(lambda: inbound_calls(database)[0].ended_at is not None, "ended")
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
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=EXTERNAL)), "dialled out")
    [carried] = lab.carrier_log(since=started - 1, number=EXTERNAL)
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=EXTERNAL)[0].answered_at), "answered")
    assert carried.number == EXTERNAL
    assert await _controls(client, call) == [(AGENT, "transfer", f"number:{EXTERNAL}", None)]


async def test_three_way_conference_with_an_external_party(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink, pbx_ami: AmiLink, lab: Lab
) -> None:
    _, client = engine
    call = await _caller_with_bot1(client, carrier_ami)
    started = time.time()
    assert (await _post(client, AGENT, "add", {"to": f"number:{EXTERNAL}"}))["legs"] == "conference"
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=EXTERNAL)), "dialled in")
    deadline = time.monotonic() + 15
    while await _application(pbx_ami, f"{call}-third") != "ConfBridge":  # answered, joined
        assert time.monotonic() < deadline, "the third party never joined the conference"
        await asyncio.sleep(0.2)
    assert await _application(pbx_ami, call) == "ConfBridge", "the customer stays in the conference"
    assert (await _post(client, AGENT, "cancel"))["legs"] == "talking"
    await until(lambda: bool(lab.carrier_log(since=started - 1, number=EXTERNAL)[0].ended_at), "third gone")
    assert (await _state(client, AGENT, "on_call"))["call"] == call
    await _post(client, AGENT, "hangup")
    assert await _controls(client, call) == [
        (AGENT, "add", f"number:{EXTERNAL}", "conference"),
        (AGENT, "cancel", f"number:{EXTERNAL}", "talking"),
    ]


async def _until_in(pbx_ami: AmiLink, call: str, application: str, what: str) -> None:
    deadline = time.monotonic() + 15
    while await _application(pbx_ami, call) != application:
        assert time.monotonic() < deadline, f"the caller not {what} within 15 s"
        await asyncio.sleep(0.1)


async def _key(carrier_ami: AmiLink, carrier_call: str, digits: str) -> None:
    """The caller keys `digits` (sent from its channel on the carrier to the pbx)."""
    [channel] = [c.channel for c in await carrier_ami.channels() if c.uniqueid == carrier_call]
    for digit in digits:
        await carrier_ami.action({"Action": "PlayDTMF", "Channel": channel, "Digit": digit, "Duration": 150})
        await asyncio.sleep(0.3)


async def test_transfer_into_a_flow_and_back_with_the_digits_keyed(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink, pbx_ami: AmiLink
) -> None:
    database, client = engine
    ivr_store.save_flow(database, VERIFY_FLOW, Change("test", datetime.now(UTC)), new=True, activate=True)
    await _post(client, AGENT, "login", {"campaign": CAMPAIGN})
    async with screen_events(client, AGENT) as stream:
        caller = InboundCaller(HOTLINE_DID, CALLER_NUMBER, script="1", hang_up_after_s=40)
        carrier_call = await call_pbx(carrier_ami, caller)
        call = str((await _state(client, AGENT, "on_call"))["call"])
        await asyncio.sleep(0.5)
        assert (await _post(client, AGENT, "transfer", {"to": "flow:verify-id"}))["legs"] == "in_flow"
        await _until_in(pbx_ami, call, "AGI", "in the flow")
        status = (await client.get(f"/agents/{AGENT}")).json()
        assert (status["state"], status["call"], status["legs"]) == ("on_call", call, "in_flow")
        refused = await client.post(f"/agents/{AGENT}/hold")
        assert refused.json() == {
            "error": "cannot hold: the customer is in an IVR flow: wait for it to come back, or hang up"
        }
        await asyncio.sleep(1.0)  # GET DATA is playing the beep
        await _key(carrier_ami, carrier_call, "2468")
        await _until_in(pbx_ami, call, "ConfBridge", "back in the agent's conference")
        status = (await client.get(f"/agents/{AGENT}")).json()
        assert (status["state"], status["call"], status["legs"]) == ("on_call", call, "talking")

        async def flow_returned() -> dict[str, object]:
            async for event in stream:
                if event["type"] == "control" and event["control"] == "flow_returned":
                    return event
            raise AssertionError("the screen-pop stream ended")

        shown = await asyncio.wait_for(flow_returned(), 10)
    assert shown["variables"] == {"id_number": "2468"}
    assert shown["inputs"] == [{"node": "ask", "keys": "2468", "accepted": True}]
    await _post(client, AGENT, "hangup")
    await until(lambda: inbound_calls(database)[0].ended_at is not None, "ended")
    [record] = inbound_calls(database)
    [sent] = record.trail["sent_flows"]
    assert (sent["flow"], sent["path"], sent["variables"]) == (
        "verify-id",
        ["ask", "back"],
        {"id_number": "2468"},
    )
    assert record.trail["flow"] == "hotline", "the DID flow's trail is kept"
    assert await _controls(client, call) == [
        (AGENT, "transfer", "flow:verify-id", "in_flow"),
        (AGENT, "flow_returned", "flow:verify-id", "talking"),
    ]


def _conference_of(database: Database, name: str) -> str:
    with database.session() as session:
        return f"agent-{session.scalars(select(Agent.id).where(Agent.name == name)).one()}"


async def _where(pbx_ami: AmiLink, uniqueid: str) -> tuple[str, str]:
    """The application a channel runs and its extension (a conference's name): ("gone", "") when gone."""
    for channel in await pbx_ami.channels():
        if channel.uniqueid == uniqueid:
            return channel.application, channel.exten
    return "gone", ""


async def _until_where(pbx_ami: AmiLink, uniqueid: str, place: tuple[str, str], what: str) -> None:
    deadline = time.monotonic() + 15
    while await _where(pbx_ami, uniqueid) != place:
        assert time.monotonic() < deadline, f"{what}: {await _where(pbx_ami, uniqueid)} within 15 s"
        await asyncio.sleep(0.1)


async def _consulting_bot2(
    database: Database, client: httpx.AsyncClient, carrier_ami: AmiLink, pbx_ami: AmiLink
) -> str:
    """bot1 on a call holds the caller and brings bot2 (reserved meanwhile) in: the caller's uniqueid."""
    call = await _caller_with_bot1(client, carrier_ami, OTHER_AGENT)
    assert (await _post(client, AGENT, "consult", {"to": f"agent:{OTHER_AGENT}"}))["legs"] == "consulting"
    status = (await client.get(f"/agents/{OTHER_AGENT}")).json()
    assert (status["state"], status["call"]) == ("reserved", call), "reserved as a blind transfer reserves"
    link = f"{call}-third"
    await _until_where(pbx_ami, link, ("ConfBridge", _conference_of(database, AGENT)), "the link in bot1's")
    await _until_where(pbx_ami, call, ("MusicOnHold", "s"), "the caller on hold")
    return call


async def test_attended_transfer_to_another_agent(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink, pbx_ami: AmiLink
) -> None:
    database, client = engine
    call = await _consulting_bot2(database, client, carrier_ami, pbx_ami)
    deadline = time.monotonic() + 10  # the pbx shows the link joined before the engine has read it
    while (joined := await client.post(f"/agents/{AGENT}/conference")).status_code == 409:
        assert "has not answered yet" in joined.text and time.monotonic() < deadline, joined.text
        await asyncio.sleep(0.1)
    assert joined.status_code == 200 and joined.json()["legs"] == "conference", joined.text
    await _until_where(pbx_ami, call, ("ConfBridge", _conference_of(database, AGENT)), "three-way")
    assert (await _post(client, AGENT, "complete"))["legs"] is None
    await _until_where(pbx_ami, call, ("ConfBridge", _conference_of(database, OTHER_AGENT)), "with bot2")
    assert (await _state(client, OTHER_AGENT, "on_call"))["call"] == call
    await _state(client, AGENT, "wrap_up")
    await _until_where(pbx_ami, f"{call}-third", ("gone", ""), "the link hung up")
    saved = await client.put(f"/agents/{OTHER_AGENT}/calls/{call}/customer", json={"name": "韩梅梅"})
    assert saved.status_code == 200, saved.text
    await _post(client, OTHER_AGENT, "hangup")
    await until(lambda: inbound_calls(database)[0].ended_at is not None, "ended")
    [record] = inbound_calls(database)
    assert record.outcome is InboundOutcome.ANSWERED
    target = f"agent:{OTHER_AGENT}"
    assert await _controls(client, call) == [
        (AGENT, "consult", target, "consulting"),
        (AGENT, "conference", target, "conference"),
        (AGENT, "complete", target, None),
    ]


async def test_a_consulted_agent_hangs_up_or_is_cancelled(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink, pbx_ami: AmiLink
) -> None:
    database, client = engine
    call = await _consulting_bot2(database, client, carrier_ami, pbx_ami)
    assert (await _post(client, OTHER_AGENT, "hangup"))["state"] == "ready", "it leaves the consultation"
    await _until_where(pbx_ami, f"{call}-third", ("gone", ""), "the link hung up")
    deadline = time.monotonic() + 15
    while (await client.get(f"/agents/{AGENT}")).json()["legs"] != "held":
        assert time.monotonic() < deadline, "bot1's legs not back to held within 15 s"
        await asyncio.sleep(0.1)
    assert await _application(pbx_ami, call) == "MusicOnHold", "the caller stays, on hold"
    assert (await _post(client, AGENT, "consult", {"to": f"agent:{OTHER_AGENT}"}))["legs"] == "consulting"
    await _until_where(pbx_ami, f"{call}-third", ("ConfBridge", _conference_of(database, AGENT)), "again")
    assert (await _post(client, AGENT, "cancel"))["legs"] == "talking"
    await _until_where(pbx_ami, call, ("ConfBridge", _conference_of(database, AGENT)), "back with bot1")
    assert (await _state(client, OTHER_AGENT, "ready"))["call"] is None
    await _until_where(pbx_ami, f"{call}-third", ("gone", ""), "the link hung up")
    await _post(client, AGENT, "hangup")
    target = f"agent:{OTHER_AGENT}"
    assert await _controls(client, call) == [
        (AGENT, "consult", target, "consulting"),
        (AGENT, "third_gone", target, "held"),
        (AGENT, "consult", target, "consulting"),
        (AGENT, "cancel", target, "talking"),
    ]


BEEP_AND_BACK = """
name: beep-back
start: beep
nodes:
  beep: {type: play, prompt: {audio: beep}, next: back}
  back: {type: back, fallback: sales}
"""


async def test_an_outbound_customer_into_a_flow_and_back(
    engine: tuple[Database, httpx.AsyncClient], pbx_ami: AmiLink
) -> None:
    """bot1 dials a customer by hand (click-to-call, the carrier's human who talks 15 s), sends it into
    a flow that beeps and ends at `back`: the customer is back in bot1's conference."""
    database, client = engine
    now = datetime.now(UTC)
    ivr_store.save_flow(database, BEEP_AND_BACK, Change("test", now), new=True, activate=True)
    number = hand_dialled_number()
    blocklist_store.add(database, BlockEntry(BlockKind.WHITELIST, number), Change("test", now))
    await _post(client, AGENT, "login", {"campaign": CAMPAIGN})
    await _post(client, AGENT, "call", {"number": number})
    call = str((await _state(client, AGENT, "on_call"))["call"])
    conference = ("ConfBridge", _conference_of(database, AGENT))
    await _until_where(pbx_ami, call, conference, "with bot1")
    assert (await _post(client, AGENT, "transfer", {"to": "flow:beep-back"}))["legs"] == "in_flow"
    await _until_in(pbx_ami, call, "AGI", "in the flow")
    await _until_where(pbx_ami, call, conference, "back with bot1")
    status = (await client.get(f"/agents/{AGENT}")).json()
    assert (status["state"], status["call"], status["legs"]) == ("on_call", call, "talking")
    await _post(client, AGENT, "hangup")
    await _state(client, AGENT, "wrap_up")
    rows = (await client.get(f"/calls/{call}/controls")).json()
    assert [(r["control"], r["target"], r["legs"]) for r in rows] == [
        ("transfer", "flow:beep-back", "in_flow"),
        ("flow_returned", "flow:beep-back", "talking"),
    ]
    attempt_id = rows[0]["attempt_id"]
    assert attempt_id is not None and {r["inbound_call_id"] for r in rows} == {None}, "an outbound call's"
    with database.session() as session:
        found = select(AuditEntry.details).where(
            AuditEntry.action == "call.flow", AuditEntry.entity_id == str(attempt_id)
        )
        [trail] = session.scalars(found)
    assert (trail["flow"], trail["path"]) == ("beep-back", ["beep", "back"])
    assert inbound_calls(database) == [], "it never became an inbound call"
    await until(lambda: _attempt(database, attempt_id).ended_at is not None, "its attempt closed")
    assert _attempt(database, attempt_id).outcome is CallOutcome.ANSWERED


def _attempt(database: Database, attempt_id: int) -> Attempt:
    with database.session() as session:
        return session.get_one(Attempt, attempt_id)


async def _agent_muted(pbx_ami: AmiLink, conference: str) -> bool:
    """Whether the agent (the conference's marked user, flag M) is muted in it (flag m)."""
    listed = await pbx_ami.command(f"confbridge list {conference}")
    flags = [line.split()[1] for line in listed.splitlines() if line.startswith(("PJSIP/", "Local/"))]
    [agent] = [f for f in flags if "M" in f]
    return "m" in agent


async def test_mute_and_unmute_the_agent(
    engine: tuple[Database, httpx.AsyncClient], carrier_ami: AmiLink, pbx_ami: AmiLink
) -> None:
    database, client = engine
    call = await _caller_with_bot1(client, carrier_ami)
    conference = _conference_of(database, AGENT)
    assert not await _agent_muted(pbx_ami, conference)
    assert (await _post(client, AGENT, "mute"))["muted"] is True
    assert await _agent_muted(pbx_ami, conference)
    refused = await client.post(f"/agents/{AGENT}/mute")
    assert refused.json() == {"error": "cannot mute: the agent is muted"}
    unmuted = await _post(client, AGENT, "unmute")
    assert (unmuted["legs"], unmuted["muted"]) == ("talking", False)
    assert not await _agent_muted(pbx_ami, conference)
    assert (await _post(client, AGENT, "mute"))["legs"] == "talking"
    await _post(client, AGENT, "hangup")  # muted: unmuted as it leaves the call
    await _state(client, AGENT, "wrap_up")
    deadline = time.monotonic() + 10
    while await _agent_muted(pbx_ami, conference):
        assert time.monotonic() < deadline, "the agent still muted after its call"
        await asyncio.sleep(0.1)
    assert await _controls(client, call) == [
        (AGENT, "mute", None, "talking"),
        (AGENT, "unmute", None, "talking"),
        (AGENT, "mute", None, "talking"),
    ]
