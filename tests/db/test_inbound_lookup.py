"""What an inbound arrival looks up (IVR-1): the DID's flow, parsed once per version and the newest
version picked up at once, the caller's number read in the default region, and (`arrive`) the
call's record opened once per channel with the agent who last served the caller (ACD-4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns import inbound_store
from campaigns import ivr_store as store
from campaigns.persistence.db import Database
from campaigns.persistence.models import InboundCall
from dialer.ivr.did_plan import DidPlan
from dialer.ivr.flow import Flow, QueueNode, parse_flow
from dialer.live import flow_cache
from dialer.live.flow_cache import FlowCache
from dialer.live.inbound_lookup import arrive, look_up
from ringcast.errors import UserError
from tests.db.test_ivr_store import CHANGE, GOOD, NIGHT
from tests.db.test_queue_store import add_agents

pytestmark = pytest.mark.db

DID = "4008001000"
AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the flows the cache parses, in order."""
    parsed: list[str] = []

    def counted(text: str, source: str = "document") -> Flow:
        parsed.append(source)
        return parse_flow(text, source)

    monkeypatch.setattr(flow_cache, "parse_flow", counted)
    return parsed


def test_a_flow_version_is_parsed_once_and_a_new_version_at_the_next_call(
    database: Database, parses: list[str]
) -> None:
    store.save_flow(database, GOOD, CHANGE, new=True, activate=True)
    store.set_number(database, DID, DidPlan(flow="day"), CHANGE)
    flows = FlowCache()
    first = look_up(database, flows, DID, "13800138000", AT, "CN").flow
    again = look_up(database, flows, DID, "13800138000", AT, "CN").flow
    assert first is not None and again is not None
    assert (first.version, again.version, parses) == (1, 1, ["day"])
    assert again.flow is first.flow and again.document == GOOD

    changed = GOOD.replace("queue: sales", "queue: sales, priority: 3")
    store.save_flow(database, changed, CHANGE, new=False)  # active: the new version is at once
    newest = look_up(database, flows, DID, "13800138000", AT, "CN").flow
    assert newest is not None and (newest.version, newest.document) == (2, changed)
    sales = newest.flow.nodes["sales"]
    assert isinstance(sales, QueueNode) and sales.priority == 3
    assert parses == ["day", "day"]
    look_up(database, flows, DID, "13800138000", AT, "CN")
    assert parses == ["day", "day"]


def test_the_cache_keeps_the_most_recently_used_versions_only(database: Database, parses: list[str]) -> None:
    store.save_flow(database, GOOD, CHANGE, new=True, activate=True)
    store.save_flow(database, NIGHT, CHANGE, new=True, activate=True)
    flows = FlowCache(size=1)
    with database.session() as session:
        for name in ("day", "day", "night", "day"):
            assert flows.get(session, name).name == name
        with pytest.raises(UserError, match=r"no IVR flow named 'gone'"):
            flows.get(session, "gone")
    assert parses == ["day", "night", "day"]


def test_the_caller_is_read_in_the_default_region_or_kept_as_the_network_gave_it(database: Database) -> None:
    national = look_up(database, FlowCache(), DID, "02088881234", AT, "CN").caller
    assert (national.number, national.region) == ("+862088881234", "广东省")
    foreign = look_up(database, FlowCache(), DID, "2079460018", AT, "GB").caller
    assert (foreign.number, foreign.region) == ("+442079460018", "英国")
    for withheld in ("anonymous", "", "10086"):
        caller = look_up(database, FlowCache(), DID, withheld, AT, "CN").caller
        assert (caller.number, caller.region, caller.tags) == (withheld, None, frozenset())
    unknown_did = look_up(database, FlowCache(), DID, "13800138000", AT, "CN")
    assert (unknown_did.flow, unknown_did.message) == (None, store.DEFAULT_MESSAGE)


def test_an_arrival_opens_the_call_once_and_knows_who_served_the_caller_last(database: Database) -> None:
    agent = add_agents(database, "wang")["wang"]
    first, first_id = arrive(
        database, FlowCache(), DID, "13800138000", AT, "CN", uniqueid="1.1", linkedid=None
    )
    assert first.last_served is None, "a first-time caller"
    inbound_store.answer(database, first_id, agent, AT)
    _, again_id = arrive(database, FlowCache(), DID, "13800138000", AT, "CN", uniqueid="1.1", linkedid=None)
    assert again_id == first_id, "the same channel's record, not a second one"
    later = AT + timedelta(days=1)
    repeat, repeat_id = arrive(
        database, FlowCache(), DID, "13800138000", later, "CN", uniqueid="1.2", linkedid="1.2"
    )
    assert repeat_id != first_id and repeat.last_served == (agent, AT)
    with database.session() as session:
        call = session.get_one(InboundCall, repeat_id)
        assert (call.caller, call.did, call.linkedid, call.region) == ("+8613800138000", DID, "1.2", "北京市")
