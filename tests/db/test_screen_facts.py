"""What a screen pop reads of a call offered to an agent (AGT-3): the customer record, the trail, the
lead card and the number's recent history, both directions, the offered call left out, bounded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns import inbound_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, Lead
from campaigns.persistence.models.enums import CallOutcome, InboundOutcome
from campaigns.place_store import PlaceTexts, place_id
from dialer.live.screen_facts import inbound_facts, outbound_facts
from tests.db.rows import NOW, Seed
from tests.db.test_queue_store import add_agents

pytestmark = pytest.mark.db

NUMBER = "+8613800138000"  # the seed's lead: a 中国移动 mobile
RECORD = {"name": "李雷", "tags": "vip"}


def _attempt(
    database: Database, seed: Seed, minutes: int, uniqueid: str, agent_id: int | None, ended: bool = True
) -> None:
    dialed = NOW + timedelta(minutes=minutes)
    with database.session() as session:
        session.add(
            Attempt(
                lead_id=seed.lead_id,
                campaign_id=seed.campaign_id,
                e164=NUMBER,
                dialed_at=dialed,
                ended_at=dialed + timedelta(minutes=1) if ended else None,
                outcome=CallOutcome.ANSWERED if agent_id else CallOutcome.NO_ANSWER,
                agent_id=agent_id,
                uniqueid=uniqueid,
            )
        )


def _inbound(database: Database, minutes: int, uniqueid: str, caller: str = NUMBER) -> int:
    return inbound_store.open_call(
        database,
        uniqueid=uniqueid,
        linkedid=None,
        did="4008001000",
        caller=caller,
        region="广东省",
        arrived_at=NOW + timedelta(minutes=minutes),
    )


@pytest.fixture
def history(database: Database, seed: Seed) -> dict[str, int]:
    """The seed's lead with a record; an unanswered attempt, an inbound call answered by bot1, an
    attempt bot2 answered, then the calls being offered (one either way)."""
    with database.session() as session:
        session.get_one(Lead, seed.lead_id).attributes = RECORD
    agents = add_agents(database, "bot1", "bot2")
    _attempt(database, seed, 0, "rc-1", None)
    answered = _inbound(database, 10, "1700000000.1")
    inbound_store.answer(database, answered, agents["bot1"], NOW + timedelta(minutes=10))
    inbound_store.end_call(database, answered, NOW + timedelta(minutes=12), InboundOutcome.ANSWERED)
    _attempt(database, seed, 20, "rc-2", agents["bot2"])
    _attempt(database, seed, 30, "rc-3", None, ended=False)  # offered now
    offered = _inbound(database, 30, "1700000000.2")
    inbound_store.record_trail(
        database,
        offered,
        "hotline",
        {"flow": "hotline", "path": ["main", "sales"], "inputs": [], "outcome": "x"},
    )
    return agents


def _when(minutes: int) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat()


def test_an_inbound_caller_with_a_lead_shows_its_record_its_trail_and_its_last_calls(
    database: Database, history: dict[str, int]
) -> None:
    facts = inbound_facts(database, "1700000000.2", history=2)
    assert facts.pop("lead_id") is not None
    assert facts == {
        "did": "4008001000",
        "city": None,  # a mobile: its province only
        "carrier": "中国移动",
        "ivr": {"flow": "hotline", "path": ["main", "sales"], "inputs": [], "variables": None},
        "known": True,
        "customer": RECORD,
        "history": [
            {
                "at": _when(30),
                "direction": "outbound",
                "outcome": "no_answer",
                "agent": None,
                "campaign": "秋季回访",
            },
            {
                "at": _when(20),
                "direction": "outbound",
                "outcome": "answered",
                "agent": "bot2",
                "campaign": "秋季回访",
            },
        ],
    }
    assert inbound_facts(database, "1700000000.2")["history"][2:] == [
        {"at": _when(10), "direction": "inbound", "outcome": "answered", "agent": "bot1", "queue": None},
        {
            "at": _when(0),
            "direction": "outbound",
            "outcome": "no_answer",
            "agent": None,
            "campaign": "秋季回访",
        },
    ]


def test_an_unknown_caller_has_an_empty_record_to_fill_in(database: Database, seed: Seed) -> None:
    _inbound(database, 0, "1700000000.9", caller="+8613902880000")
    facts = inbound_facts(database, "1700000000.9")
    assert (facts["known"], facts["lead_id"], facts["customer"], facts["history"]) == (False, None, {}, [])
    assert facts["ivr"] is None


def test_an_outbound_call_shows_its_campaign_and_lead_card_and_not_itself_in_the_history(
    database: Database, seed: Seed, history: dict[str, int]
) -> None:
    beijing = PlaceTexts("北京市", None, "中国移动", "Beijing", None, "China Mobile")
    with database.session() as session:
        session.get_one(Lead, seed.lead_id).place_id = place_id(session.connection(), beijing)
    facts = outbound_facts(database, "rc-3", history=1)
    assert facts["campaign"] == "秋季回访"
    assert (facts["lead"]["lead_id"], facts["lead"]["e164"], facts["lead"]["attributes"]) == (
        seed.lead_id,
        NUMBER,
        RECORD,
    )
    assert (facts["lead"]["region"], facts["lead"]["city"], facts["lead"]["carrier"]) == (
        "北京市",
        None,
        "中国移动",
    )
    assert facts["history"] == [
        {"at": _when(30), "direction": "inbound", "outcome": None, "agent": None, "queue": None}
    ]
