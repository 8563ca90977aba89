"""An outbound customer going on as an inbound call (a transfer to a queue, a flow's end at a queue):
`CallControls.as_inbound` on a real engine service and database, the pbx's events fed by hand (the
AMI link is never connected: no action is sent).

Switched over, the customer is followed as an inbound call from the first moment (its leg is kept, so
its hang-up ends the inbound record); a customer who hangs up while its record is being opened ends
its attempt and that record, and is followed no more (before the fix it stayed followed, an inbound
call that never ended).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, InboundCall, Lead
from campaigns.persistence.models.enums import CallOutcome, InboundOutcome, LeadState
from dialer.asterisk.ami import AmiEndpoint, AmiLink
from dialer.asterisk.events import ChannelHungUp
from dialer.calls.outbound import CallState, OutboundCall
from dialer.live.service import LiveDialer
from tests.db.rows import Seed

pytestmark = pytest.mark.db

CHANNEL = "PJSIP/carrier-00000007"


@pytest.fixture
async def dialer(database: Database, seed: Seed) -> AsyncIterator[LiveDialer]:
    """The engine's service with one outbound customer bridged (to an agent since gone)."""
    service = LiveDialer(database, AmiLink(AmiEndpoint("127.0.0.1", 9, "nobody", "unused")))
    now = datetime.now(UTC)
    with database.session() as session:
        session.get_one(Lead, seed.lead_id).state = LeadState.DIALING
        attempt = Attempt(
            lead_id=seed.lead_id, campaign_id=seed.campaign_id, e164="+8613800138000", dialed_at=now
        )
        session.add(attempt)
        session.flush()
        attempt_id = attempt.id
    channel_id = service.channel_ids.call_prefix + str(attempt_id)
    at = time.time()
    service.calls[channel_id] = OutboundCall(
        attempt_id, seed.lead_id, seed.campaign_id, channel_id, at - 30, state=CallState.BRIDGED,
        answered_at=at - 20, human_at=at - 20, bridged_at=at - 19,
    )  # fmt: skip
    service.follow_leg(channel_id, CHANNEL)
    yield service
    service.db.close()


def _hung_up(channel_id: str) -> ChannelHungUp:
    return ChannelHungUp(time.time(), channel_id, channel_id, CHANNEL, 16, "Normal Clearing")


def _records(database: Database) -> list[InboundCall]:
    with database.session() as session:
        found = list(session.scalars(select(InboundCall)))
        session.expunge_all()
        return found


def _attempt(database: Database) -> Attempt:
    with database.session() as session:
        attempt = session.scalars(select(Attempt)).one()
        session.expunge(attempt)
        return attempt


async def _settled(dialer: LiveDialer) -> None:
    """Every write queued so far done (the database thread runs jobs in order)."""
    await asyncio.sleep(0)
    await dialer.db.run(lambda: None)


async def test_switched_over_the_customer_is_followed_as_an_inbound_call(
    dialer: LiveDialer, database: Database
) -> None:
    [channel_id] = dialer.calls
    inbound = await dialer.controls.as_inbound(channel_id)
    assert inbound is not None
    assert (inbound.caller, dialer.inbound.calls) == ("+8613800138000", {channel_id: inbound})
    assert channel_id not in dialer.calls
    inbound.last_served = (7, datetime.now(UTC))  # as if the caller had called in before
    again = await dialer.controls.as_inbound(channel_id)
    assert again is inbound and again.last_served is None, "sent on by its agent: no caller memory"
    assert dialer.channel_name(channel_id) == CHANNEL, "its leg is kept: its hang-up will be seen"
    await _settled(dialer)
    attempt = _attempt(database)
    assert (attempt.outcome, attempt.ended_at is not None) == (CallOutcome.ANSWERED, True)
    [record] = _records(database)
    assert (record.did, record.caller, record.ended_at) == ("transfer", "+8613800138000", None)

    await dialer._on_event(_hung_up(channel_id))
    await _settled(dialer)
    assert dialer.inbound.calls == {}
    [record] = _records(database)
    assert record.outcome is InboundOutcome.IVR_ONLY, "ended by the hang-up (it never reached the queue)"


async def test_a_customer_hanging_up_while_its_record_opens_ends_it(
    dialer: LiveDialer, database: Database
) -> None:
    [channel_id] = dialer.calls
    switching = asyncio.create_task(dialer.controls.as_inbound(channel_id))
    await asyncio.sleep(0)  # as_inbound now awaits its database job
    await dialer._on_event(_hung_up(channel_id))
    assert await switching is None
    await _settled(dialer)
    assert (dialer.calls, dialer.inbound.calls, dialer.legs) == ({}, {}, {}), "nothing followed any more"
    assert _attempt(database).ended_at is not None
    [record] = _records(database)
    assert (record.ended_at is not None, record.outcome) == (True, InboundOutcome.IVR_ONLY)
    assert await dialer.controls.as_inbound(channel_id) is None, "a call gone is not switched over"
