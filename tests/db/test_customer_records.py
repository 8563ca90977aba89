"""The customer record an agent saves for the caller of an inbound call it answered (AGT-3): a new
lead of a list no campaign dials for an unknown caller, the latest lead's attributes for a known one,
audited; the next call from that number shows it on the screen pop; refusals write nothing. Also
through the control API (`PUT /agents/NAME/calls/CALL/customer`), on a stand-in dialer whose
database thread is the engine's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import func, select

from campaigns import control_store, inbound_store
from campaigns.control_store import ControlRecord
from campaigns.customer_records import ACTION, INBOUND_LIST, CustomerRecord, save_for_call
from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, CampaignList, ContactList, InboundCall, Lead
from campaigns.persistence.models.enums import LeadState, NumberType
from campaigns.place_store import place_of
from dialer.live.dbthread import DatabaseThread
from dialer.live.desk import AgentDesk
from dialer.live.screen_facts import inbound_facts
from dialer.live.screen_feed import ScreenFeed
from dialer.live.service import LiveDialer
from ringcast.errors import UserError
from tests.db.rows import NOW, Seed
from tests.db.test_queue_store import add_agents
from web.api import create_app

pytestmark = pytest.mark.db

STRANGER = "+8613912345678"  # no lead has it: a 中国移动 mobile of 江苏
KNOWN = "+8613800138000"  # the seed's lead
RECORD = CustomerRecord(name="韩梅梅", attributes={"company": "星辰科技", "note": "asks for invoices"})
TOKEN = "s3cret-token"


def _answered(database: Database, uniqueid: str, caller: str, agent_id: int | None, minutes: int = 0) -> str:
    """An inbound call from `caller`, answered by `agent_id` (None: by nobody)."""
    call_id = inbound_store.open_call(
        database,
        uniqueid=uniqueid,
        linkedid=None,
        did="4008001000",
        caller=caller,
        region=None,
        arrived_at=NOW + timedelta(minutes=minutes),
    )
    if agent_id is not None:
        inbound_store.answer(database, call_id, agent_id, NOW + timedelta(minutes=minutes, seconds=5))
    return uniqueid


def _written(database: Database) -> tuple[int, ...]:
    """Leads, lists and audit rows."""
    with database.session() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Lead, ContactList, AuditEntry)
        )


def test_an_unknown_callers_record_is_a_new_lead_no_campaign_dials_and_its_next_call_shows_it(
    database: Database, seed: Seed
) -> None:
    agents = add_agents(database, "bot1")
    first = _answered(database, "1700000000.1", STRANGER, agents["bot1"])
    assert inbound_facts(database, first)["known"] is False

    saved = save_for_call(database, "bot1", first, RECORD, NOW)

    expected = {"company": "星辰科技", "note": "asks for invoices", "name": "韩梅梅"}
    assert saved == {"lead_id": saved["lead_id"], "created": True, "customer": expected}
    with database.session() as session:
        lead = session.get_one(Lead, saved["lead_id"])
        contacts = session.get_one(ContactList, lead.list_id)
        attached = session.scalar(select(CampaignList).where(CampaignList.list_id == contacts.id))
        assert (contacts.name, attached) == (INBOUND_LIST, None)
        assert (lead.e164, lead.state, lead.number_type) == (STRANGER, LeadState.NEW, NumberType.MOBILE)
        place = place_of(session, lead)
        assert (place.region, place.carrier, lead.time_zones) == ("江苏省", "中国移动", ["Asia/Shanghai"])
        audit = session.scalars(select(AuditEntry)).one()
    assert (audit.actor, audit.action, audit.entity, audit.entity_id) == (
        "agent:bot1",
        ACTION,
        "lead",
        str(lead.id),
    )
    assert audit.details == {"call": first, "created": True, "fields": ["company", "name", "note"]}
    assert "韩梅梅" not in str(audit.details), "the record stays in the lead"

    following = _answered(database, "1700000000.2", STRANGER, None, minutes=30)
    facts = inbound_facts(database, following)
    assert (facts["known"], facts["lead_id"], facts["customer"]) == (True, lead.id, expected)


def test_a_known_callers_latest_lead_gets_the_fields_and_keeps_its_other_attributes(
    database: Database, seed: Seed
) -> None:
    with database.session() as session:
        session.get_one(Lead, seed.lead_id).attributes = {"tags": "vip", "name": "李雷"}
    agents = add_agents(database, "bot1")
    call = _answered(database, "1700000000.1", KNOWN, agents["bot1"])

    saved = save_for_call(
        database, "bot1", call, CustomerRecord(name="李雷雷", attributes={"city": "广州"}), NOW
    )

    record = {"tags": "vip", "name": "李雷雷", "city": "广州"}
    assert saved == {"lead_id": seed.lead_id, "created": False, "customer": record}
    again = save_for_call(database, "bot1", call, CustomerRecord(name="李雷"), NOW)
    assert again["customer"] == record | {"name": "李雷"}, "saved twice: the same lead, fields replaced"
    following = _answered(database, "1700000000.2", KNOWN, None, minutes=30)
    facts = inbound_facts(database, following)
    assert (facts["known"], facts["lead_id"], facts["customer"]) == (True, seed.lead_id, again["customer"])
    assert _written(database) == (1, 1, 2), "no new lead or list; one audit row per save"


def test_a_caller_first_recorded_then_recorded_again_keeps_one_lead(database: Database, seed: Seed) -> None:
    agents = add_agents(database, "bot1", "bot2")
    first = _answered(database, "1700000000.1", STRANGER, agents["bot1"])
    second = _answered(database, "1700000000.2", STRANGER, agents["bot2"], minutes=30)
    created = save_for_call(database, "bot1", first, RECORD, NOW)
    updated = save_for_call(database, "bot2", second, CustomerRecord(name="韩梅"), NOW)
    assert (updated["lead_id"], updated["created"]) == (created["lead_id"], False)
    assert updated["customer"]["name"] == "韩梅" and updated["customer"]["company"] == "星辰科技"


def test_an_agent_given_the_call_by_a_transfer_saves_the_record(database: Database, seed: Seed) -> None:
    """bot1 answered first; bot2 took the call from the queue bot1 transferred it to; bot3 got it by
    a blind transfer, bot4 by an attended one. bot5, only consulted (cancelled), and a transfer of
    another call to bot5, give it nothing."""
    agents = add_agents(database, "bot1", "bot2", "bot3", "bot4", "bot5")
    call = _answered(database, "1700000000.1", STRANGER, agents["bot1"])
    with database.session() as session:
        call_id = session.scalar(select(InboundCall.id).where(InboundCall.uniqueid == call))
    assert call_id is not None
    inbound_store.enter_queue(database, call_id, "sales", NOW + timedelta(minutes=1), priority=0)
    inbound_store.answer(database, call_id, agents["bot2"], NOW + timedelta(minutes=2))
    controls = [
        (call, "bot1", "transfer", "queue:sales"),
        (call, "bot2", "transfer", "agent:bot3"),
        (call, "bot3", "consult", "agent:bot4"),
        (call, "bot3", "complete", "agent:bot4"),
        (call, "bot4", "consult", "agent:bot5"),
        (call, "bot4", "cancel", "agent:bot5"),
        ("1700000000.9", "bot4", "transfer", "agent:bot5"),
    ]
    for row, (channel, by, control, target) in enumerate(controls):
        at = NOW + timedelta(minutes=3 + row)
        control_store.record_control(database, ControlRecord(at, agents[by], channel, control, target, None))
    for name in ("bot1", "bot2", "bot3", "bot4"):
        assert save_for_call(database, name, call, RECORD, NOW)["customer"]["name"] == "韩梅梅"
    with pytest.raises(UserError, match="not agent bot5's: it did not answer it"):
        save_for_call(database, "bot5", call, RECORD, NOW)


@pytest.mark.parametrize(
    ("agent", "call", "refusal"),
    [
        ("nobody", "1700000000.1", "no agent named 'nobody'"),
        ("bot1", "1700000099.9", "no inbound call '1700000099.9'"),
        ("bot2", "1700000000.1", "inbound call 1700000000.1 is not agent bot2's: it did not answer it"),
        ("bot1", "1700000000.2", "inbound call 1700000000.2 is not agent bot1's: it did not answer it"),
        ("bot1", "1700000000.3", "the caller's number 'anonymous' is withheld or not valid"),
    ],
)
def test_a_record_for_a_call_that_is_not_the_agents_or_a_caller_with_no_number_writes_nothing(
    database: Database, seed: Seed, agent: str, call: str, refusal: str
) -> None:
    agents = add_agents(database, "bot1", "bot2")
    _answered(database, "1700000000.1", STRANGER, agents["bot1"])
    _answered(database, "1700000000.2", STRANGER, None)  # lost in the queue
    _answered(database, "1700000000.3", "anonymous", agents["bot1"])
    before = _written(database)
    with pytest.raises(UserError, match=refusal):
        save_for_call(database, agent, call, RECORD, NOW)
    assert _written(database) == before


@pytest.fixture
async def api(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The control API on a stand-in dialer: the engine's database thread on `database`."""
    dialer = SimpleNamespace(desk=AgentDesk(), database=database, db=DatabaseThread(database))
    dialer.screen = ScreenFeed(cast(LiveDialer, dialer))
    app = create_app(cast(LiveDialer, dialer), TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=headers) as client:
            yield client
    finally:
        dialer.db.close()


