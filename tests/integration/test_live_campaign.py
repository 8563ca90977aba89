"""End to end on the lab: a predictive campaign dialed by the engine through the real pbx and SIP trunk.

Five bot agents (`dialer.live.bot_agents`) log in over the control API (their phones are the
carrier's auto-answering `agent-<name>` numbers), take the bridged calls, and give a disposition
after a short wrap-up.
300 leads encode the carrier's behaviour in their last digits (`carrier_plan`); some are on the
DNC list or blacklisted, some live in a zone where it is the middle of the night. The carrier's
own log of the calls it received is the ground truth every assertion is checked against.

The campaign runs `RINGCAST_E2E_SECONDS` (default 180, the issue's three minutes).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from campaigns import campaign_store
from campaigns.campaign_store import CampaignEvent
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, AuditEntry, Lead
from campaigns.persistence.models.enums import CallOutcome, LeadState
from dialer.asterisk.carrier_log import peak_concurrent
from dialer.asterisk.carrier_plan import Outcome, behaviour_for
from dialer.asterisk.lab import Lab
from dialer.engine import running_engine
from dialer.live.bot_agents import BotAgents
from ringcast.settings import load_settings
from tests.support.live_campaign import (
    AGENTS,
    MAX_LINES,
    WRAP_S,
    Setup,
    prepare,
    wait_for_calls_to_end,
)

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]

RUN_S = float(os.environ.get("RINGCAST_E2E_SECONDS", "180"))


@pytest.fixture
async def engine_api(lab: Lab, tmp_path) -> AsyncIterator[tuple[Setup, httpx.AsyncClient]]:  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    database.upgrade()
    setup = prepare(database, datetime.now(UTC))
    async with running_engine(database, load_settings()) as client:
        yield setup, client
    database.dispose()


async def test_predictive_campaign_on_the_lab_matches_the_carriers_log(
    engine_api: tuple[Setup, httpx.AsyncClient], lab: Lab
) -> None:
    setup, client = engine_api
    database = setup.database
    started = time.time()
    bots = BotAgents(client, AGENTS, "e2e", wrap_s=WRAP_S)
    await bots.start()
    await asyncio.sleep(RUN_S)
    why = (await client.get("/campaigns/e2e/why")).json()
    status = (await client.get("/campaigns/e2e/status")).json()
    campaign_store.change_state(database, "e2e", CampaignEvent.PAUSE, Change("e2e", datetime.now(UTC)))
    await wait_for_calls_to_end(database, 60)
    await asyncio.sleep(WRAP_S + 1.0)  # the last dispositions
    await bots.stop()

    with database.session() as session:
        leads = {lead.e164: lead for lead in session.scalars(select(Lead))}
        attempts = list(session.scalars(select(Attempt)))
        refusals = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "dial.refused")))
    carrier = [c for c in lab.carrier_log(since=started - 1) if c.number in leads]  # not other tests' calls

    # Every lead is accounted for: nothing stuck in the hopper or in a call, attempts match the leads.
    assert len(leads) == 300
    in_between = {LeadState.QUEUED, LeadState.DIALING}
    assert [e for e, lead in leads.items() if lead.state in in_between] == []
    per_lead = Counter(a.lead_id for a in attempts)
    assert all(lead.attempt_count == per_lead[lead.id] for lead in leads.values())
    assert all(a.ended_at is not None and a.outcome is not None for a in attempts)
    outcomes = Counter(str(a.outcome) for a in attempts)
    assert len(attempts) >= RUN_S / 3, f"{len(attempts)} attempts: {outcomes}, {why}, {status}"

    # Compliance at dial time: no blocked number and no number in its night reached the carrier.
    dialled = Counter(c.number for c in carrier)
    assert not set(dialled) & setup.blocked
    assert not set(dialled) & setup.night
    refused = {(entry.details["e164"], entry.details["reason"]) for entry in refusals}
    assert {e for e, reason in refused if reason == "outside_calling_hours"} <= setup.night
    assert all(leads[e].state is LeadState.DNC_BLOCKED for e, r in refused if r in ("dnc", "blacklisted"))

    # Attempts match the carrier's count, number by number (an originate that failed never got there).
    placed = Counter(a.e164 for a in attempts if a.outcome is not CallOutcome.CANCELLED)
    assert placed == dialled
    assert peak_concurrent(carrier) <= MAX_LINES, "every call up holds one of the campaign's lines"

    # Outcomes match the carrier's plan.
    for attempt in attempts:
        planned = behaviour_for(attempt.e164).outcome
        if planned in (Outcome.BUSY,):
            assert attempt.outcome is CallOutcome.BUSY, attempt.e164
        elif planned in (Outcome.CONGESTION, Outcome.INVALID):
            assert attempt.outcome is CallOutcome.FAILED, attempt.e164
        elif planned is Outcome.NO_ANSWER:
            assert attempt.outcome in (CallOutcome.NO_ANSWER, CallOutcome.CANCELLED), attempt.e164

    # Abandoned calls match the carrier's view: a human answered and the call ended before the
    # customer's own hang-up time (we played the message and hung up), and the other way round.
    by_number = {c.number: c for c in carrier}
    cut_short = {
        c.number
        for c in carrier
        if c.planned == Outcome.HUMAN.value
        and c.answered_at is not None
        and c.ended_at is not None
        and c.ended_at - c.answered_at < behaviour_for(c.number).talk_s - 1.0
    }
    abandoned = {a.e164 for a in attempts if a.outcome is CallOutcome.ABANDONED}
    bridged = [a for a in attempts if a.bridged_at is not None]
    assert abandoned <= {n for n in by_number if by_number[n].answered_at is not None}
    assert {n for n in cut_short if behaviour_for(n).outcome is Outcome.HUMAN} - abandoned <= {
        a.e164
        for a in attempts
        if a.outcome is CallOutcome.NO_ANSWER  # hung up during AMD
    }
    assert bridged, "no call reached an agent"
    assert all(a.connect_ms is not None and a.agent_id is not None for a in bridged)
    assert sum(bots.served.values()) >= len(bridged) - len(AGENTS)
    answered_leads = [leads[a.e164] for a in bridged]
    assert all(lead.state is not LeadState.ANSWERED for lead in answered_leads), "a disposition was lost"
    assert status["running"] and "reasons" in why
    delays = sorted(a.connect_ms for a in bridged if a.connect_ms is not None)
    p50, worst = delays[len(delays) // 2], delays[-1]
    print(f"\n{len(attempts)} attempts {dict(outcomes)}; connect_ms p50 {p50}, max {worst}")
