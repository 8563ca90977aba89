"""Shared set-up of the live dialer's lab tests: a 300-lead list, blocklists, bot agents, a campaign.

The leads' numbers encode the lab carrier's behaviour (`carrier_plan`); every 29th is on the DNC
list, leads 280-289 fall under a blacklisted prefix, and leads 290-299 live in a zone where it is
the middle of the night. The others live where it is early afternoon, whatever the time of the run.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone
from sqlalchemy import func, select

from campaigns import campaign_store
from campaigns.campaign_store import CampaignEvent
from campaigns.compliance import blocklist_store
from campaigns.compliance.blocklist import BlockEntry
from campaigns.compliance.blocklist_store import Change
from campaigns.config import CampaignSpec
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt
from campaigns.persistence.models.enums import BlockKind, BlockMatch
from dialer.asterisk.carrier_plan import zone_at_local_hour
from dialer.live.bot_agents import create_lab_agents
from dialer.live.lab_lists import add_lab_list

CAMPAIGN = "e2e"
AGENTS = [f"bot{n}" for n in range(1, 6)]
WRAP_S = 1.0
DNC_INDEXES = range(0, 300, 29)  # every 29th lead: on the DNC list
BLACKLIST_PREFIX = "+861399"  # leads 280-289 are dialled under this prefix
NIGHT_INDEXES = range(290, 300)  # in a zone where it is the middle of the night
MAX_LINES = 12  # low enough for the pacer to reach it with 5 agents
# Numbers the carrier answers as a human who talks 15 s (last digits 1201), in zones around the
# world: a test dials by hand the first one where it is now mid-day (calling hours 09-21).
HAND_DIALLED = ("+442079461201", "+12125551201", "+8613800131201", "+61298761201")


def lead_number(index: int) -> str:
    """Lead `index`'s number: unique middle digits, then K T R D for the carrier (talk ≤ 15 s, ring ≤ 3 s)."""
    k, t, r, d = 1 + index % 9, index % 3, 1 + index % 3, index % 10
    prefix = BLACKLIST_PREFIX if 280 <= index < 290 else "+861380"
    return f"{prefix}{index:04d}{k}{t}{r}{d}"


def hand_dialled_number() -> str:
    """The first of `HAND_DIALLED` where it is now mid-day (whitelist it: it may be abroad, DIAL-8)."""
    for number in HAND_DIALLED:
        [zone] = timezone.time_zones_for_number(phonenumbers.parse(number))
        if 10 <= datetime.now(ZoneInfo(zone)).hour < 19:
            return number
    raise AssertionError("no candidate number is in its calling hours now")


@dataclass
class Setup:
    database: Database
    numbers: dict[int, str]
    night: set[str]
    blocked: set[str]


def prepare(database: Database, now: datetime, mode: str = "predictive", *, announce: bool = False) -> Setup:
    """The list, blocklists, agents and a started campaign; `announce`: agents have numbers 801, ...
    announced to each customer after the prompt `beep` (AGT-5)."""
    change = Change(CAMPAIGN, now)
    day_zone, night_zone = zone_at_local_hour(14, now), zone_at_local_hour(2, now)
    numbers = {i: lead_number(i) for i in range(300)}
    zones = {number: night_zone if i in NIGHT_INDEXES else day_zone for i, number in numbers.items()}
    add_lab_list(database, CAMPAIGN, zones, now)
    blocked = {numbers[i] for i in DNC_INDEXES}
    for number in sorted(blocked):
        blocklist_store.add(database, BlockEntry(BlockKind.DNC, number, reason="asked"), change)
    prefix = BlockEntry(BlockKind.BLACKLIST, BLACKLIST_PREFIX, BlockMatch.PREFIX, reason="fraud range")
    blocklist_store.add(database, prefix, change)
    blocked |= {n for n in numbers.values() if n.startswith(BLACKLIST_PREFIX)}
    create_lab_agents(database, "bots", AGENTS, change, numbered=announce)
    spec = CampaignSpec.parse(
        {
            "dial_mode": mode,
            "caller_id": "4008001234",
            "group": "bots",
            "preset": "cn",
            "amd": True,
            "abandon_message": "vm-goodbye",
            "lists": [{"name": CAMPAIGN}],
            "max_lines": MAX_LINES,
        }
        | ({"announce_agent_number": True, "announce_prompt": "beep"} if announce else {})
    )
    campaign_store.create(database, CAMPAIGN, spec, change, trunks=["carrier"])
    campaign_store.change_state(database, CAMPAIGN, CampaignEvent.START, change, trunks=["carrier"])
    return Setup(database, numbers, {numbers[i] for i in NIGHT_INDEXES}, blocked)


async def wait_for_calls_to_end(database: Database, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with database.session() as session:
            if not session.scalar(select(func.count()).where(Attempt.ended_at.is_(None))):
                return
        await asyncio.sleep(0.5)
    raise AssertionError(f"calls still up {timeout_s:.0f}s after the campaign was paused")
