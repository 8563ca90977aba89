"""What an inbound arrival looks up (IVR-1): the DID's flow, parsed once per version and the newest
version picked up at once, and the caller's number read in the default region."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns import ivr_store as store
from campaigns.persistence.db import Database
from dialer.ivr.did_plan import DidPlan
from dialer.ivr.flow import Flow, QueueNode, parse_flow
from dialer.live import flow_cache
from dialer.live.flow_cache import FlowCache
from dialer.live.inbound_lookup import look_up
from ringcast.errors import UserError
from tests.db.test_ivr_store import CHANGE, GOOD, NIGHT

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
