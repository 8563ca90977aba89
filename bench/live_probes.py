"""Probes for the live benchmark (`live_bench.py`): the bare AMI baselines and the meters.

- `BareAmi`: a plain panoramisk `Manager` (log in, send an action, call back on an event) with
  none of ringcast's machinery: the baseline the engine is compared with.
- `bare_connect_delays`: the connection-delay baseline: an agent leg already in its conference,
  a customer originated into `ringcast-park`, Redirected into that conference straight from its
  `OriginateResponse`; the delay is that response to the customer's `ConfbridgeJoin`.
- `bare_originate_loop`: originate as fast as a bounded number of calls in flight allows,
  counting `OriginateResponse` events.
- `LoopLag` (a task that sleeps 10 ms and records how late it wakes), `CpuMeter` (CPU seconds
  from `/proc/<pid>/stat`), `carrier_figures` (attempt rate and peak concurrency from the
  carrier's own call log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panoramisk import Manager

from dialer.asterisk.ami import AmiEndpoint
from dialer.asterisk.carrier_log import CarrierCall
from dialer.asterisk.confgen import AGENT_CONTEXT, BRIDGE_CONTEXT, CONF_VAR, PARK_CONTEXT, TRUNK_ENDPOINT

LAG_PERIOD_S = 0.010
CONNECT_TIMEOUT_S = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q`-th percentile (nearest rank), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# -- the bare AMI client ----------------------------------------------------------------------


class BareAmi:
    """panoramisk's Manager as its README shows it: no typed events, no ordering, no reconnects."""

    def __init__(self, endpoint: AmiEndpoint) -> None:
        self.endpoint = endpoint
        self.manager: Manager | None = None

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        logged_in: asyncio.Future[None] = loop.create_future()
        self.manager = Manager(
            host=self.endpoint.host,
            port=self.endpoint.port,
            username=self.endpoint.username,
            secret=self.endpoint.secret,
            loop=loop,
            log=logging.getLogger("bench.bare-ami"),
        )

        def logged(_: Manager) -> None:
            if not logged_in.done():
                logged_in.set_result(None)

        self.manager.on_login = logged
        self.manager.connect()  # panoramisk retries every 2 s until Asterisk answers (it may be restarting)
        await asyncio.wait_for(logged_in, CONNECT_TIMEOUT_S)

    def on(self, event: str, callback: Callable[[Mapping[str, str]], None]) -> None:
        assert self.manager is not None
        self.manager.register_event(event, lambda _, message: callback(message))

    def send(self, fields: Mapping[str, Any]) -> asyncio.Future[Any]:
        assert self.manager is not None
        future: asyncio.Future[Any] = self.manager.send_action(dict(fields), as_list=False)
        return future

    def originate(
        self, channel: str, channel_id: str, context: str = PARK_CONTEXT, **variables: str
    ) -> asyncio.Future[Any]:
        fields: dict[str, Any] = {
            "Action": "Originate",
            "Channel": channel,
            "Context": context,
            "Exten": "s",
            "Priority": "1",
            "Timeout": "30000",
            "ChannelId": channel_id,
            "CallerID": "4008001234",
            "Async": "true",
        }
        if variables:
            fields["Variable"] = [f"{name}={value}" for name, value in variables.items()]
        return self.send(fields)

    def close(self) -> None:
        if self.manager is not None:
            self.manager.close()


def trunk_channel(number: str) -> str:
    return f"PJSIP/{number}@{TRUNK_ENDPOINT}"


# -- baseline 1: a bare Redirect into a conference -----------------------------------------------


