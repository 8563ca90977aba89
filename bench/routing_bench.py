"""Routing benchmark: the ACD router's decisions on a busy floor, beside the naive scan, in one run.

    .venv/bin/python bench/routing_bench.py [--decisions 2000] [--repeat 5] [--seed 1] [--out DIR]

The floor: 1,000 agents and 20 queues, the six strategies in turn. Queue `q00` has every agent as a
member (an all-hands overflow group: the most ready members a decision can face); every agent is
also in 1-3 of the other queues, with a skill level 1-10 in each, one in twenty a supervisor. Agents
are ready (30 %), on a call (45 %), in wrap-up (10 %), paused (10 %) or logged out (5 %); one in five
has a maximum occupancy of 85 % and a state log of the last 35 minutes to measure it against. 500
calls wait, spread over the queues: one in ten a VIP, one in five remembering an agent (some out of
the 30-day window), one in fifty dialled to an agent. (Ready agents beside waiting calls is no
steady state, but it is the costliest one for both kinds of decision.)

Measured, each decision alone on that same board (decisions only read it):

- an agent becomes ready (`router.agent_ready`): which call it gets, for random ready agents;
- a call arrives (`router.route_call`): which agents it goes to, for fresh calls of random queues,
  one row per strategy;

each beside `dialer.acd.baseline`, which makes the same decision by scanning every call and agent;
every pair of decisions is checked equal. A decision's time is the median of `--repeat` runs of it
(as in `pacing.py`): the machine is shared, and a run the OS preempted measures the machine, not
the decision. Target: the router's slowest decision ≤ 1 ms.
Prints a table and writes `DIR/routing.md`. A benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from live_probes import percentile

from campaigns.persistence.models.enums import AgentState
from dialer.acd import baseline, router
from dialer.acd.board import Board
from dialer.acd.calls import RememberedAgent, WaitingCall
from dialer.acd.queues import QueueConfig, QueueMember, Strategy
from dialer.acd.router import Decision
from dialer.acd.strategies import Turns
from dialer.agents.selection import Candidate
from dialer.agents.state import AgentStatus, StateChange

RESULTS = Path(__file__).resolve().parent / "results"
AGENTS, QUEUES, WAITING = 1000, 20, 500
TARGET_US = 1000.0
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
STATES = {
    AgentState.READY: 0.30,
    AgentState.ON_CALL: 0.45,
    AgentState.WRAP_UP: 0.10,
    AgentState.NOT_READY: 0.10,
    AgentState.LOGGED_OUT: 0.05,
}
STRATEGIES = list(Strategy)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def build_queues(rng: random.Random) -> list[QueueConfig]:
    members: list[list[QueueMember]] = [[] for _ in range(QUEUES)]
    for agent_id in range(1, AGENTS + 1):
        for queue in [0, *rng.sample(range(1, QUEUES), rng.randint(1, 3))]:
            member = QueueMember(agent_id, skill=rng.randint(1, 10), supervisor=rng.random() < 0.05)
            members[queue].append(member)
    return [
        QueueConfig(
            f"q{n:02d}", tuple(members[n]), STRATEGIES[n % len(STRATEGIES)], priority=rng.randint(0, 2)
        )
        for n in range(QUEUES)
    ]


def state_log(agent_id: int, rng: random.Random, state: AgentState) -> tuple[StateChange, ...]:
    """A dozen changes over the last 35 minutes, each to on-call or ready at random, the last to `state`."""
    moments = sorted(rng.uniform(0, 2100) for _ in range(12))[::-1]
    changes, current = [], AgentState.READY
    for n, seconds_ago in enumerate(moments):
        following = state if n == len(moments) - 1 else rng.choice([AgentState.ON_CALL, AgentState.READY])
        changes.append(StateChange(agent_id, current, following, None, ago(seconds_ago)))
        current = following
    return tuple(changes)


def build_agent(agent_id: int, rng: random.Random) -> Candidate:
    state = rng.choices(list(STATES), weights=list(STATES.values()))[0]
    status = AgentStatus(agent_id, state, ago(rng.uniform(0, 600)))
    if rng.random() < 0.2:
        return Candidate(status, state_log(agent_id, rng, state), max_occupancy=0.85)
    return Candidate(status)


def new_call(call_id: str, queue: QueueConfig, rng: random.Random, waited_s: float) -> WaitingCall:
    remembered = direct = None
    draw = rng.random()
    if draw < 0.02:
        direct = rng.randint(1, AGENTS)
    elif draw < 0.22 and queue.members:
        served = ago(rng.uniform(0, 60) * 86_400)
        remembered = RememberedAgent(rng.choice(queue.members).agent_id, served)
    return WaitingCall(
        call_id,
        queue.name,
        ago(waited_s),
        "+8613800138000",
        priority=5 if rng.random() < 0.1 else 0,
        remembered=remembered,
        direct_agent=direct,
    )


def busy_floor(rng: random.Random) -> tuple[Board, Turns]:
    queues = build_queues(rng)
    board = Board(queues)
    for agent_id in range(1, AGENTS + 1):
        board.update_agent(build_agent(agent_id, rng))
    for n in range(WAITING):
        board.add_call(new_call(f"w{n}", rng.choice(queues), rng, rng.uniform(0, 280)))
    last_offered = {q.name: rng.choice(q.members).agent_id for q in queues if q.members}
    answered = {agent_id: rng.randint(0, 30) for agent_id in range(1, AGENTS + 1)}
    return board, Turns(last_offered, answered)


def timed(decide: Callable[[], Decision], repeat: int) -> tuple[float, Decision]:
    """The decision and its time in µs: the median of `repeat` runs, so that a run the OS preempted
    (others share the machine) does not count as the decision's own cost."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        decision = decide()
        runs.append((time.perf_counter_ns() - started) / 1000)
    return statistics.median(runs), decision


