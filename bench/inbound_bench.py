"""Inbound burst on the lab: 100 callers in 10 s to a queue of bot agents, none lost, and the delay
the engine adds between a caller at the head of the queue with an agent ready and that agent.

    .venv/bin/python bench/inbound_bench.py [--calls 100] [--seconds 10] [--agents 30] [--talk 3]

Runs the engine in this process against the lab (`ringcast lab up`; the lab is taken under
`/tmp/ringcast-lab.lock`, which the lab tests share), on a fresh SQLite database. The carrier
places the callers to a number routed straight to queue `burst` (no prompt); bot agents on
persistent connections take them, talk `--talk` seconds and hang up. Two runs, same engine:

- quiet (the baseline): `--calls / 10` callers one at a time, each after the last has ended;
- burst: `--calls` callers evenly over `--seconds`.

Lost: a caller the carrier placed with no record of its call, or a record with no end, once every
call is over; every call must end answered (the queue's wait limit is longer than the run).
Delay per answered call, from the records: the caller joined the agent (`queue_visits.left_at`)
minus the later of its entry in the queue and the moment the agent that took it last became
ready (`agent_state_log`). With one queue served in order, that agent became ready while this
caller was at the head (else it would have taken the head), so this is the time from "head of
the queue with an agent ready" to "joined", all of it the engine's: routing, the reservation,
the move (through the caller's FastAGI session when an agent is ready as it arrives, else an AMI
Redirect) and the pbx's ConfBridge join as the engine hears of it; p95 is the nearest rank
of `live_probes.percentile`, as in the other benchmarks. The records are read in a thread
(`live_bench._in_thread`), never on the loop the engine runs on. Prints a table and
writes `bench/results/inbound.md` and `.json`. Benchmarks print and compare; nothing here is a
test with a time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from live_bench import _in_thread  # noqa: E402
from live_probes import percentile  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from campaigns import campaign_store, ivr_store, queue_store  # noqa: E402
from campaigns.campaign_store import CampaignEvent  # noqa: E402
from campaigns.compliance.blocklist_store import Change  # noqa: E402
from campaigns.config import CampaignSpec  # noqa: E402
from campaigns.persistence.db import Database  # noqa: E402
from campaigns.persistence.models import AgentStateLog, InboundCall, QueueVisit  # noqa: E402
from campaigns.persistence.models.enums import AgentState, InboundOutcome  # noqa: E402
from dialer.asterisk.ami import AmiLink  # noqa: E402
from dialer.asterisk.carrier_caller import InboundCaller, call_pbx, carrier_endpoint  # noqa: E402
from dialer.asterisk.lab import Lab  # noqa: E402
from dialer.engine import running_engine  # noqa: E402
from dialer.ivr.did_plan import DidPlan  # noqa: E402
from dialer.ivr.direct import DirectRoute  # noqa: E402
from dialer.live.bot_agents import BotAgents, create_lab_agents  # noqa: E402
from dialer.live.lab_lists import add_lab_list  # noqa: E402
from ringcast.settings import load_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LAB_LOCK = Path("/tmp/ringcast-lab.lock")
DID = "4008009000"
QUEUE = "burst"
CAMPAIGN = "burst-agents"
GROUP = "burst-bots"
CALLER_BASE = 13_900_000_000  # caller numbers: 139 0000 0000 + n (a China Mobile range)
TARGET_P95_MS = 50.0


@contextmanager
def lab_taken() -> Iterator[None]:
    """The lab to ourselves: the lab tests take the same lock."""
    with LAB_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare(database: Database, agents: list[str], now: datetime) -> None:
    """Queue `burst` with the bots, a preview campaign they log in to, the number routed to it."""
    change = Change("inbound bench", now)
    create_lab_agents(database, GROUP, agents, change)
    # one lead, so that the campaign may start; a preview campaign dials nothing by itself
    add_lab_list(database, CAMPAIGN, {"+8613999999999": "Asia/Shanghai"}, now)
    spec = CampaignSpec.parse(
        {
            "dial_mode": "preview",
            "caller_id": "4008001234",
            "group": GROUP,
            "preset": "cn",
            "lists": [{"name": CAMPAIGN}],
        }
    )
    campaign_store.create(database, CAMPAIGN, spec, change, trunks=["carrier"])
    campaign_store.change_state(database, CAMPAIGN, CampaignEvent.START, change, trunks=["carrier"])
    queue_store.create_queue(database, QUEUE, {"max_wait_s": 600.0}, change)
    for agent in agents:
        queue_store.add_member(database, QUEUE, agent, change)
    ivr_store.set_number(database, DID, DidPlan(direct=DirectRoute(queue=QUEUE)), change)


async def place(carrier: AmiLink, first: int, count: int, spacing_s: float, hold_s: float) -> None:
    """`count` callers, one every `spacing_s`, each staying on the line up to `hold_s`."""
    started = time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n * spacing_s - time.monotonic()))
        caller = InboundCaller(DID, str(CALLER_BASE + first + n), hang_up_after_s=hold_s)
        await call_pbx(carrier, caller)


def _ended(database: Database) -> int:
    with database.session() as session:
        query = select(func.count()).select_from(InboundCall).where(InboundCall.ended_at.is_not(None))
        return int(session.scalar(query) or 0)


async def until_ended(database: Database, expected: int, timeout_s: float) -> None:
    """Until `expected` calls have ended, or `timeout_s` (what is left open then counts as lost).
    The database is read in a thread: the engine's loop, which this process shares, never waits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ended: int = await _in_thread(_ended, database)
        if ended >= expected:
            return
        await asyncio.sleep(0.5)


