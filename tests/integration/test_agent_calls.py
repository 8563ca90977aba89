"""Agent-driven calls on the lab: preview (DIAL-1), click-to-call (DIAL-2), callbacks (AGT-4), hang-up.

One agent works a preview campaign through the control API: it previews a lead (paused while it
looks), skips one, dials another, talks, schedules a callback of its own a few seconds later, and
the engine dials it for that agent when it is due (CB-1). Then it is refused a number abroad (the
campaign's reach is national), dials a whitelisted number by hand, hangs up on the customer
itself, and is refused a number on the DNC list. The carrier's log confirms what was really dialled, and
the pbx's own events that the agent's number was said into its conference on every call (AGT-5).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from campaigns.compliance import blocklist_store
from campaigns.compliance.blocklist import BlockEntry
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, Callback, Lead
from campaigns.persistence.models.enums import BlockKind, CallbackState, CallOutcome, LeadState
from dialer.asterisk.ami import AmiLink, endpoint_from_settings
from dialer.asterisk.confgen import ANNOUNCE_CONTEXT, ANNOUNCED_USER_EVENT
from dialer.asterisk.events import AmiEvent, ConferenceJoined, UserEventReceived
from dialer.asterisk.lab import Lab
from dialer.engine import running_engine
from ringcast.settings import load_settings
from tests.support.live_campaign import CAMPAIGN, DNC_INDEXES, Setup, hand_dialled_number, prepare

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

AGENT = "bot1"


class Announcements:
    """The pbx's events of agent-number announcements: what was said, and who joined which conference."""

    def __init__(self, link: AmiLink) -> None:
        self.link = link
        self.said: list[str] = []
        self.joined: list[tuple[str, str]] = []  # (channel, conference)

    def __call__(self, event: AmiEvent) -> None:
        if isinstance(event, UserEventReceived) and event.name == ANNOUNCED_USER_EVENT:
            self.said.append(event.fields.get("Digits", ""))
        elif isinstance(event, ConferenceJoined) and event.channel.startswith("Local/"):
            self.joined.append((event.channel.rsplit("-", 1)[0], event.conference))  # less "-0000000d;1"


@pytest.fixture
async def announcements(lab: Lab) -> AsyncIterator[Announcements]:
    link = AmiLink(endpoint_from_settings(load_settings()))
    watched = Announcements(link)
    link.subscribe(watched)
    await link.connect()
    yield watched
    await link.close()


@pytest.fixture
async def preview_campaign(
    lab: Lab, empty_database_url: str
) -> AsyncIterator[tuple[Setup, httpx.AsyncClient]]:
    database = Database(empty_database_url)  # on SQLite and on PostgreSQL
    database.upgrade()
    setup = prepare(database, datetime.now(UTC), mode="preview", announce=True)
    async with running_engine(database, load_settings()) as client:
        response = await client.post(f"/agents/{AGENT}/login", json={"campaign": CAMPAIGN})
        assert response.status_code == 200, response.text
        yield setup, client
    database.dispose()


async def _post(
    client: httpx.AsyncClient, path: str, body: dict[str, object] | None = None
) -> dict[str, object]:
    response = await client.post(f"/agents/{AGENT}{path}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def _until(client: httpx.AsyncClient, state: str, timeout_s: float = 30.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status: dict[str, object] = (await client.get(f"/agents/{AGENT}")).json()
        if status["state"] == state:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"agent {AGENT} not {state} within {timeout_s:.0f} s: {status}")


def _leads(database: Database) -> list[Lead]:
    with database.session() as session:
        return list(session.scalars(select(Lead)))


def _lead(database: Database, e164: str) -> Lead:
    with database.session() as session:
        return session.scalars(select(Lead).where(Lead.e164 == e164)).one()