async def _put(api: httpx.AsyncClient, agent: str, call: str, body: Any) -> httpx.Response:
    path = f"/agents/{agent}/calls/{call}/customer"
    if isinstance(body, bytes):
        return await api.put(path, content=body, headers={"content-type": "application/json"})
    return await api.put(path, json=body)


async def test_the_agent_desktop_saves_the_record_over_the_api(
    database: Database, api: httpx.AsyncClient
) -> None:
    agents = add_agents(database, "bot1")
    call = _answered(database, "1700000000.1", STRANGER, agents["bot1"])
    body = {"name": " 韩梅梅 ", "attributes": {"company": "星辰科技"}}
    path = f"/agents/bot1/calls/{call}/customer"
    stranger = await api.put(path, json=body, headers={"Authorization": "Bearer guess"})
    assert (stranger.status_code, _written(database)) == (401, (0, 0, 0))
    response = await _put(api, "bot1", call, body)
    assert response.status_code == 200
    assert response.json() | {"lead_id": 0} == {
        "lead_id": 0,
        "created": True,
        "customer": {"company": "星辰科技", "name": "韩梅梅"},
    }
    following = _answered(database, "1700000000.2", STRANGER, None, minutes=30)
    assert inbound_facts(database, following)["customer"] == {"company": "星辰科技", "name": "韩梅梅"}


