"""On the lab (SQLite and PostgreSQL): a waiting caller hears its position, again as callers ahead
leave, and is still connected at once when an agent frees (ACD-8); a caller overflowing from a
quiet queue into an announcing one hears its first announcement at once, not after the quiet
queue's hour of music; a message left in a queue's box
reaches its member's event stream, after the box's own greeting (IVR-4).

What the pbx said is read from its own AMI: the hold context's `RingcastQueueAnnounced` UserEvent
after each announcement, with the position it said."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest

from campaigns import queue_store, voicemail_store
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.surveys.document import Prompt
from dialer.acd.queues import Announced, ToQueue
from dialer.asterisk.ami import AmiLink
from dialer.asterisk.carrier_caller import InboundCaller, call_pbx
from dialer.asterisk.confgen import QUEUE_ANNOUNCED_USER_EVENT
from dialer.asterisk.events import AmiEvent, UserEventReceived
from dialer.asterisk.lab import Lab
from dialer.asterisk.prompts import Message, PromptLibrary
from dialer.engine import running_engine
from ringcast.settings import load_settings
from tests.support.inbound import (
    AGENT,
    HOTLINE_DID,
    QUEUE,
    SOUTH_AGENT,
    SOUTH_QUEUE,
    inbound_calls,
    prepare_inbound,
    screen_events,
)
from tests.support.live_campaign import CAMPAIGN
from tests.support.waiting import until

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

GREETING = "您好，这里是销售部，请在提示音后留言。"


@contextlib.asynccontextmanager
async def _engine(
    url: str, setup: Callable[[Database], None]
) -> AsyncIterator[tuple[Database, httpx.AsyncClient]]:
    database = Database(url)
    database.upgrade()
    prepare_inbound(database, datetime.now(UTC))
    setup(database)
    async with running_engine(database, load_settings()) as client:
        yield database, client
    database.dispose()


def _announcing(database: Database) -> None:
    settings = {"announce_every_s": 3.0, "announced": Announced.POSITION, "max_wait_s": 120.0}
    queue_store.update_queue(database, QUEUE, settings, Change("test", datetime.now(UTC)))


def _greeted(database: Database) -> None:
    library = PromptLibrary.from_settings(load_settings())
    message = Message(Prompt(text=GREETING), "zh")
    library.render_missing(message)
    box = voicemail_store.Box("queue", QUEUE)
    sound = library.sound(message.prompt, "zh")
    voicemail_store.set_greeting(
        database, box, sound, Change("test", datetime.now(UTC)), language="zh", text=GREETING
    )


async def _until(done: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    await until(done, what, timeout_s)


def _queued(database: Database, callers: int) -> bool:
    calls = inbound_calls(database)
    return len(calls) == callers and calls[-1].queued_at is not None


def _overflowing_into_announcing(database: Database) -> None:
    """sales, quiet, overflows after 4 s into guangdong, which announces every 30 s."""
    change = Change("test", datetime.now(UTC))
    quiet = {"max_wait_s": 4.0, "overflow": ToQueue(SOUTH_QUEUE)}
    queue_store.update_queue(database, QUEUE, quiet, change)
    announcing = {"announce_every_s": 30.0, "announced": Announced.POSITION, "max_wait_s": 120.0}
    queue_store.update_queue(database, SOUTH_QUEUE, announcing, change)


async def _post(
    client: httpx.AsyncClient, path: str, body: object = None, agent: str = AGENT
) -> dict[str, object]:
    response = await client.post(f"/agents/{agent}{path}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


Said = list[tuple[str, str, float]]  # (caller's uniqueid, position said, when)


def _listen(pbx_ami: AmiLink) -> Said:
    """What the pbx reports it says to waiting callers, as it comes."""
    said: Said = []

    def heard(event: AmiEvent) -> None:
        if isinstance(event, UserEventReceived) and event.name == QUEUE_ANNOUNCED_USER_EVENT:
            said.append((event.uniqueid, event.fields.get("Position", ""), time.monotonic()))

    pbx_ami.subscribe(heard)
    return said


def _told(said: Said, caller: str, position: str | None = None) -> float | None:
    """When the caller was first told (that `position`), None: not yet."""
    return next((at for who, told, at in said if who == caller and position in (None, told)), None)


async def test_a_waiting_caller_hears_its_position_move_up_and_is_connected_at_once(
    lab: Lab, empty_database_url: str, carrier_ami: AmiLink, pbx_ami: AmiLink
) -> None:
    said = _listen(pbx_ami)
    async with _engine(empty_database_url, _announcing) as (database, client):
        await _post(client, "/login", {"campaign": CAMPAIGN})
        await _post(client, "/pause", {"reason": "break"})  # logged in, paused: callers wait
        await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, "13800138000", script="1", hang_up_after_s=14))
        await _until(lambda: _queued(database, 1), "queued")
        await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, "13700137000", script="1", hang_up_after_s=40))
        await _until(lambda: _queued(database, 2), "queued")
        first, second = (call.uniqueid for call in inbound_calls(database))
        await _until(lambda: _told(said, second, "2") is not None, "the second caller told it is number 2")
        assert _told(said, first, "1") is not None
        await _until(lambda: inbound_calls(database)[0].ended_at is not None, "the first caller gone")
        await _until(
            lambda: _told(said, second, "1") is not None, "the second caller told it is number 1 now"
        )
        await asyncio.sleep(1.5)  # very likely in the middle of an announcement or its music
        readied = time.monotonic()
        await _post(client, "/ready")
        await _until(lambda: inbound_calls(database)[1].answered_at is not None, "answered", 10)
        assert time.monotonic() - readied < 2.0, "a Redirect cuts the announcement short"
        await _post(client, "/hangup")


async def test_a_caller_overflowing_into_an_announcing_queue_hears_its_first_announcement_at_once(
    lab: Lab, empty_database_url: str, carrier_ami: AmiLink, pbx_ami: AmiLink
) -> None:
    said = _listen(pbx_ami)
    async with _engine(empty_database_url, _overflowing_into_announcing) as (database, client):
        for agent in (AGENT, SOUTH_AGENT):  # logged in, paused: the caller waits in each queue
            await _post(client, "/login", {"campaign": CAMPAIGN}, agent)
            await _post(client, "/pause", {"reason": "break"}, agent)
        await call_pbx(carrier_ami, InboundCaller(HOTLINE_DID, "13800138000", script="1", hang_up_after_s=30))
        await _until(lambda: _queued(database, 1), "queued")
        await _until(lambda: inbound_calls(database)[0].queue == SOUTH_QUEUE, "overflowed to guangdong", 15)
        overflowed = time.monotonic()
        caller = inbound_calls(database)[0].uniqueid
        await _until(lambda: _told(said, caller) is not None, "told its position in guangdong", 15)
        assert (_told(said, caller) or 0) - overflowed < 10, (
            "the hold loop started again: not 30 s, nor an hour, of music first"
        )


async def test_a_message_in_a_queues_box_reaches_its_agents_stream_after_the_greeting(
    lab: Lab, empty_database_url: str, carrier_ami: AmiLink
) -> None:
    async with _engine(empty_database_url, _greeted) as (database, client):
        async with screen_events(client, AGENT) as events:  # followed while read, logged out
            assert (await anext(events))["type"] == "state"
            caller = InboundCaller(
                HOTLINE_DID, "13800138000", script="1", hang_up_after_s=20, says="tt-monkeys"
            )
            await call_pbx(carrier_ami, caller)
            event = await asyncio.wait_for(anext(events), 40)
        [call] = inbound_calls(database)
        assert event["type"] == "voicemail" and event["box"] == f"queue:{QUEUE}"
        assert (event["caller"], event["file"]) == (call.caller, call.voicemail)
        response = await client.get(f"/agents/{AGENT}/voicemail")
        assert [m["id"] for m in response.json()] == [event["id"]]
