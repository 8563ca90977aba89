"""Readers coming back to an agent's screen pops (AGT-3, `Last-Event-ID`): the kept events after the
reader's last, then the live ones, in order, none twice, none between; `missed` when they are not
all kept; ids counted for every agent, restored after a restart, and what the journal is told.
Off the engine: events are published by hand with fixed instants."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from dialer.live.screen_pop import OFFERED, STATE, Kept, ScreenEvent, ScreenPops, Subscription, kept_after

AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


def _events(*seqs: int) -> list[ScreenEvent]:
    return [ScreenEvent(seq, STATE, "bot1", AT, {"n": seq}) for seq in seqs]


def _publish(pops: ScreenPops, *numbers: int) -> None:
    for n in numbers:
        pops.publish("bot1", STATE, AT, {"n": n})


def _waiting(subscription: Subscription) -> list[tuple[int, Any]]:
    """(id, n) of the events a reader has waiting, without waiting for more."""
    subscription.close()
    return asyncio.run(_all(subscription))


async def _all(subscription: Subscription) -> list[tuple[int, Any]]:
    return [(event.seq, event.data.get("n")) async for event in subscription]


def test_the_kept_events_after_the_readers_last_come_in_order() -> None:
    kept = Kept(2, deque(_events(3, 4, 5, 6)))
    assert kept_after(kept, 6, "4") == _events(5, 6)
    assert kept_after(kept, 6, "2") == _events(3, 4, 5, 6), "the reader had 2: 3 on are all kept"
    assert kept_after(kept, 6, "6") == [], "nothing missed"
    assert kept_after(kept, 9, "8") == [], "other agents' events since: nothing of this one's"


def test_events_no_longer_kept_or_an_id_given_to_no_event_yet_cannot_be_replayed() -> None:
    kept = Kept(2, deque(_events(3, 4, 5, 6)))
    assert kept_after(kept, 6, "1") is None, "2 is no longer kept"
    assert kept_after(kept, 6, "7") is None, "above the last id given"
    assert kept_after(Kept(0), 0, "5") is None, "nothing published yet"
    for strange in ("-1", "4.0", "abc", "٤", ""):
        assert kept_after(kept, 6, strange) is None, strange


def test_ids_are_one_count_for_every_agent_and_a_reader_back_gets_its_own_agents_events() -> None:
    pops = ScreenPops()
    with pops.subscribe("bot1"), pops.subscribe("bot2"):
        _publish(pops, 1)
        pops.publish("bot2", STATE, AT, {"n": "b"})
        _publish(pops, 2)
    assert pops.last == 3
    with pops.subscribe("bot1", last_event_id="1") as back:
        assert _waiting(back) == [(3, 2)], "bot2's event 2 is not bot1's"


def test_a_restored_agent_is_followed_and_ids_go_on_after_the_last_one_given() -> None:
    pops = ScreenPops(kept=3)
    pops.restore(40, {"bot1": Kept(30, deque(_events(31, 35)))}, clean=True)
    assert pops.followed("bot1") and not pops.followed("bot2")
    _publish(pops, 41)  # nobody reads: kept all the same
    with pops.subscribe("bot1", last_event_id="31") as back:
        assert _waiting(back) == [(35, 35), (41, 41)]
    with pops.subscribe("bot1", last_event_id="29") as late:
        assert late.missed, "30 was dropped in the last run"


@pytest.mark.parametrize("had", ["31", "35", "38"])
def test_after_a_crash_a_reader_back_from_before_it_may_have_missed_lost_events(had: str) -> None:
    """The crashed run may have given bot1 events after 35, its last written, up to 40: lost."""
    pops = ScreenPops(kept=3)
    pops.restore(40, {"bot1": Kept(30, deque(_events(31, 35)))}, clean=False)
    _publish(pops, 41)
    with pops.subscribe("bot1", last_event_id=had) as back:
        assert back.missed and _waiting(back) == []
    with pops.subscribe("bot1", last_event_id="41") as now:
        assert not now.missed, "an id of the new run's: nothing lost after it"


class Written:
    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def kept(self, event: ScreenEvent, previous: int, dropped: int | None) -> None:
        self.rows.append(("kept", event.agent, event.seq, previous, dropped))

    def forgotten(self, agent: str, seq: int) -> None:
        self.rows.append(("forgotten", agent, seq))

    def closed(self, seq: int) -> None:
        self.rows.append(("closed", seq))


def test_the_journal_is_told_each_event_kept_what_it_pushed_out_and_each_agent_forgotten() -> None:
    written = Written()
    pops = ScreenPops(kept=2, journal=written)
    with pops.subscribe("bot1"):
        _publish(pops, 1, 2, 3)
    pops.forget("bot1")
    _publish(pops, 5)  # not followed: nothing kept, nothing written
    with pops.subscribe("bot2"):
        pops.close()
        pops.publish("bot2", STATE, AT, {"n": 6})  # closed: its last write is made, nothing follows
    pops.forget("bot2")
    assert written.rows == [
        ("kept", "bot1", 1, 0, None),
        ("kept", "bot1", 2, 1, None),
        ("kept", "bot1", 3, 2, 1),
        ("forgotten", "bot1", 4),
        ("closed", 5),
    ]


def test_a_reader_coming_back_gets_what_was_published_while_it_was_away_then_the_live_events() -> None:
    pops = ScreenPops()
    with pops.subscribe("bot1") as first:
        _publish(pops, 1, 2)
    assert [seq for seq, _ in _waiting(first)] == [1, 2]
    assert pops.followed("bot1") and not pops.watched("bot1")
    _publish(pops, 3, 4)  # nobody reads: kept all the same
    with pops.subscribe("bot1", last_event_id="2") as back:
        _publish(pops, 5)
        assert not back.missed
        assert _waiting(back) == [(3, 3), (4, 4), (5, 5)]


async def test_an_event_published_while_the_replay_is_read_comes_after_it_once() -> None:
    pops = ScreenPops()
    with pops.subscribe("bot1"):
        _publish(pops, 1, 2, 3)
    with pops.subscribe("bot1", last_event_id="1") as back:
        first = await asyncio.wait_for(back.next(), 1)
        _publish(pops, 4)  # between two events of the replay
        back.close()
        rest = [event.seq async for event in back]
    assert first is not None and [first.seq, *rest] == [2, 3, 4]


def test_the_replay_is_not_cut_by_the_readers_bound_on_live_events() -> None:
    pops = ScreenPops(bound=2, kept=10)
    with pops.subscribe("bot1"):
        _publish(pops, *range(1, 7))
    with pops.subscribe("bot1", last_event_id="1") as back:
        _publish(pops, 7, 8, 9)
        assert [seq for seq, _ in _waiting(back)] == [2, 3, 4, 5, 6, 8, 9], "7 dropped: 2 live at most"
    assert back.dropped == 1


def test_a_reader_back_after_more_than_is_kept_has_missed_events_and_gets_none_of_them() -> None:
    pops = ScreenPops(kept=3)
    with pops.subscribe("bot1"):
        _publish(pops, *range(1, 6))
    with pops.subscribe("bot1", last_event_id="1") as back:
        _publish(pops, 6)
        assert back.missed
        assert _waiting(back) == [(6, 6)]
    with pops.subscribe("bot1", last_event_id="3") as just_in_time:
        assert not just_in_time.missed
        assert [seq for seq, _ in _waiting(just_in_time)] == [4, 5, 6]


def test_a_forgotten_agent_is_not_followed_and_a_reader_back_from_before_has_missed_events() -> None:
    pops = ScreenPops()
    with pops.subscribe("bot1"):
        _publish(pops, 1)
    pops.forget("bot1")
    assert not pops.followed("bot1")
    _publish(pops, 2)  # not published: nobody follows
    with pops.subscribe("bot1", last_event_id="1") as back:
        assert back.missed, "what happened while nobody followed is lost"
        _publish(pops, 3)
        assert [n for _, n in _waiting(back)] == [3]


def test_an_agent_somebody_reads_is_not_forgotten() -> None:
    pops = ScreenPops()
    with pops.subscribe("bot1") as reader:
        pops.forget("bot1")
        _publish(pops, 1)
    assert pops.followed("bot1")
    assert _waiting(reader) == [(1, 1)]


async def test_an_offer_waiting_for_its_details_when_the_reader_left_reaches_it_when_it_is_back() -> None:
    pops = ScreenPops()
    details: asyncio.Future[Mapping[str, Any]] = asyncio.get_running_loop().create_future()
    with pops.subscribe("bot1") as first:
        pops.publish("bot1", STATE, AT, {"state": "ready"})
        pops.publish("bot1", OFFERED, AT, {"call": "1.1"}, details)
        had = await asyncio.wait_for(first.next(), 1)
    assert had is not None and had.seq == 1
    with pops.subscribe("bot1", last_event_id="1") as back:
        details.set_result({"known": False})
        offered = await asyncio.wait_for(back.next(), 1)
    assert offered is not None and (offered.seq, offered.kind, offered.data["known"]) == (2, OFFERED, False)
