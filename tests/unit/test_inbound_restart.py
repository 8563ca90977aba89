"""A restarted engine takes back the callers a previous run left waiting in a queue's hold loop
(`inbound_restart`, `dialer.acd.restart`); the other calls it left open are hung up and closed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from campaigns import inbound_store
from campaigns.persistence.models.enums import InboundOutcome
from dialer.acd.queues import QueueConfig, QueueMember
from dialer.acd.restart import RESTART_PATIENCE_S, LeftOpen, LeftWaiting, taken_back
from dialer.asterisk.ami import ChannelSnapshot
from dialer.asterisk.confgen import QUEUE_HOLD_CONTEXT
from dialer.live.inbound_call import Stage
from tests.unit.test_agent_selection import A
from tests.unit.test_inbound_acd import FakeDialer

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SALES = QueueConfig("sales", (QueueMember(7), QueueMember(9)), max_wait_s=600)
WAITED = LeftWaiting("sales", NOW - timedelta(seconds=40), 10, direct_agent=9)


def left(call_id: int, waiting: LeftWaiting | None = WAITED, now: datetime = NOW) -> LeftOpen:
    """A call left open, arrived 50 s before `now` (the live engine below reads the clock)."""
    if waiting is not None:
        waiting = replace(waiting, entered_at=waiting.entered_at - NOW + now)
    return LeftOpen(
        call_id, f"1.{call_id}", "+8613800138000", "广东省", now - timedelta(seconds=50), ("vip",), waiting
    )


def channel(uniqueid: str, context: str) -> ChannelSnapshot:
    return ChannelSnapshot(
        f"PJSIP/carrier-{uniqueid}", uniqueid, uniqueid, context, "s", "Up", "MusicOnHold", 40
    )


def test_a_caller_still_on_hold_with_its_wait_open_waits_again_as_it_was() -> None:
    waiting = taken_back(left(1), True, {"sales": SALES}, NOW)
    assert waiting is not None
    assert (waiting.call_id, waiting.queue, waiting.arrived, waiting.priority) == (
        "1.1",
        "sales",
        WAITED.entered_at,
        10,
    )
    assert (waiting.direct_agent, waiting.region) == (9, "广东省")
    assert waiting.patient_until == NOW + timedelta(seconds=RESTART_PATIENCE_S)


def test_a_call_not_on_hold_not_waiting_or_whose_queue_is_gone_is_not_taken_back() -> None:
    queues = {"sales": SALES}
    assert taken_back(left(1), False, queues, NOW) is None  # in a flow, with an agent, gone
    assert taken_back(left(1, None), True, queues, NOW) is None  # no open wait in the records
    assert taken_back(left(1), True, {}, NOW) is None  # its queue was deleted


class RestartedDialer(FakeDialer):
    def __init__(
        self, queues: Mapping[str, QueueConfig], records: list[LeftOpen], alive: list[ChannelSnapshot]
    ) -> None:
        super().__init__(queues)
        self.records = records
        self.alive = alive
        self.ami = self
        self.hung_up: list[str] = []
        self.closed: list[int] = []
        self.ended: list[tuple[int, InboundOutcome]] = []

    async def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if work is inbound_store.left_open:
            return self.records
        if work is inbound_store.close_stale:
            self.closed = list(args[2])
            return len(self.closed)
        return await super().run(work, *args, **kwargs)

    async def channels(self) -> list[ChannelSnapshot]:
        return self.alive

    def record_later(self, work: Callable[..., Any], *args: Any) -> None:
        super().record_later(work, *args)
        if work is inbound_store.end_call:
            self.ended.append((args[1], args[3]))  # (database, call id, at, outcome, ...)

    async def hangup_channel_named(self, name: str) -> None:
        self.hung_up.append(name)

    def forget_leg(self, channel_id: str) -> None:
        pass  # follow_leg keeps none

    async def release_agent(self, agent_id: int | None, channel_id: str, at: float) -> None:
        assert agent_id is None, "nobody was offered the call"


async def test_the_engine_takes_back_its_waiting_callers_and_closes_the_rest() -> None:
    now = datetime.now(UTC)
    records = [left(1, now=now), left(2, now=now), left(3, None, now), left(4, now=now)]
    alive = [
        channel("1.1", QUEUE_HOLD_CONTEXT),  # waiting: taken back
        channel("1.2", "ringcast-agent-conf"),  # with an agent whose session is gone
        channel("1.3", "ringcast-inbound"),  # in its flow, its FastAGI session gone
    ]  # 1.4: gone while the engine was down
    dialer = RestartedDialer({"sales": SALES}, records, alive)
    await dialer.inbound.start()
    acd = dialer.inbound
    assert list(acd.board.calls) == ["1.1"] and acd.follows("1.1")
    call = acd.calls["1.1"]
    assert (call.call_id, call.stage, call.flags, call.queued) == (1, Stage.WAITING, ("vip",), True)
    assert dialer.hung_up == ["PJSIP/carrier-1.2", "PJSIP/carrier-1.3"]
    assert dialer.closed == [2, 3, 4]
    assert dialer.recorded == []  # its queue visit goes on: no second one
    assert dialer.moved == []  # nobody logged in yet, and it does not overflow for that
    nine = dialer.login(9, A.READY)  # its agent logs in again
    assert await acd.serve(nine.agent_id) and dialer.moved == [("1.1", 9)]
    await asyncio.gather(*dialer.tasks)


async def test_callers_of_this_run_are_left_alone_and_one_gone_meanwhile_ends_abandoned() -> None:
    now = datetime.now(UTC)
    records = [left(1, now=now), left(2, now=now)]
    alive = [channel("1.1", QUEUE_HOLD_CONTEXT), channel("1.2", QUEUE_HOLD_CONTEXT)]
    dialer = RestartedDialer({"sales": SALES}, records, alive)
    acd = dialer.inbound
    new_caller = replace(left(5, None, now), arrived_at=acd.created_at)  # in its menu, this run's
    dialer.records.append(new_caller)
    listings = [alive, alive[:1]]  # 1.2 hangs up before it is followed: the second listing lacks it

    async def channels() -> list[ChannelSnapshot]:
        return listings.pop(0)

    dialer.channels = channels  # type: ignore[method-assign]
    await acd.start()
    assert list(acd.board.calls) == ["1.1"] and not acd.follows("1.2")
    assert dialer.hung_up == [] and dialer.closed == [], "the new caller is not touched"
    assert dialer.recorded == ["end_call"]  # 1.2's: its caller gone, its wait over
    [(call_id, outcome)] = dialer.ended
    assert (call_id, outcome) == (2, InboundOutcome.ABANDONED)
