"""Live benchmark: the engine against a bare AMI dialer on the Asterisk lab, in the same run.

    .venv/bin/python bench/live_bench.py [--seconds 30] [--lines 200] [--agents 80] [--out DIR]

Needs the lab up (`ringcast lab up`); the lab is not reset (other sessions may share it): every
run dials its own number range, and each measurement reads only its own calls.

The baseline of each measurement is `live_probes.bare_dialer`: the Asterisk work of a dialer with
none of ringcast (plain panoramisk): agent legs logged in to their own conferences, customers
originated with a bound on lines, each answered customer Redirected into a free agent's
conference straight from its OriginateResponse event (hung up when no agent is free).

1. Connection delay, from the moment a human is known to the customer joining the agent's
   conference. Bare: OriginateResponse to ConfbridgeJoin. Engine: from the answer (both event
   times, as `attempts` stores them), or from the moment its agent became ready when the customer
   had to wait for one (the agent's availability, not the engine's delay; counted in the notes),
   to the ConfbridgeJoin. Light load: 3 bare
   agents and lines, customers answering at once and hung up on joining; the engine with 10 agents
   logged in over the control API, progressive, 1 s wrap-up. Loaded: the throughput runs below.
2. Throughput at the issue's aim (about 30 attempts/s, 200 calls up): a list of 4 busy numbers in
   10, 3 that ring out (15 s, the cn preset's minimum ring) and 3 humans who answer after 1 s and
   talk 5 s (`MIX`), `--lines` lines (200) and `--agents` agents (80: as many agent conferences as
   this 2-core lab carries beside the calls). The bare dialer against the engine
   (`dialer.engine.Engine`, in this process, SQLite in a temporary directory) running a ratio-10
   campaign, AMD off, wrap-up ended by the engine's timer (0 s), `max_lines` = lines, its agents
   logged in over the control API and the abandonment cap lifted (audited override): this measures
   the engine's machinery, not its pacing (the bare dialer drops what finds no agent too). Target:
   the engine reaches ≥ 90 % of the bare dialer's attempt rate and peak concurrency, with its event
   loop's lag p99 ≤ 50 ms. Both windows open once the agents are in and the lines have filled.
   For information, flat out: every number rejected at once (486, ...1006), the bare dialer with
   no agents against the engine at ratio 10 with a tenth as many agents: its ceiling.
   Attempts/s and peak concurrency are read from the carrier's own call log for both sides (the
   engine's `attempts` rows and the bare dialer's counters are shown too). The event loop's lag is
   a task that sleeps 10 ms and records how late it wakes, in the engine's own loop (and in the
   bare dialer's). CPU is read from /proc/<pid>/stat: the pbx's and carrier's Asterisk, and this
   process (the engine, its database thread, its control API and the bench's own client).

Prints a table and writes `DIR/live.md` and `DIR/live.json`. A benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from live_probes import (  # noqa: E402
    CarrierFigures,
    CpuMeter,
    LoopLag,
    bare_dialer,
    carrier_figures,
    percentile,
)
from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from campaigns import campaign_store  # noqa: E402
from campaigns.campaign_store import CampaignEvent  # noqa: E402
from campaigns.compliance.blocklist_store import Change  # noqa: E402
from campaigns.config import CampaignSpec  # noqa: E402
from campaigns.persistence.db import Database  # noqa: E402
from campaigns.persistence.models import AgentStateLog, Attempt, ContactList, Lead  # noqa: E402
from campaigns.persistence.models.enums import AgentState  # noqa: E402
from dialer.asterisk.ami import AmiEndpoint, AmiLink, ChannelSnapshot, endpoint_from_settings  # noqa: E402
from dialer.asterisk.carrier_plan import behaviour_for, zone_at_local_hour  # noqa: E402
from dialer.asterisk.confgen import BRIDGE_CONTEXT  # noqa: E402
from dialer.asterisk.events import AmiEvent, OriginateFinished  # noqa: E402
from dialer.asterisk.fastagi import FastAgiServer  # noqa: E402
from dialer.asterisk.lab import Lab  # noqa: E402
from dialer.asterisk.ports import free_tcp_port  # noqa: E402
from dialer.engine import ApiEndpoint, Engine  # noqa: E402
from dialer.live.bot_agents import create_lab_agents  # noqa: E402
from ringcast.errors import UserError  # noqa: E402
from ringcast.settings import load_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
T = TypeVar("T")
TOKEN = "bench-token"
HUMAN = "1010"  # carrier digits K T R D: sends 1, talks 5 s, rings 1 s, a human
HUMAN_AT_ONCE = "1000"  # the same, answering at once (connection-delay runs)
BUSY = "1006"  # rejected at once with 486 / cause 17
NO_ANSWER = "1007"  # rings until the caller gives up (RING_TIMEOUT_S)
# The throughput target's list: 4 in 10 busy, 3 ring out, 3 humans who talk 5 s: a call holds its
# line about 6.4 s on average, so 200 lines make about 31 attempts/s (the issue's aim: 30/s, 200 up).
MIX = (BUSY, NO_ANSWER, HUMAN, BUSY, NO_ANSWER, HUMAN, BUSY, NO_ANSWER, HUMAN, BUSY)
RING_TIMEOUT_S = 15.0  # the cn preset's minimum ring
LIGHT_AGENTS = 10
LATENCY_CALLS = 60
LATENCY_PARALLEL = 3
DRAIN_S = 60.0
WARM_UP_S = 6.0  # about one call of the throughput runs: measured once agents dial out of step
SAMPLE_S = 2.0  # the engine's own count of lines, over its API (in this process: rarely)

# Targets (issue 5, "Speed").
CONNECT_P95_MS, CONNECT_P99_MS = 50.0, 100.0
RATE_SHARE = 0.90
LOOP_LAG_P99_MS = 50.0


def numbers(run: int, *digits: str) -> Iterator[str]:
    """Unique +86 numbers of `run` (its own range, so the carrier's log tells runs apart), their
    last digits (the carrier's behaviour) taken from `digits` in turn."""
    for i in range(100_000):
        yield f"+861{run:02d}{i:05d}{digits[i % len(digits)]}"


def run_prefix(run: int) -> str:
    return f"+861{run:02d}"


class BenchAmiLink(AmiLink):
    """The engine's own AMI link with two bench-only additions (no change to what the engine does).

    - `channels()` is blind to channels that were up before the engine started. The engine's
      start-up reconciliation (`dialer.live.reconcile`) hangs up every live channel whose uniqueid
      looks like ringcast's (`rc-call-N`, `rc-agent-N-...`), whichever engine and database it
      belongs to: on a lab shared with other sessions it would hang up their calls and agents.
      Each run here starts with a fresh database, which owns no channel, so an empty list is the
      true answer to "which live channels are mine".
    - It notes, for each customer Redirected into an agent's conference, how long after the
      answer event was read the engine sent the Redirect (`decide_ms`: the engine's own share of
      the connection delay; the rest is Asterisk moving the channel), and the deepest backlog of
      AMI events waiting for the engine (`backlog_peak`).
    """

    def __init__(self, endpoint: AmiEndpoint) -> None:
        super().__init__(endpoint)
        self.decide_ms: list[float] = []
        self.backlog_peak = 0
        self._answered_at: dict[str, float] = {}
        self.subscribe(self._note_answer)

    def _note_answer(self, event: AmiEvent) -> None:
        self.backlog_peak = max(self.backlog_peak, self._queue.qsize())
        if isinstance(event, OriginateFinished) and event.success:
            self._answered_at[event.channel] = event.received_at

    async def channels(self) -> list[ChannelSnapshot]:
        return []

    def redirect_now(
        self, channel: str, context: str, exten: str = "s", priority: int = 1
    ) -> Coroutine[Any, Any, Mapping[str, Any]]:
        answered_at = self._answered_at.pop(channel, None)
        if context == BRIDGE_CONTEXT and answered_at is not None:
            self.decide_ms.append((time.time() - answered_at) * 1000)
        return super().redirect_now(channel, context, exten, priority)


# -- one engine run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineRun:
    name: str
    run: int  # number range
    digits: tuple[str, ...]  # the numbers' last digits, in turn (the carrier's behaviour)
    leads: int
    agents: int  # logged in over the control API; the engine's wrap-up timer ends their wrap-up
    spec: dict[str, Any]


@dataclass
class RunResult:
    """One measured window of a run (engine or bare)."""

    name: str
    side: str  # "engine" or "bare"
    seconds: float
    carrier: CarrierFigures
    own_attempts: int  # engine: attempts dialed in the window; bare: OriginateResponse events
    own_peak: int  # engine: most open lines sampled; bare: most calls in flight
    loop_lag_ms: dict[str, float | None]
    cpu_percent: dict[str, float]
    connect_ms: list[float] = field(default_factory=list)  # human known → ConfbridgeJoin
    decide_ms: list[float] = field(default_factory=list)  # engine: answer read → Redirect sent
    event_backlog_peak: int | None = None  # engine: most AMI events waiting for it
    disturbed: str | None = None  # why another session's work on the shared lab spoiled the run
    outcomes: dict[str, int] = field(default_factory=dict)
    notes: str = ""

    @property
    def per_s(self) -> float:
        return self.carrier.per_s


def _prepare(database: Database, run: EngineRun, now: datetime) -> None:
    change = Change("bench", now)
    zone = zone_at_local_hour(14, now)  # inside every preset's calling hours
    with database.session() as session:
        contacts = ContactList(name=run.name, source_file="generated")
        session.add(contacts)
        session.flush()
        due = now - timedelta(minutes=1)
        session.execute(
            insert(Lead),
            [
                {
                    "list_id": contacts.id,
                    "e164": n,
                    "raw_input": n,
                    "time_zones": [zone],
                    "next_attempt_at": due,
                }
                for n, _ in zip(numbers(run.run, *run.digits), range(run.leads), strict=False)
            ],
        )
    create_lab_agents(database, "bench", _agent_names(run), change)
    spec = CampaignSpec.parse(
        {"caller_id": "4008001234", "group": "bench", "preset": "cn", "abandon_message": "vm-goodbye"}
        | {"lists": [{"name": run.name}]}
        | run.spec
    )
    reason = "benchmark of throughput, not of pacing"  # the mix run lifts the abandonment cap
    campaign_store.create(database, run.name, spec, change, trunks=["carrier"], override_reason=reason)
    campaign_store.change_state(database, run.name, CampaignEvent.START, change, trunks=["carrier"])


def _agent_names(run: EngineRun) -> list[str]:
    return [f"b{run.run}n{i}" for i in range(run.agents)]


async def _log_in(client: httpx.AsyncClient, names: list[str], campaign: str) -> list[str]:
    """Log agents in over the control API, a few at a time (each login is an originate); the failures."""
    gate = asyncio.Semaphore(20)
    failed: list[str] = []

    async def one(name: str) -> None:
        async with gate:
            response = await client.post(f"/agents/{name}/login", json={"campaign": campaign})
            if response.status_code != 200:
                failed.append(response.json().get("error", response.text))

    await asyncio.gather(*(one(name) for name in names))
    return failed


async def _sample_lines(client: httpx.AsyncClient, campaign: str, peak: list[int]) -> None:
    while True:
        status = (await client.get(f"/campaigns/{campaign}/status")).json()
        peak[0] = max(peak[0], int(status.get("lines", 0)))
        await asyncio.sleep(SAMPLE_S)


def _open_attempts(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).where(Attempt.ended_at.is_(None))) or 0)


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking database work off the engine's loop; retry while the engine holds the write lock."""
    for _ in range(20):
        try:
            return await asyncio.to_thread(function, *args)
        except OperationalError:  # "database is locked": the engine's writer is busy
            await asyncio.sleep(0.5)
    return await asyncio.to_thread(function, *args)