def measure(database: Database, callers: set[str]) -> dict[str, Any]:
    """Counts and delays of the calls from `callers` (see the module doc)."""
    with database.session() as session:
        calls = [c for c in session.scalars(select(InboundCall)) if c.caller in callers]
        ids = {c.id for c in calls}
        visits = [v for v in session.scalars(select(QueueVisit)) if v.call_id in ids]
        readiness: dict[int, list[datetime]] = {}
        for row in session.scalars(
            select(AgentStateLog).where(AgentStateLog.to_state == AgentState.READY).order_by(AgentStateLog.at)
        ):
            readiness.setdefault(row.agent_id, []).append(row.at)
    delays: list[float] = []
    for visit in visits:
        if visit.agent_id is None or visit.left_at is None:
            continue
        ready = max((at for at in readiness.get(visit.agent_id, []) if at <= visit.left_at), default=None)
        head = max(visit.entered_at, ready) if ready is not None else visit.entered_at
        delays.append((visit.left_at - head).total_seconds() * 1000)
    outcomes: dict[str, int] = {}
    for call in calls:
        key = call.outcome.value if call.outcome is not None else "open"
        outcomes[key] = outcomes.get(key, 0) + 1
    delays.sort()
    return {
        "placed": len(callers),
        "recorded": len(calls),
        "lost": len(callers) - sum(1 for c in calls if c.ended_at is not None),
        "answered": outcomes.get(InboundOutcome.ANSWERED.value, 0),
        "outcomes": outcomes,
        "delay_ms": {
            "n": len(delays),
            "p50": statistics.median(delays) if delays else None,
            "p95": percentile(delays, 95),
            "max": delays[-1] if delays else None,
        },
    }


async def run(calls: int, seconds: float, agents: int, talk_s: float) -> dict[str, Any]:
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="ringcast-inbound-bench-") as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        database.upgrade()
        names = [f"burst{n:02d}" for n in range(1, agents + 1)]
        prepare(database, names, datetime.now(UTC))
        carrier = AmiLink(carrier_endpoint(settings))
        await carrier.connect()
        try:
            async with running_engine(database, settings) as client:
                bots = BotAgents(client, names, CAMPAIGN, wrap_s=0.2, talk_s=talk_s)
                await bots.start()
                try:
                    quiet_calls = max(1, calls // 10)
                    for n in range(quiet_calls):  # the baseline: one caller at a time
                        await place(carrier, n, 1, 0.0, hold_s=talk_s + 20)
                        await until_ended(database, n + 1, timeout_s=talk_s + 30)
                    quiet_callers = {f"+86{CALLER_BASE + n}" for n in range(quiet_calls)}
                    quiet: dict[str, Any] = await _in_thread(measure, database, quiet_callers)
                    started = time.monotonic()
                    await place(carrier, quiet_calls, calls, seconds / calls, hold_s=talk_s + 120)
                    placed_s = time.monotonic() - started
                    await until_ended(database, quiet_calls + calls, timeout_s=talk_s * calls / agents + 150)
                    burst_callers = {f"+86{CALLER_BASE + quiet_calls + n}" for n in range(calls)}
                    measured: dict[str, Any] = await _in_thread(measure, database, burst_callers)
                    burst = measured | {"placed_in_s": placed_s}
                finally:
                    await bots.stop()
        finally:
            await carrier.close()
            database.dispose()
    return {
        "calls": calls,
        "seconds": seconds,
        "agents": agents,
        "talk_s": talk_s,
        "quiet": quiet,
        "burst": burst,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(outcome: dict[str, Any]) -> str:
    rows = []
    for label in ("quiet", "burst"):
        run = outcome[label]
        delay = run["delay_ms"]
        rows.append(
            f"| {label} | {run['placed']} | {run['recorded']} | {run['lost']} | {run['answered']} |"
            f" {_ms(delay['p50'])} | {_ms(delay['p95'])} | {_ms(delay['max'])} |"
        )
    burst_p95 = outcome["burst"]["delay_ms"]["p95"]
    verdict = (
        "met"
        if burst_p95 is not None and burst_p95 <= TARGET_P95_MS and outcome["burst"]["lost"] == 0
        else "not met"
    )
    return "\n".join(
        [
            f"# Inbound burst on the lab: {outcome['calls']} callers in {outcome['seconds']:g} s",
            "",
            f"Machine: {platform.machine()}, Python {platform.python_version()}; run {outcome['run_at']}."
            f" {outcome['agents']} bot agents on persistent connections, talking {outcome['talk_s']:g} s;"
            f" the burst's callers were placed in {outcome['burst']['placed_in_s']:.1f} s.",
            "",
            "| run | placed | recorded | lost | answered | delay p50 ms | delay p95 ms | delay max ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Delay: from the caller at the head of the queue with an agent ready to the caller joined to",
            "that agent (the engine's routing, reservation, the move through the caller's FastAGI session",
            "or an AMI Redirect, and the pbx's join as the engine hears it). Quiet is the baseline: one",
            "caller at a time, same engine and agents.",
            f"Targets: no call lost; burst delay p95 ≤ {TARGET_P95_MS:g} ms: **{verdict}**.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--talk", type=float, default=3.0)
    args = parser.parse_args()
    with lab_taken():
        Lab(load_settings()).up()
        outcome = asyncio.run(run(args.calls, args.seconds, args.agents, args.talk))
    outcome["run_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    text = report(outcome)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "inbound.md").write_text(text, encoding="utf-8")
    (RESULTS / "inbound.json").write_text(json.dumps(outcome, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