def measure(args: argparse.Namespace) -> dict[str, tuple[list[float], list[float]]]:
    """Per kind of decision: the router's and the baseline's times (µs), each decision checked equal."""
    rng = random.Random(args.seed)
    board, turns = busy_floor(rng)
    ready = sorted(a for a, candidate in board.agents.items() if candidate.status.state is AgentState.READY)
    queues = list(board.queues.values())
    times: dict[str, tuple[list[float], list[float]]] = {}

    def record(kind: str, fast: Callable[[], Decision], naive: Callable[[], Decision]) -> None:
        fast_us, fast_decision = timed(fast, args.repeat)
        naive_us, naive_decision = timed(naive, args.repeat)
        if fast_decision != naive_decision:
            raise AssertionError(f"{kind}: router {fast_decision} but baseline {naive_decision}")
        mine = times.setdefault(kind, ([], []))
        mine[0].append(fast_us)
        mine[1].append(naive_us)

    for n in range(args.decisions):
        agent_id = rng.choice(ready)
        record(
            "an agent becomes ready",
            partial(router.agent_ready, board, agent_id, NOW, turns),
            partial(baseline.agent_ready, board, agent_id, NOW, turns),
        )
        queue = rng.choice(queues)
        call = new_call(f"new{n}", queue, rng, waited_s=0)
        record(
            f"a call arrives: {queue.strategy.value}",
            partial(router.route_call, board, call, NOW, turns),
            partial(baseline.route_call, board, call, NOW, turns),
        )
    return times


def _figures(values: list[float]) -> str:
    return f"{percentile(values, 50):.0f} / {percentile(values, 95):.0f} / {max(values):.0f}"


def table(times: dict[str, tuple[list[float], list[float]]]) -> str:
    every = (
        [t for fast, _ in times.values() for t in fast],
        [t for _, naive in times.values() for t in naive],
    )
    rows = [*sorted(times.items()), ("every decision", every)]
    lines = [
        "| decision | count | router p50 / p95 / max (µs) | baseline p50 / p95 / max (µs) | router ≤ 1 ms |",
        "|---|---|---|---|---|",
    ]
    for kind, (fast, naive) in rows:
        verdict = "PASS" if max(fast) <= TARGET_US else "FAIL"
        lines.append(f"| {kind} | {len(fast)} | {_figures(fast)} | {_figures(naive)} | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=2000, help="decisions of each kind (default 2000)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of each decision, median kept (default 5)"
    )
    parser.add_argument("--seed", type=int, default=1, help="the floor's and the decisions' seed")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write routing.md")
    args = parser.parse_args(argv)
    started = time.monotonic()
    text = table(measure(args))
    print(f"{text}\n\n{time.monotonic() - started:.0f} s in all")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "routing.md").write_text(
        "# Routing benchmark: the ACD router beside a naive scan of every call and agent\n\n"
        f"Machine: {machine}; run {datetime.now(UTC).isoformat(timespec='seconds')}; {AGENTS} agents,"
        f" {QUEUES} queues, {WAITING} calls waiting, seed {args.seed}; each decision's time the median of"
        f" {args.repeat} runs; every decision checked equal to the baseline's."
        f" Queue q00 ({STRATEGIES[0].value}) has all {AGENTS} agents as members:"
        f" its calls are that row's slow tail.\n\n{text}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