@pytest.mark.parametrize(
    ("agent", "body", "status", "error"),
    [
        ("nobody", {"name": "韩梅梅"}, 409, "no agent named 'nobody' (`ringcast agent list` shows them)"),
        (
            "bot2",
            {"name": "韩梅梅"},
            409,
            "inbound call 1700000000.1 is not agent bot2's: it did not answer it",
        ),
        ("bot1", b'{"name": "', 422, "body: JSON decode error"),
        (
            "bot1",
            ["韩梅梅"],
            422,
            "body: Input should be a valid dictionary or object to extract fields from",
        ),
        ("bot1", {"name": "  "}, 422, "name: String should have at least 1 character"),
        ("bot1", {"name": "韩" * 101}, 422, "name: String should have at most 100 characters"),
        (
            "bot1",
            {"name": "韩梅梅", "attributes": {"note": "x" * 501, "k" * 65: "v"}},
            422,
            "attributes.note: String should have at most 500 characters (and 1 more)",
        ),
        (
            "bot1",
            {"name": "韩梅梅", "attributes": {f"k{n}": "v" for n in range(51)}},
            422,
            "attributes: Dictionary should have at most 50 items after validation, not more",
        ),
        (
            "bot1",
            {"name": "韩梅梅", "attributes": {"age": 30}},
            422,
            "attributes.age: Input should be a valid string",
        ),
        (
            "bot1",
            {"name": "韩梅梅", "attributes": {"name": "韩"}},
            422,
            "body: Value error, give the name as `name`, not among the attributes",
        ),
        ("bot1", {"name": "韩梅梅", "phone": "+8613912345678"}, 422, "phone: Extra inputs are not permitted"),
    ],
)
async def test_a_refused_request_gets_one_line_of_error_and_writes_nothing(
    database: Database, api: httpx.AsyncClient, agent: str, body: Any, status: int, error: str
) -> None:
    agents = add_agents(database, "bot1", "bot2")
    call = _answered(database, "1700000000.1", STRANGER, agents["bot1"])
    before = _written(database)
    response = await _put(api, agent, call, body)
    assert (response.status_code, response.json()) == (status, {"error": error})
    assert _written(database) == before