async def bare_connect_delays(
    endpoint: AmiEndpoint, numbers: Iterator[str], calls: int, parallel: int, run: str
) -> list[float]:
    """Milliseconds from each customer's OriginateResponse to its ConfbridgeJoin (bare Redirect).

    `parallel` agent legs each sit in their own conference; each takes `calls / parallel`
    customers one after the other (answered, redirected in, joined, hung up).
    """
    ami = BareAmi(endpoint)
    await ami.connect()
    loop = asyncio.get_running_loop()
    answered: dict[str, asyncio.Future[str]] = {}  # channel id -> channel name, at OriginateResponse
    joined: dict[str, asyncio.Future[float]] = {}
    gone: dict[str, asyncio.Future[None]] = {}
    answered_at: dict[str, float] = {}

    def settle(table: dict[str, asyncio.Future[Any]], key: str, value: Any) -> None:
        future = table.get(key)
        if future is not None and not future.done():
            future.set_result(value)

    def on_originated(message: Mapping[str, str]) -> None:
        uniqueid, channel = message.get("Uniqueid", ""), message.get("Channel", "")
        if uniqueid not in answered or message.get("Response") != "Success":
            return
        conference = _conference_of(uniqueid)
        if conference is not None:  # a customer: into its agent's conference, from the event itself
            answered_at[uniqueid] = time.time()
            ami.send(
                {"Action": "Redirect", "Channel": channel, "Context": BRIDGE_CONTEXT, "Exten": conference}
                | {"Priority": "1"}
            )
        settle(answered, uniqueid, channel)

    ami.on("OriginateResponse", on_originated)
    ami.on("ConfbridgeJoin", lambda m: settle(joined, m.get("Uniqueid", ""), time.time()))
    ami.on("Hangup", lambda m: settle(gone, m.get("Uniqueid", ""), None))

    async def call(channel: str, channel_id: str, context: str, **variables: str) -> str:
        for table in (answered, joined, gone):
            table[channel_id] = loop.create_future()
        await ami.originate(channel, channel_id, context, **variables)
        return await asyncio.wait_for(answered[channel_id], 30)

    async def hang_up(channel_id: str, name: str) -> None:
        await ami.send({"Action": "Hangup", "Channel": name, "Cause": "16"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gone[channel_id], 10)

    delays: list[float] = []

    async def agent(slot: int) -> None:
        conference = f"agent-9{slot:04d}"
        agent_id = f"bench-{run}-agent-{slot}"
        agent_leg = await call(
            trunk_channel(f"agent-bench{run}x{slot}"), agent_id, AGENT_CONTEXT, **{CONF_VAR: conference}
        )
        await asyncio.wait_for(joined[agent_id], 10)
        for i in range(slot, calls, parallel):
            customer = f"bench-{run}-{conference}-{i}"
            name = await call(trunk_channel(next(numbers)), customer, PARK_CONTEXT)
            at = await asyncio.wait_for(joined[customer], 20)
            delays.append((at - answered_at[customer]) * 1000)
            await hang_up(customer, name)
        await hang_up(agent_id, agent_leg)

    try:
        await asyncio.gather(*(agent(slot) for slot in range(parallel)))
    finally:
        ami.close()
    return delays


def _conference_of(customer_id: str) -> str | None:
    """`bench-<run>-agent-9xxxx-<i>` → `agent-9xxxx`, the conference that customer goes to."""
    parts = customer_id.split("-")
    return f"{parts[2]}-{parts[3]}" if len(parts) == 5 and parts[2] == "agent" else None


# -- baseline 2: a bare originate loop ------------------------------------------------------------


@dataclass
class LoopFigures:
    """What the bare originate loop saw inside its window."""

    originated: int = 0
    responses: int = 0  # OriginateResponse events in the window
    answered: int = 0
    peak_in_flight: int = 0
    errors: int = 0


async def bare_originate_loop(
    endpoint: AmiEndpoint, numbers: Iterator[str], concurrency: int, seconds: float, run: str
) -> LoopFigures:
    """Originate `numbers` for `seconds` with at most `concurrency` calls up; wait for them to end.

    A call counts as up from its Originate until its Hangup event (or a failed OriginateResponse,
    whichever comes first).
    """
    ami = BareAmi(endpoint)
    await ami.connect()
    figures = LoopFigures()
    slots = asyncio.Semaphore(concurrency)
    up: set[str] = set()
    window_end = time.monotonic() + seconds

    def finish(channel_id: str) -> None:
        if channel_id in up:
            up.discard(channel_id)
            slots.release()

    def on_originated(message: Mapping[str, str]) -> None:
        channel_id = message.get("Uniqueid", "")
        if not channel_id.startswith(f"bench-{run}-"):
            return
        if time.monotonic() <= window_end:
            figures.responses += 1
        if message.get("Response") == "Success":
            figures.answered += 1
        else:
            finish(channel_id)

    def queued(channel_id: str, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None or not future.result().success:
            figures.errors += 1
            finish(channel_id)

    ami.on("OriginateResponse", on_originated)
    ami.on("Hangup", lambda m: finish(m.get("Uniqueid", "")))
    try:
        while time.monotonic() < window_end:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(slots.acquire(), max(window_end - time.monotonic(), 0.001))
                channel_id = f"bench-{run}-{figures.originated}"
                up.add(channel_id)
                figures.originated += 1
                figures.peak_in_flight = max(figures.peak_in_flight, len(up))
                sent = ami.originate(trunk_channel(next(numbers)), channel_id)
                sent.add_done_callback(lambda f, c=channel_id: queued(c, f))  # type: ignore[misc]
        drain_until = time.monotonic() + 60
        while up and time.monotonic() < drain_until:
            await asyncio.sleep(0.1)
    finally:
        ami.close()
    return figures


# -- meters ---------------------------------------------------------------------------------------


@dataclass
class LoopLag:
    """How late a task that sleeps `LAG_PERIOD_S` wakes up, in ms: the event loop's lag."""

    samples: list[float] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._measure(), name="loop-lag")

    async def stop(self) -> list[float]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.samples

    async def _measure(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(LAG_PERIOD_S)
            self.samples.append(max(time.perf_counter() - before - LAG_PERIOD_S, 0.0) * 1000)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU used by named processes between `start()` and `percent()`, in % of one core."""

    pids: dict[str, int]
    _started: dict[str, float] = field(default_factory=dict)
    _at: float = 0.0

    def start(self) -> None:
        self._at = time.monotonic()
        self._started = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def percent(self) -> dict[str, float]:
        """% of one core per process; NaN for a process that is gone (e.g. an Asterisk restarted)."""
        wall = time.monotonic() - self._at
        used: dict[str, float] = {}
        for name, pid in self.pids.items():
            try:
                used[name] = 100 * (cpu_seconds(pid) - self._started[name]) / wall
            except (FileNotFoundError, ProcessLookupError):
                used[name] = math.nan
        return used


@dataclass(frozen=True)
class CarrierFigures:
    """The carrier's view of a run's customer calls (its own log, the ground truth)."""

    received: int  # calls received inside the window
    per_s: float
    peak_concurrent: int  # most customer calls up at once, at any time of the run


def carrier_figures(calls: Sequence[CarrierCall], start: float, end: float) -> CarrierFigures:
    inside = [c for c in calls if start <= c.started_at <= end]
    edges = sorted(
        [(c.started_at, 1) for c in calls] + [(c.ended_at, -1) for c in calls if c.ended_at is not None]
    )
    peak = level = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return CarrierFigures(len(inside), len(inside) / (end - start), peak)
