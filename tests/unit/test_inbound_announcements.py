"""The live ACD's announcements (ACD-8) and voicemail notices (IVR-4), with a fake dialer: what is
set on a waiting caller's channel and when, the box's greeting, and who is told of a message (nobody
when the recording has no sound)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from campaigns import queue_store, voicemail_store
from campaigns.surveys.document import Prompt
from dialer.acd.announcements import Announcement, Telling, restarts
from dialer.acd.queues import Announced, QueueConfig, QueueMember, ToQueue
from dialer.asterisk.confgen import (
    ANNOUNCE_AGAIN_EXTEN,
    ANNOUNCE_EVERY_VAR,
    ANNOUNCEMENT_VAR,
    GREETING_VAR,
    POSITION_VAR,
    QUEUE_HOLD_CONTEXT,
    VOICEMAIL_CONTEXT,
    VOICEMAIL_VAR,
    WAIT_MIN_VAR,
)
from dialer.asterisk.events import ChannelHungUp
from dialer.asterisk.prompts import Message
from dialer.asterisk.rendering import RenderOnce
from dialer.live import inbound_acd
from dialer.live.inbound_call import InboundCall
from tests.unit.test_agent_selection import A
from tests.unit.test_inbound_acd import FakeDialer, _now

ANNOUNCING = QueueConfig("sales", (QueueMember(7), QueueMember(8)), announce_every_s=30, max_wait_s=600)


class FakePrompts:
    def __init__(self) -> None:
        self.rendered: list[str] = []

    def render_missing(self, message: Message) -> int:
        assert message.prompt.text is not None
        self.rendered.append(message.prompt.text)
        return 1

    def sound(self, prompt: Prompt, language: str) -> str:
        return f"/prompts/{language}/{prompt.text}"


class Pops:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, Mapping[str, Any]]] = []

    def publish(self, agent: str, kind: str, at: datetime, data: Mapping[str, Any]) -> None:
        self.published.append((agent, kind, data))


class Dialer(FakeDialer):
    def __init__(self, queues: Mapping[str, QueueConfig], handle_times: Mapping[str, float]) -> None:
        super().__init__(queues)
        self.handle_times = dict(handle_times)
        self.greeting: str | None = None
        self.pbx_spool = Path("/spool")
        self.has_sound = True  # whether the caller's recording has sound
        self.ended_in_box: list[tuple[Path | None, int, str, str]] = []
        self.variables: list[tuple[str, str, str]] = []
        self.restarted: list[str] = []  # the callers whose hold loop was started again
        self.ami = self
        self.screen = self
        self.pops = Pops()
        self.prompts = FakePrompts()
        self.inbound.rendered = RenderOnce(self.prompts)  # type: ignore[arg-type]

    async def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if work is queue_store.handle_times:
            return self.handle_times
        if work is voicemail_store.box_for:
            return voicemail_store.Box(args[1] or "queue", args[2]), self.greeting
        if work is voicemail_store.ended_in_box:
            _, spool, call_id, box, file, _at, outcome, _cause = args
            self.ended_in_box.append((spool, call_id, file, outcome.value))
            if not self.has_sound:
                return None
            return voicemail_store.Notice({"id": 1, "box": str(box), "file": file}, ("wang", "li"))
        return await super().run(work, *args, **kwargs)

    def channel_name(self, channel_id: str) -> str:
        return f"PJSIP/carrier-{channel_id}"

    async def set_var(self, channel: str, name: str, value: str) -> None:
        self.variables.append((channel, name, value))

    async def redirect(self, channel: str, context: str, exten: str = "s", priority: int = 1) -> None:
        assert (context, exten) == (QUEUE_HOLD_CONTEXT, ANNOUNCE_AGAIN_EXTEN)
        self.restarted.append(channel.removeprefix("PJSIP/carrier-"))

    def forget_leg(self, channel_id: str) -> None:
        pass

    async def release_agent(self, agent_id: int | None, channel_id: str, at: float) -> None:
        pass


async def _arrive(dialer: Dialer, uniqueid: str) -> InboundCall:
    acd = dialer.inbound
    await acd.refresh()
    call = InboundCall(int(uniqueid.split(".")[1]), uniqueid, "+8613800138000", None, _now())
    acd.arrived(call, f"PJSIP/carrier-{uniqueid}")
    await acd.enqueue(call, "sales", 0)
    await asyncio.gather(*dialer.tasks)
    dialer.tasks.clear()
    return call


def _hang_up(uniqueid: str) -> ChannelHungUp:
    return ChannelHungUp(
        received_at=0.0, uniqueid=uniqueid, channel="", linkedid=uniqueid, cause=16, cause_text=""
    )


def _said(dialer: Dialer, uniqueid: str) -> list[tuple[str, str]]:
    return [(name, value) for channel, name, value in dialer.variables if channel.endswith(uniqueid)]


async def test_a_waiting_caller_is_told_its_place_and_wait_and_told_again_as_it_moves_up() -> None:
    dialer = Dialer({"sales": ANNOUNCING}, {"sales": 240.0})
    dialer.login(7, A.NOT_READY)  # paused: not staffed
    dialer.login(8, A.ON_CALL)  # staffed: one agent frees every 240 s
    await _arrive(dialer, "1.1")
    await _arrive(dialer, "1.2")
    assert _said(dialer, "1.2") == [
        (ANNOUNCE_EVERY_VAR, "30"),
        (POSITION_VAR, "2"),
        (WAIT_MIN_VAR, "8"),  # 2 × 240 s / 1 staffed
        (ANNOUNCEMENT_VAR, "/prompts/zh/您现在排在第2位。&/prompts/zh/预计等待约8分钟。"),
    ]
    dialer.variables.clear()
    await dialer.inbound.hung_up(_hang_up("1.1"))
    await asyncio.gather(*dialer.tasks)
    assert _said(dialer, "1.2") == [
        (POSITION_VAR, "1"),
        (WAIT_MIN_VAR, "4"),
        (ANNOUNCEMENT_VAR, "/prompts/zh/您现在排在第1位。&/prompts/zh/预计等待约4分钟。"),
    ]
    assert dialer.prompts.rendered.count("您现在排在第1位。") == 1  # each sentence rendered once
    assert dialer.restarted == ["1.1", "1.2"]  # once each, when first told: not as they move up


async def test_nothing_is_set_for_a_queue_without_announcements_or_a_caller_served_at_once() -> None:
    quiet = QueueConfig("sales", (QueueMember(7),), max_wait_s=600)
    dialer = Dialer({"sales": quiet}, {})
    dialer.login(7, A.ON_CALL)
    await _arrive(dialer, "1.1")
    assert dialer.variables == []
    served = Dialer({"sales": ANNOUNCING}, {})
    served.login(7, A.READY)
    await _arrive(served, "1.1")
    assert served.moved == [("1.1", 7)] and served.variables == []


async def test_position_only_without_a_known_handle_time() -> None:
    config = QueueConfig("sales", (QueueMember(7),), announce_every_s=20, announced=Announced.BOTH)
    dialer = Dialer({"sales": config}, {})
    dialer.login(7, A.ON_CALL)
    await _arrive(dialer, "1.1")
    assert (WAIT_MIN_VAR, "") in _said(dialer, "1.1")
    assert (ANNOUNCEMENT_VAR, "/prompts/zh/您现在排在第1位。") in _said(dialer, "1.1")


async def test_voicemail_plays_the_boxs_greeting_and_a_message_is_told_to_its_agents(tmp_path: Path) -> None:
    dialer = Dialer({"sales": QueueConfig("sales", (QueueMember(7),))}, {})
    dialer.greeting = "/prompts/zh/greeting"
    call = await _arrive(dialer, "1.1")  # nobody logged in: to the queue's box at once
    message = "ringcast-voicemail/sales/1.1"
    assert dialer.sent == [
        ("1.1", VOICEMAIL_CONTEXT, "s", {VOICEMAIL_VAR: message, GREETING_VAR: "/prompts/zh/greeting"})
    ]
    await dialer.inbound.hung_up(_hang_up("1.1"))
    await asyncio.gather(*dialer.tasks)
    assert [(agent, kind) for agent, kind, _ in dialer.pops.published] == [
        ("wang", "voicemail"),
        ("li", "voicemail"),
    ]
    assert dialer.pops.published[0][2] == {"id": 1, "box": "queue:sales", "file": message}
    assert call.voicemail == message
    assert dialer.ended_in_box == [(Path("/spool"), 1, message, "overflowed_voicemail")]


async def test_a_caller_gone_before_its_recording_has_sound_is_told_to_nobody() -> None:
    dialer = Dialer({"sales": QueueConfig("sales", (QueueMember(7),))}, {})
    dialer.has_sound = False
    await _arrive(dialer, "1.1")
    await dialer.inbound.hung_up(_hang_up("1.1"))
    await asyncio.gather(*dialer.tasks)
    message = "ringcast-voicemail/sales/1.1"
    assert dialer.ended_in_box == [(Path("/spool"), 1, message, "overflowed_voicemail")]
    assert dialer.pops.published == [], "no message: nobody told"
    assert "end_call" not in dialer.recorded, "ended by `ended_in_box` alone"


async def test_a_caller_waiting_when_its_queue_turns_announcements_on_hears_one_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quiet = QueueConfig("sales", (QueueMember(7),), max_wait_s=600)
    dialer = Dialer({"sales": quiet}, {})
    dialer.login(7, A.ON_CALL)
    await _arrive(dialer, "1.1")
    assert dialer.variables == [] and dialer.restarted == []  # its hold loop pauses for PARK_WAIT_S
    dialer.queues = {"sales": ANNOUNCING}
    monkeypatch.setattr(inbound_acd, "RELOAD_S", 0.0)  # read again now
    await dialer.inbound.refresh()
    await asyncio.gather(*dialer.tasks)
    assert _said(dialer, "1.1")[0] == (ANNOUNCE_EVERY_VAR, "30")
    assert dialer.restarted == ["1.1"]  # the loop starts again: the new interval counts now


async def test_a_caller_overflowing_into_an_announcing_queue_hears_one_at_once() -> None:
    quiet = QueueConfig("quiet", (QueueMember(7),), max_wait_s=0.05, overflow=ToQueue("sales"))
    dialer = Dialer({"quiet": quiet, "sales": ANNOUNCING}, {})
    dialer.login(7, A.ON_CALL)
    acd = dialer.inbound
    await acd.refresh()
    call = InboundCall(1, "1.1", "+8613800138000", None, _now())
    acd.arrived(call, "PJSIP/carrier-1.1")
    await acd.enqueue(call, "quiet", 0)
    assert dialer.restarted == []
    await asyncio.sleep(0.1)  # its wait in quiet is over
    await asyncio.gather(*dialer.tasks)
    assert call.waiting is not None and call.waiting.queue == "sales"
    assert (ANNOUNCE_EVERY_VAR, "30") in _said(dialer, "1.1") and dialer.restarted == ["1.1"]


def test_the_hold_loop_starts_again_for_the_first_interval_or_another_only() -> None:
    told = Telling(Announcement(2, None), 30)
    assert restarts(None, told)
    assert not restarts(30, told)
    assert restarts(20, told)
