"""Probes for the live benchmark (`live_bench.py`): the bare AMI baseline and the meters.

- `BareAmi`: a plain panoramisk `Manager` (log in, send an action, call back on an event) with
  none of ringcast's machinery.
- `bare_dialer`: the Asterisk work of a dialer without ringcast: agent legs in their own
  conferences, customers originated with a bound on lines, each answered one Redirected into a
  free agent's conference straight from its `OriginateResponse` (or hung up when none is free);
  the connection delay is that response to the customer's `ConfbridgeJoin`. The baseline of every
  measurement: light connection delay, throughput at the issue's aim, flat out.
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
from dialer.asterisk.carrier_log import CarrierCall, peak_concurrent
from dialer.asterisk.confgen import AGENT_CONTEXT, BRIDGE_CONTEXT, CONF_VAR, PARK_CONTEXT, TRUNK_ENDPOINT

LAG_PERIOD_S = 0.010
LOGIN_STAGGER_S = 0.02  # between agent logins, as the engine's API logins come
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
        self,
        channel: str,
        channel_id: str,
        context: str = PARK_CONTEXT,
        *,
        timeout_s: float = 30.0,
        variables: Mapping[str, str] | None = None,
    ) -> asyncio.Future[Any]:
        fields: dict[str, Any] = {
            "Action": "Originate",
            "Channel": channel,
            "Context": context,
            "Exten": "s",
            "Priority": "1",
            "Timeout": str(int(timeout_s * 1000)),
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


# -- the baseline: a bare dialer -------------------------------------------------------------------


@dataclass
class BareFigures:
    """What the bare dialer saw: every customer's connection delay, the calls it originated, those
    answered and those no agent was free for; inside its window, the OriginateResponse events and
    the most customers up at once."""

    delays: list[float] = field(default_factory=list)  # ms, OriginateResponse → ConfbridgeJoin
    responses: int = 0
    answered: int = 0
    abandoned: int = 0
    originated: int = 0
    peak_in_flight: int = 0


@dataclass
class _Customer:
    channel: str = ""
    answered_at: float = 0.0
    conference: str | None = None


async def bare_dialer(
    endpoint: AmiEndpoint,
    numbers: Iterator[str],
    run: str,
    *,
    lines: int,
    agents: int = 0,
    calls: int | None = None,
    seconds: float | None = None,
    ring_timeout_s: float = 30.0,
    hang_up_on_join: bool = False,
    warm_up_s: float = 0.0,
    on_window: Callable[[], None] | None = None,
) -> BareFigures:
    """The Asterisk work of a dialer with none of ringcast (plain panoramisk): `agents` agent legs
    logged in to their own conferences, then customers originated with at most `lines` up at once.
    An answered customer is Redirected straight from its OriginateResponse into the conference of
    a free agent (the connection delay is that event to its ConfbridgeJoin), or hung up when every
    agent is busy; its agent is free again when it has gone.

    With `calls`, that many customers in all (with `hang_up_on_join`, each hung up once it has
    joined: the light connection-delay baseline); with `seconds`, dialing goes on that long. The
    window opens `warm_up_s` after the agents are in (lines and agents in their steady state), and
    `on_window` is called then; then the calls in progress end and the agents log out.
    """
    ami = BareAmi(endpoint)
    await ami.connect()
    loop = asyncio.get_running_loop()
    figures = BareFigures()
    free = asyncio.Queue[str]()  # conferences of free agents
    legs: dict[str, asyncio.Future[str]] = {}  # agent leg id -> its channel, once in its conference
    customers: dict[str, _Customer] = {}  # up, by channel id
    slots = asyncio.Semaphore(lines)
    window = [math.inf, math.inf]  # start, end (monotonic)

    def in_window() -> bool:
        return window[0] <= time.monotonic() <= window[1]

    def gone(channel_id: str) -> None:
        customer = customers.pop(channel_id, None)
        if customer is None:
            return
        slots.release()
        if customer.conference is not None:
            free.put_nowait(customer.conference)

    def on_originated(message: Mapping[str, str]) -> None:
        channel_id, channel = message.get("Uniqueid", ""), message.get("Channel", "")
        customer = customers.get(channel_id)
        if customer is None:
            if channel_id in legs and not legs[channel_id].done() and message.get("Response") != "Success":
                legs[channel_id].set_exception(RuntimeError(f"agent leg {channel_id} did not answer"))
            return
        if in_window():
            figures.responses += 1
        if message.get("Response") != "Success":
            gone(channel_id)
            return
        figures.answered += 1
        customer.channel, customer.answered_at = channel, time.time()
        if free.empty():  # every agent busy: a bare dialer drops the call
            figures.abandoned += 1
            ami.send({"Action": "Hangup", "Channel": channel, "Cause": "16"})
            return
        customer.conference = free.get_nowait()
        ami.send(
            {
                "Action": "Redirect",
                "Channel": channel,
                "Context": BRIDGE_CONTEXT,
                "Exten": customer.conference,
            }
            | {"Priority": "1"}
        )

    def on_joined(message: Mapping[str, str]) -> None:
        channel_id = message.get("Uniqueid", "")
        if channel_id in legs and not legs[channel_id].done():
            legs[channel_id].set_result(message.get("Channel", ""))
            return
        customer = customers.get(channel_id)
        if customer is not None and customer.conference is not None:
            figures.delays.append((time.time() - customer.answered_at) * 1000)
            if hang_up_on_join:
                ami.send({"Action": "Hangup", "Channel": customer.channel, "Cause": "16"})

    ami.on("OriginateResponse", on_originated)
    ami.on("ConfbridgeJoin", on_joined)
    ami.on("Hangup", lambda m: gone(m.get("Uniqueid", "")))

    async def log_in(slot: int) -> None:
        await asyncio.sleep(slot * LOGIN_STAGGER_S)
        leg_id, conference = f"bench-{run}-agent-{slot}", f"agent-9{slot:04d}"
        legs[leg_id] = loop.create_future()
        await ami.originate(
            trunk_channel(f"agent-bench{run}x{slot}"), leg_id, AGENT_CONTEXT, variables={CONF_VAR: conference}
        )
        await asyncio.wait_for(legs[leg_id], 30)
        free.put_nowait(conference)

    async def open_window() -> None:
        await asyncio.sleep(warm_up_s)
        window[0] = time.monotonic()
        window[1] = window[0] + (seconds if seconds is not None else math.inf)
        if on_window is not None:
            on_window()

    try:
        await asyncio.gather(*(log_in(slot) for slot in range(agents)))
        opening = asyncio.create_task(open_window())
        while (calls is None or figures.originated < calls) and time.monotonic() <= window[1]:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(slots.acquire(), 1.0)
                channel_id = f"bench-{run}-{figures.originated}"
                customers[channel_id] = _Customer()
                figures.originated += 1
                if in_window():
                    figures.peak_in_flight = max(figures.peak_in_flight, len(customers))
                ami.originate(trunk_channel(next(numbers)), channel_id, timeout_s=ring_timeout_s)
        await opening
        drain_until = time.monotonic() + 60
        while customers and time.monotonic() < drain_until:
            await asyncio.sleep(0.1)
        for leg in legs.values():
            if leg.done() and not leg.exception():
                ami.send({"Action": "Hangup", "Channel": leg.result(), "Cause": "16"})
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
    return CarrierFigures(len(inside), len(inside) / (end - start), peak_concurrent(calls))