async def _wait_for_calls_to_end(database: Database, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        open_attempts: int = await _in_thread(_open_attempts, database)
        if not open_attempts:
            return
        await asyncio.sleep(0.5)


async def run_engine(run: EngineRun, seconds: float, lab: Lab, tmp: Path) -> RunResult:
    settings = load_settings()
    database = Database(f"sqlite:///{tmp / f'{run.name}-{run.run}.db'}")
    database.upgrade()
    _prepare(database, run, datetime.now(UTC))
    api = ApiEndpoint("127.0.0.1", free_tcp_port(), TOKEN)
    ami = BenchAmiLink(endpoint_from_settings(settings))
    engine = Engine(
        database=database,
        ami=ami,
        fastagi=FastAgiServer("127.0.0.1", free_tcp_port()),
        api=api,
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(engine.run(stop, on_ready=ready.set), name=f"engine-{run.name}")
    await asyncio.wait_for(ready.wait(), 30)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        base_url=f"http://{api.host}:{api.port}", headers=headers, timeout=60
    ) as client:
        names = _agent_names(run)
        login_started = time.monotonic()
        problems: list[str] = []
        if failed := await _log_in(client, names, run.name):
            problems.append(f"{len(failed)} agents could not log in, e.g. {failed[0]}")
        login_s = time.monotonic() - login_started
        await asyncio.sleep(WARM_UP_S)  # the agents' calls out of step, as the bare dialer's
        lag, cpu, peak = LoopLag(), CpuMeter(_pids(lab)), [0]
        start = time.time()
        ami.backlog_peak = 0
        lag.start()
        cpu.start()
        sampler = asyncio.create_task(_sample_lines(client, run.name, peak))
        await asyncio.sleep(seconds)
        end = time.time()
        cpu_percent, lag_ms = cpu.percent(), await lag.stop()
        if any(math.isnan(v) for v in cpu_percent.values()):
            problems.append("an Asterisk instance restarted during the window")
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        pause = Change("bench", datetime.now(UTC))
        await _in_thread(campaign_store.change_state, database, run.name, CampaignEvent.PAUSE, pause)
        await _wait_for_calls_to_end(database, DRAIN_S)
        for name in names:
            with contextlib.suppress(httpx.HTTPError):
                await client.post(f"/agents/{name}/logout")
    stop.set()
    await running
    window = (datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
    with database.session() as session:
        attempts = list(session.scalars(select(Attempt)))
        to_ready = select(AgentStateLog.agent_id, AgentStateLog.at).where(
            AgentStateLog.to_state == AgentState.READY
        )
        ready_at: dict[int, list[datetime]] = {}
        for agent_id, at in session.execute(to_ready.order_by(AgentStateLog.at)):
            ready_at.setdefault(agent_id, []).append(at)
    database.dispose()
    in_window = [a for a in attempts if window[0] <= a.dialed_at <= window[1]]
    delays, waited = _engine_delays(in_window, ready_at)  # not the logins' turmoil before the window
    if waited:
        problems.append(
            f"{waited} answered calls waited for an agent to free up (their wait is not the engine's)"
        )
    calls = _customer_calls(lab, run.run, start - 5)
    lost = [
        c for c in _agent_calls(lab, run, start - 600) if c.ended_at is not None and start <= c.ended_at < end
    ]
    disturbed = next((p for p in problems if "restarted" in p), None)
    if lost:
        disturbed = f"{len(lost)} agent phone legs hung up inside the window (another session, or the engine)"
        problems.append(disturbed)
    return RunResult(
        name=run.name,
        side="engine",
        seconds=end - start,
        carrier=carrier_figures(calls, start, end),
        own_attempts=len(in_window),
        own_peak=peak[0],
        loop_lag_ms=_lag_summary(lag_ms),
        cpu_percent=cpu_percent,
        connect_ms=delays,
        decide_ms=sorted(ami.decide_ms),
        event_backlog_peak=ami.backlog_peak,
        disturbed=disturbed,
        outcomes=dict(Counter(str(a.outcome) for a in attempts)),
        notes="; ".join([f"{run.agents} agents logged in in {login_s:.1f} s", *problems]),
    )


def _engine_delays(attempts: list[Attempt], ready_at: dict[int, list[datetime]]) -> tuple[list[float], int]:
    """The delay the engine added to each bridged call, in ms: from the human known (answer) or its
    agent ready, whichever came later, to the customer's ConfbridgeJoin (`bridged_at`); and how many
    calls had to wait for their agent (an agent's availability, not the engine's delay)."""
    delays, waited = [], 0
    for attempt in attempts:
        if attempt.bridged_at is None or attempt.answered_at is None or attempt.agent_id is None:
            continue
        readies = ready_at.get(attempt.agent_id, [])
        free_at = (
            readies[bisect.bisect_right(readies, attempt.bridged_at) - 1] if readies else attempt.answered_at
        )
        if free_at > attempt.answered_at:
            waited += 1
        delays.append((attempt.bridged_at - max(free_at, attempt.answered_at)).total_seconds() * 1000)
    return sorted(delays), waited


def _customer_calls(lab: Lab, run: int, since: float) -> list[Any]:
    prefix = run_prefix(run)
    return [c for c in lab.carrier_log(since=since) if c.number.startswith(prefix)]


def _pids(lab: Lab) -> dict[str, int]:
    """The pbx's and carrier's Asterisk pids (read per run: another session may restart one) and ours."""
    pids = {i.name: i.pid for i in lab.status().instances if i.pid is not None}
    return pids | {"ringcast": os.getpid()}


def _agent_calls(lab: Lab, run: EngineRun, since: float) -> list[Any]:
    legs = {f"agent-{name}" for name in _agent_names(run)}
    return [c for c in lab.carrier_log(since=since) if c.number in legs]


def _lag_summary(samples: list[float]) -> dict[str, float | None]:
    return {
        "p50": percentile(samples, 50),
        "p99": percentile(samples, 99),
        "max": max(samples) if samples else None,
    }


# -- the bare baselines ----------------------------------------------------------------------------


async def run_bare(
    name: str, run: int, digits: Sequence[str], seconds: float, lab: Lab, *, lines: int, agents: int
) -> RunResult:
    """The bare dialer (`bare_dialer`) for `seconds`; the window (meters, counts) opens once its
    agents are in and its lines have filled."""
    endpoint = endpoint_from_settings(load_settings())
    lag, cpu = LoopLag(), CpuMeter(_pids(lab))
    window: list[float] = []
    meters: list[asyncio.Task[tuple[dict[str, float], list[float]]]] = []

    async def measure_window() -> tuple[dict[str, float], list[float]]:
        await asyncio.sleep(seconds)
        return cpu.percent(), await lag.stop()

    def open_window() -> None:
        window.append(time.time())
        lag.start()
        cpu.start()
        meters.append(asyncio.create_task(measure_window()))

    dialer = await bare_dialer(
        endpoint,
        numbers(run, *digits),
        str(run),
        lines=lines,
        agents=agents,
        seconds=seconds,
        ring_timeout_s=RING_TIMEOUT_S,
        warm_up_s=WARM_UP_S,
        on_window=open_window,
    )
    cpu_percent, lag_ms = await meters[0]
    start = window[0]
    calls = _customer_calls(lab, run, start - 5)
    cut = [c for c in calls if c.talk_s is not None and c.talk_s < behaviour_for(c.number).talk_s - 1.0]
    return RunResult(
        name=name,
        side="bare",
        seconds=seconds,
        carrier=carrier_figures(calls, start, start + seconds),
        own_attempts=dialer.responses,
        own_peak=dialer.peak_in_flight,
        loop_lag_ms=_lag_summary(lag_ms),
        cpu_percent=cpu_percent,
        connect_ms=sorted(dialer.delays),
        outcomes={"answered": dialer.answered, "abandoned (no agent free)": dialer.abandoned},
        disturbed=f"{len(cut)} calls hung up early, not by this run" if len(cut) > dialer.abandoned else None,
    )


# -- report ------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _delay_row(label: str, delays: list[float]) -> dict[str, Any]:
    return {
        "measured": label,
        "calls": len(delays),
        "p50": percentile(delays, 50),
        "p95": percentile(delays, 95),
        "p99": percentile(delays, 99),
        "max": max(delays) if delays else None,
    }


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def delay_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| connection delay (ms): human known (and agent free) → ConfbridgeJoin"
        " | calls | p50 | p95 | p99 | max | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        target = "—"
        if row["measured"].startswith("engine,") and row["calls"]:
            ok = row["p95"] <= CONNECT_P95_MS and row["p99"] <= CONNECT_P99_MS
            target = f"p95 ≤ {CONNECT_P95_MS:.0f}, p99 ≤ {CONNECT_P99_MS:.0f}: {_verdict(ok)}"
        lines.append(
            f"| {row['measured']} | {row['calls']} | {_ms(row['p50'])} | {_ms(row['p95'])}"
            f" | {_ms(row['p99'])} | {_ms(row['max'])} | {target} |"
        )
    return "\n".join(lines)


def throughput_table(pairs: list[tuple[str, RunResult, RunResult]]) -> str:
    lines = [
        "| workload | side | attempts/s (carrier) | own count/s | peak concurrent (carrier) | own peak"
        " | engine/bare rate | engine/bare peak | loop lag p50 / p99 / max ms"
        " | CPU % pbx / carrier / ringcast |",
        "|---|---|---:|---:|---:|---:|---|---|---|---|",
    ]
    for workload, bare, engine in pairs:
        for result in (bare, engine):
            rate_share = peak_share = ""
            target = result is engine and "(target)" in workload  # the other pairs are for information
            if result is engine:
                rate = engine.per_s / bare.per_s if bare.per_s else 0.0
                peak = engine.carrier.peak_concurrent / max(bare.carrier.peak_concurrent, 1)
                rate_share = f"{rate:.0%}" + (f" {_verdict(rate >= RATE_SHARE)}" if target else "")
                peak_share = f"{peak:.0%}" + (f" {_verdict(peak >= RATE_SHARE)}" if target else "")
            lag, cpu = result.loop_lag_ms, result.cpu_percent
            lag_text = f"{_ms(lag['p50'])} / {_ms(lag['p99'])} / {_ms(lag['max'])}"
            if target and lag["p99"] is not None:
                lag_text += f" {_verdict(lag['p99'] <= LOOP_LAG_P99_MS)}"
            lines.append(
                f"| {workload} | {result.side} | {result.per_s:.1f}"
                f" | {result.own_attempts / result.seconds:.1f}"
                f" | {result.carrier.peak_concurrent} | {result.own_peak} | {rate_share or '—'}"
                f" | {peak_share or '—'} | {lag_text}"
                f" | {cpu['pbx']:.0f} / {cpu['carrier']:.0f} / {cpu['ringcast']:.0f} |"
            )
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------------------


async def _undisturbed(
    label: str, measure: Callable[[int], Awaitable[RunResult]], run: int, retries: int
) -> RunResult:
    """Measure; while another session disturbed the run (see `RunResult.disturbed`), measure again
    with a fresh number range."""
    for attempt in range(retries + 1):
        print(f"{label} ...", flush=True)
        try:
            result = await measure(run + 10 * attempt)
        except (TimeoutError, UserError) as exc:  # e.g. the pbx was being restarted by someone else
            if attempt == retries:
                raise
            print(f"  failed ({type(exc).__name__}: {exc})", flush=True)
            continue
        if result.disturbed is None:
            return result
        print(f"  disturbed ({result.disturbed})", flush=True)
    return result


async def bench(args: argparse.Namespace, lab: Lab, tmp: Path) -> dict[str, Any]:
    seconds, agents, lines, retries = args.seconds, args.agents, args.lines, args.retries
    endpoint = endpoint_from_settings(load_settings())
    print("connection delay: bare Redirect baseline ...", flush=True)
    bare_light = await bare_dialer(
        endpoint,
        numbers(71, HUMAN_AT_ONCE),
        "71",
        lines=LATENCY_PARALLEL,
        agents=LATENCY_PARALLEL,
        calls=LATENCY_CALLS,
        hang_up_on_join=True,
    )
    light_spec = {"dial_mode": "progressive", "wrap_up_s": 1}
    light = await _undisturbed(
        f"connection delay: engine, {LIGHT_AGENTS} agents",
        lambda run: run_engine(
            EngineRun("bench-light", run, (HUMAN,), 400, LIGHT_AGENTS, light_spec), seconds, lab, tmp
        ),
        72,
        retries,
    )
    bare_mix = await _undisturbed(
        f"throughput at the aim: bare dialer, {lines} lines, {agents} agents",
        lambda run: run_bare("mix", run, MIX, seconds, lab, lines=lines, agents=agents),
        73,
        retries,
    )
    mix_spec = {
        "dial_mode": "ratio",
        "ratio": 10,
        "wrap_up_s": 0,
        "max_lines": lines,
        "ring_timeout_s": RING_TIMEOUT_S,
        "abandon_cap": 1.0,  # throughput, not pacing: the bare dialer drops what finds no agent too
    }
    mix_leads = int(lines / 6.4 * (seconds + 60))
    engine_mix = await _undisturbed(
        f"throughput at the aim: engine, ratio 10, {lines} lines, {agents} agents",
        lambda run: run_engine(
            EngineRun("bench-mix", run, MIX, mix_leads, agents, mix_spec), seconds, lab, tmp
        ),
        74,
        retries,
    )
    bare_busy = await _undisturbed(
        f"flat out, busy: bare dialer, {lines} lines",
        lambda run: run_bare("busy", run, (BUSY,), seconds, lab, lines=lines, agents=0),
        75,
        retries,
    )
    busy_agents = max(1, lines // 10)
    busy_spec = {"dial_mode": "ratio", "ratio": 10, "wrap_up_s": 0, "max_lines": lines}
    busy_leads = max(3000, int(max(bare_busy.per_s, 30) * seconds * 1.5))
    engine_busy = await _undisturbed(
        f"flat out, busy: engine, ratio 10 with {busy_agents} agents",
        lambda run: run_engine(
            EngineRun("bench-busy", run, (BUSY,), busy_leads, busy_agents, busy_spec), seconds, lab, tmp
        ),
        76,
        retries,
    )
    delays = [
        _delay_row(f"bare, {LATENCY_PARALLEL} agents (light load)", bare_light.delays),
        _delay_row(f"engine, {LIGHT_AGENTS} agents (light load)", light.connect_ms),
        _delay_row(f"bare, {agents} agents (throughput run)", bare_mix.connect_ms),
        _delay_row(f"engine, {agents} agents (throughput run)", engine_mix.connect_ms),
        _delay_row(f"of which engine ({LIGHT_AGENTS} agents): answer read → Redirect sent", light.decide_ms),
        _delay_row(f"of which engine ({agents} agents): answer read → Redirect sent", engine_mix.decide_ms),
    ]
    pairs = [
        (f"campaign mix, {lines} lines, {agents} agents (target)", bare_mix, engine_mix),
        (f"busy, {lines} lines flat out (information)", bare_busy, engine_busy),
    ]
    runs = [light, bare_mix, engine_mix, bare_busy, engine_busy]
    notes = [
        f"{r.side} {r.name}: {r.per_s:.1f} attempts/s over {r.seconds:.0f} s; outcomes {r.outcomes}"
        + (f"; AMI event backlog peak {r.event_backlog_peak}" if r.event_backlog_peak is not None else "")
        + (f"; {r.notes}" if r.notes else "")
        for r in runs
    ]
    return {
        "notes": notes,
        "delays": delays,
        "pairs": pairs,
        "runs": [_run_json(r) for r in runs],
        "bare_connect_ms": sorted(bare_light.delays),
    }


def _run_json(result: RunResult) -> dict[str, Any]:
    data = asdict(result)
    data["per_s"] = result.per_s
    data["connect_ms"] = result.connect_ms
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="length of each measured run (default 30)"
    )
    parser.add_argument(
        "--agents", type=int, default=80, help="agents of the throughput runs, bare and engine (default 80)"
    )
    parser.add_argument(
        "--lines",
        type=int,
        default=200,
        help="lines (calls up at most) of the throughput runs, bare and engine (default 200)",
    )
    parser.add_argument(
        "--retries", type=int, default=2, help="re-measure a run another session disturbed (default 2)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write live.md and live.json")
    args = parser.parse_args(argv)
    lab = Lab(load_settings())
    status = lab.status()
    if not status.running:
        print("the lab is not running: `ringcast lab up` first", file=sys.stderr)
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ringcast-live-bench-") as tmp:
        report = asyncio.run(bench(args, lab, Path(tmp)))
    delays, pairs = delay_table(report["delays"]), throughput_table(report["pairs"])
    notes = "\n".join(f"- {line}" for line in report["notes"])
    print(f"\n{delays}\n\n{pairs}\n\n{notes}\n\n{time.monotonic() - started:.0f} s in all")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "live.md").write_text(
        f"# Live benchmark: the engine against bare AMI on the lab\n\n"
        f"Machine: {machine}; run {datetime.now(UTC).isoformat(timespec='seconds')};"
        f" {args.seconds:g} s per run, {args.agents} agents, flat out {args.lines} lines.\n\n"
        f"{delays}\n\n{pairs}\n\nRuns:\n\n{notes}\n"
    )
    (args.out / "live.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "seconds": args.seconds,
                "agents": args.agents,
                "lines": args.lines,
                "delays": report["delays"],
                "bare_connect_ms": report["bare_connect_ms"],
                "runs": report["runs"],
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