async def test_preview_skip_dial_callback_and_click_to_call(
    preview_campaign: tuple[Setup, httpx.AsyncClient], lab: Lab, announcements: Announcements
) -> None:
    setup, client = preview_campaign
    database = setup.database
    started = time.time()

    first = await _post(client, "/preview")  # lead 0: on the DNC list, but the card shows it
    assert first["e164"] == setup.numbers[0] and 0 in DNC_INDEXES
    assert (await _until(client, "not_ready"))["reason"] == "preview"
    refused = await client.post(f"/agents/{AGENT}/preview/dial")
    assert refused.status_code == 409 and "dnc" in refused.json()["error"]
    assert _lead(database, setup.numbers[0]).state is LeadState.DNC_BLOCKED

    skipped = await _post(client, "/preview")  # lead 1 (a human): skipped, back in 30 minutes
    await _post(client, "/preview/skip")
    lead = _lead(database, str(skipped["e164"]))
    assert lead.state is LeadState.NEW and lead.next_attempt_at > datetime.now(UTC) + timedelta(minutes=29)

    card = await _post(client, "/preview")  # lead 2, a human: dialled, talked to, asks for a callback
    number = str(card["e164"])
    await _post(client, "/preview/dial")
    await _until(client, "on_call")
    await _until(client, "wrap_up", timeout_s=40)
    callback_at = datetime.now(UTC) + timedelta(seconds=3)
    asked = {"code": "call_back_later", "callback_at": callback_at.isoformat(), "mine": True}
    disposed = await _post(client, "/disposition", asked)
    assert disposed["lead_state"] == LeadState.CALLBACK.value
    await _until(client, "on_call", timeout_s=20)  # its own callback, dialled for it once due (CB-1)
    assert time.time() >= callback_at.timestamp()
    await _until(client, "wrap_up", timeout_s=40)
    await _post(client, "/disposition", {"code": "sale"})
    assert _lead(database, number).state is LeadState.DONE

    abroad = await client.post(f"/agents/{AGENT}/call", json={"number": "+33142685300"})  # Paris
    assert abroad.status_code == 409 and "outside_reach" in abroad.json()["error"]  # reach: national
    hand_dialled = hand_dialled_number()  # maybe abroad too: whitelisted (DIAL-8)
    blocklist_store.add(
        database, BlockEntry(BlockKind.WHITELIST, hand_dialled), Change("qa", datetime.now(UTC))
    )
    placed = await _post(client, "/call", {"number": hand_dialled})  # click-to-call, then hang up
    await _until(client, "on_call")
    await asyncio.sleep(1.0)
    await _post(client, "/hangup")
    await _until(client, "wrap_up")
    await _post(client, "/disposition", {"code": "not_interested"})
    dnc = await client.post(f"/agents/{AGENT}/call", json={"number": setup.numbers[DNC_INDEXES[1]]})
    assert dnc.status_code == 409 and "dnc" in dnc.json()["error"]

    with database.session() as session:
        attempts = list(session.scalars(select(Attempt).order_by(Attempt.id)))
        callbacks = list(session.scalars(select(Callback)))
    assert [(a.e164, a.outcome) for a in attempts] == [
        (number, CallOutcome.ANSWERED),
        (number, CallOutcome.ANSWERED),
        (placed["e164"], CallOutcome.ANSWERED),
    ]
    assert all(a.connect_ms is not None and a.agent_id is not None for a in attempts)
    assert [c.state for c in callbacks] == [CallbackState.DONE]
    hand = attempts[2]
    assert hand.ended_at is not None and hand.bridged_at is not None
    assert (hand.ended_at - hand.bridged_at).total_seconds() < 5, "the agent's hang-up ended the call"
    agent_id = attempts[0].agent_id
    announcer = f"Local/801@{ANNOUNCE_CONTEXT}"
    assert announcements.joined == [(announcer, f"agent-{agent_id}")] * 3, "an announcer joined each call"
    # said in full on the two 15 s calls; the hand-dialled call was hung up 1 s in, and its
    # announcement with it
    assert announcements.said == ["801"] * 2
    assert not [c for c in await announcements.link.channels() if c.channel.startswith(announcer)]
    ours = {lead.e164 for lead in _leads(database)}  # the lab may carry other tests' calls meanwhile
    dialled = [c.number for c in lab.carrier_log(since=started - 1) if c.number in ours]
    assert sorted(dialled) == sorted([number, number, str(placed["e164"])])
