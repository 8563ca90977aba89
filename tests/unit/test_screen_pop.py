"""The screen pop publisher (AGT-3): per-agent readers with a bound, events in order, closing.

Off the engine: events are published by hand with fixed instants; an event's pending details are
a future the test settles.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import AgentStatus, Wrap
from dialer.live.screen_pop import CONNECTED, ENDED, OFFERED, STATE, ScreenPops, Subscription, call_events

AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


def _waiting(subscription: Subscription) -> list[dict[str, Any]]:
    """The events a reader has waiting, without waiting for more."""
    subscription.close()
    return asyncio.run(_all(subscription))


async def _all(subscription: Subscription) -> list[dict[str, Any]]:
    return [event.as_json() | {"seq": event.seq} async for event in subscription]


def test_each_reader_of_an_agent_gets_its_events_and_no_other_agents() -> None:
    pops = ScreenPops()
    with pops.subscribe("bot1") as one, pops.subscribe("bot1") as two, pops.subscribe("bot2") as other:
        pops.publish("bot1", STATE, AT, {"state": "ready"})
        pops.publish("bot2", STATE, AT, {"state": "not_ready"})
        expected = [{"type": "state", "agent": "bot1", "at": AT.isoformat(), "state": "ready", "seq": 1}]
        assert _waiting(one) == expected
        assert _waiting(two) == expected
        assert [event["state"] for event in _waiting(other)] == ["not_ready"]


def test_a_slow_reader_loses_its_oldest_events_and_the_others_lose_none() -> None:
    pops = ScreenPops(bound=3)
    with pops.subscribe("bot1") as slow:
        for n in range(5):
            pops.publish("bot1", STATE, AT, {"n": n})
        assert slow.dropped == 2
        assert [(event["seq"], event["n"]) for event in _waiting(slow)] == [(3, 2), (4, 3), (5, 4)]


def test_nothing_is_kept_for_an_agent_nobody_reads_and_a_reader_leaves_with_its_block() -> None:
    pops = ScreenPops()
    pops.publish("bot1", STATE, AT, {"state": "ready"})  # nobody reads: dropped at once
    assert not pops.watched("bot1")
    with pops.subscribe("bot1") as reader:
        assert pops.watched("bot1")
        pops.publish("bot1", STATE, AT, {"state": "not_ready"})
    assert not pops.watched("bot1")
    pops.publish("bot1", STATE, AT, {"state": "ready"})
    assert [event["state"] for event in _waiting(reader)] == ["not_ready"]


async def test_an_event_waiting_for_its_details_holds_the_agents_later_events_behind_it() -> None:
    pops = ScreenPops()
    details: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    with pops.subscribe("bot1") as reader:
        pops.publish("bot1", OFFERED, AT, {"call": "1.1", "caller": "+8613800138000"}, details)
        pops.publish("bot1", CONNECTED, AT, {"call": "1.1"})
        first = asyncio.create_task(reader.next())
        await asyncio.sleep(0.01)
        assert not first.done(), "nothing is delivered before the offer's details"
        details.set_result({"did": "4008001000", "caller": "+8613800138000"})
        offered, connected = await first, await reader.next()
    assert offered is not None and connected is not None
    assert offered.as_json() == {
        "type": "offered",
        "agent": "bot1",
        "at": AT.isoformat(),
        "call": "1.1",
        "caller": "+8613800138000",
        "did": "4008001000",
    }
    assert (offered.seq, connected.seq, connected.kind) == (1, 2, "connected")


async def test_details_that_fail_leave_the_event_with_what_was_known() -> None:
    pops = ScreenPops()
    details: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    with pops.subscribe("bot1") as reader:
        pops.publish("bot1", OFFERED, AT, {"call": "1.1"}, details)
        details.set_exception(RuntimeError("database gone"))
        event = await reader.next()
    assert event is not None and event.data == {"call": "1.1", "details": "unavailable"}


async def test_closing_the_publisher_ends_every_stream_and_new_ones_at_once() -> None:
    pops = ScreenPops()
    with pops.subscribe("bot1") as reader:
        waiting = asyncio.create_task(reader.next())
        await asyncio.sleep(0)
        pops.close()
        assert await waiting is None
    with pops.subscribe("bot1") as late:
        assert await late.next() is None


def _status(state: AgentState, call: str | None = None) -> AgentStatus:
    return AgentStatus(7, state, AT, call=call)


def test_an_agents_steps_mean_offered_connected_and_ended() -> None:
    ready = _status(AgentState.READY)
    reserved = ready.reserve(AT, "1.1").agent
    on_call = reserved.bridge(AT, "1.1").agent
    wrap_up = on_call.hangup(AT, "1.1", Wrap()).agent
    assert call_events(ready, reserved) == [(OFFERED, "1.1")]
    assert call_events(reserved, on_call) == [(CONNECTED, "1.1")]
    assert call_events(on_call, wrap_up) == [(ENDED, "1.1")]
    assert call_events(reserved, reserved.hangup(AT, "1.1", Wrap()).agent) == [(ENDED, "1.1")]
    assert call_events(on_call, on_call.phone_lost(AT).agent) == [(ENDED, "1.1")]
    assert call_events(ready, ready.pause(AT, "break").agent) == []
