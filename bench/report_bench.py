"""Report benchmark: every report over 30 days of a history of 10,000,000 attempts and 1,000,000 leads.

    .venv/bin/python bench/report_bench.py [--attempts N] [--leads N] [--backends sqlite,postgresql]

The history is generated straight into a migrated database (SQLite in a temporary file,
PostgreSQL in a private throw-away cluster), through the driver in bulk: 20 campaigns with their
lists and dispositions, 200 agents, the leads (mostly Shanghai, a tenth New York), 60 days of
attempts during the day (outcomes in a dialer's usual mix: answered, no answer, busy, machine,
abandoned, failed, cancelled; answered calls bridged to agents, disposed), the agents' state
changes, inbound calls through ten queues (a tenth as many as attempts, one queue visit each), SMS
messages and dial-time refusals in the audit log, in proportion. PostgreSQL then
gets the `VACUUM ANALYZE` its autovacuum would run after such a load (statistics, and the
visibility map its index-only scans need); SQLite runs as the application leaves it.

Then each report (`reports/`, as `ringcast report NAME` builds it: `trunks` is the trunks table
and the inbound numbers table it prints together) runs over the last 30 days in a fresh process,
its wall time and peak memory measured (`support.MemorySampler`), beside a plain `SELECT count(*)`
over the same attempts, filtered as the reports filter them (`reports/scope.py`), in the same run.
Targets: each report ≤ 10 s, peak memory ≤ 1 GB. Prints a table and writes
`bench/results/report.md` and `.json`. A benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from support import MemorySampler, backend_url, in_child  # noqa: E402

from campaigns import campaign_store, queue_store  # noqa: E402
from campaigns.compliance.blocklist_store import Change  # noqa: E402
from campaigns.config import CampaignSpec  # noqa: E402
from campaigns.persistence.db import Database  # noqa: E402
from campaigns.persistence.models import Agent, Attempt, ContactList, Disposition  # noqa: E402
from tests.support.pgcluster import PrivateCluster, postgres_bindir  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CAMPAIGNS, AGENTS, DAYS, PERIOD_DAYS = 20, 200, 60, 30
TARGET_S, TARGET_MB = 10.0, 1024.0
END = datetime(2026, 11, 30, tzinfo=UTC)  # the history ends at this midnight (08:00 in Shanghai)
OUTCOMES = [  # outcome, share, answered?, bridged?
    ("answered", 0.25, True, True),
    ("no_answer", 0.33, False, False),
    ("busy", 0.15, False, False),
    ("machine", 0.10, True, False),
    ("abandoned", 0.02, True, False),
    ("failed", 0.10, False, False),
    ("cancelled", 0.05, False, False),
]
CAUSES = {
    "answered": 16,
    "no_answer": 19,
    "busy": 17,
    "machine": 16,
    "abandoned": 16,
    "failed": 34,
    "cancelled": 16,
}
QUEUES = [f"queue-{n}" for n in range(10)]
VISIT_RESULTS = [("answered", 0.85), ("abandoned", 0.08), ("overflowed", 0.05), ("failed", 0.02)]
SMS_STATES = [("delivered", 0.7), ("sent", 0.1), ("failed", 0.1), ("cancelled", 0.08), ("queued", 0.02)]
REPORTS = ("agents", "campaign", "compliance", "sms", "trunks", "queues")


def _stamp(at: datetime) -> str:
    """A UTC instant as the database stores it (SQLite's text form; PostgreSQL reads it in UTC)."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def _outcome_picker(rng: random.Random) -> Callable[[], tuple[str, bool, bool]]:
    names = [o for o, *_ in OUTCOMES]
    weights = [share for _, share, *_ in OUTCOMES]
    flags = {o: (answered, bridged) for o, _, answered, bridged in OUTCOMES}

    def pick() -> tuple[str, bool, bool]:
        outcome = rng.choices(names, weights)[0]
        return (outcome, *flags[outcome])

    return pick


def create_campaigns(database: Database, leads: int) -> dict[str, Any]:
    """Lists, campaigns (with dispositions) and agents through the stores; their ids."""
    change = Change("bench", END - timedelta(days=DAYS + 1))
    with database.session() as session:
        lists = [ContactList(name=f"list-{n}", imported_at=change.at) for n in range(CAMPAIGNS)]
        agents = [
            Agent(name=f"agent{n}", display_name=f"坐席{n}", dial_string=f"PJSIP/a{n}") for n in range(AGENTS)
        ]
        session.add_all([*lists, *agents])
        session.flush()
        list_ids, agent_ids = [row.id for row in lists], [row.id for row in agents]
    campaigns = []
    for n in range(CAMPAIGNS):
        spec = CampaignSpec.parse(
            {
                "lists": [f"list-{n}"],
                "caller_id": f"+8620888{n:05d}",
                "dispositions": ["sale:final", "call_back_later:retry", "not_interested:final"],
            }
        )
        campaigns.append(
            campaign_store.create(database, f"campaign-{n}", spec, change, trunks=("carrier",)).id
        )
    with database.session() as session:
        codes = {
            campaign_id: [
                row.id
                for row in session.scalars(select(Disposition).where(Disposition.campaign_id == campaign_id))
            ]
            for campaign_id in campaigns
        }
    for name in QUEUES:
        queue_store.create_queue(database, name, {}, change)
    return {"lists": list_ids, "campaigns": campaigns, "agents": agent_ids, "codes": codes, "leads": leads}


def lead_rows(ids: dict[str, Any], rng: random.Random) -> Iterator[tuple[Any, ...]]:
    now = _stamp(END)
    for n in range(ids["leads"]):
        zones = _zones(n)
        state = rng.choices(["new", "retry", "done", "exhausted"], [0.4, 0.2, 0.3, 0.1])[0]
        due = now if state in ("new", "retry") else None
        yield (
            ids["lists"][n % CAMPAIGNS],
            _e164(n),
            _e164(n),
            "{}",
            zones,
            state,
            1,
            due,
            0,
            False,
            now,
            now,
        )


def _e164(n: int) -> str:
    return f"+86139{n:08d}"


def _zones(n: int) -> str:
    return '["America/New_York"]' if n % 10 == 0 else '["Asia/Shanghai"]'


def attempt_rows(ids: dict[str, Any], count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    pick = _outcome_picker(rng)
    start = END - timedelta(days=DAYS)
    span_s = DAYS * 86_400
    for _ in range(count):
        lead = rng.randrange(ids["leads"])
        campaign = ids["campaigns"][lead % CAMPAIGNS]
        dialed = start + timedelta(seconds=rng.randrange(span_s))
        dialed = dialed.replace(hour=1 + (dialed.hour % 12))  # 09:00-21:00 in Shanghai
        outcome, answered, bridged = pick()
        answered_at = dialed + timedelta(seconds=12) if answered else None
        bridged_at = answered_at + timedelta(seconds=1) if bridged and answered_at else None
        talk = int(rng.expovariate(1 / 120)) + 5 if answered_at else 0
        ended = (bridged_at or answered_at or dialed) + timedelta(seconds=talk or rng.randrange(5, 30))
        agent = rng.choice(ids["agents"]) if bridged_at else None
        code = rng.choice(ids["codes"][campaign]) if bridged_at else None
        yield (
            lead + 1,
            campaign,
            _e164(lead),
            _zones(lead),
            "carrier" if lead % 3 else "carrier2",
            "+862088800000",
            _stamp(dialed),
            _stamp(answered_at) if answered_at else None,
            _stamp(bridged_at) if bridged_at else None,
            _stamp(ended),
            outcome,
            agent,
            CAUSES[outcome],
            code,
            outcome == "abandoned",
        )


def state_rows(ids: dict[str, Any], rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """A working day per agent per day: login, ready/on_call/wrap_up cycles, a pause, logout."""
    for day in range(DAYS):
        base = END - timedelta(days=DAYS - day) + timedelta(hours=1)  # 09:00 in Shanghai
        for agent in ids["agents"]:
            campaign = ids["campaigns"][agent % CAMPAIGNS]
            at, state = base, "logged_out"
            cycle = ["ready", "reserved", "on_call", "wrap_up"]
            for step in range(40):
                new = "not_ready" if step == 20 else cycle[step % 4]
                yield (agent, state, new, "lunch" if new == "not_ready" else None, _stamp(at), campaign)
                state, at = new, at + timedelta(seconds=rng.randrange(60, 900))
            yield (agent, state, "logged_out", None, _stamp(at), campaign)


def inbound_rows(ids: dict[str, Any], count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Inbound calls during the day, each waiting in a queue, mostly answered by an agent."""
    results, weights = zip(*VISIT_RESULTS, strict=True)
    for n in range(count):
        arrived = END - timedelta(seconds=rng.randrange(DAYS * 86_400))
        queued = arrived + timedelta(seconds=20)  # after the IVR
        wait = timedelta(seconds=int(rng.expovariate(1 / 25)))
        result = rng.choices(results, weights)[0]
        answered = queued + wait if result == "answered" else None
        agent = rng.choice(ids["agents"]) if answered else None
        ended = (answered or queued + wait) + timedelta(
            seconds=int(rng.expovariate(1 / 180)) if answered else 0
        )
        outcome = {"answered": "answered", "abandoned": "abandoned", "overflowed": "overflowed_voicemail"}
        yield (
            f"bench-in-{n}",
            "+864001234567",
            _e164(rng.randrange(ids["leads"])),
            _stamp(arrived),
            QUEUES[n % len(QUEUES)],
            _stamp(queued),
            0,
            _stamp(answered) if answered else None,
            agent,
            _stamp(ended),
            outcome.get(result, "failed"),
            result,  # what `visit_rows` reads back: the visit's result, not a column
        )


def visit_rows(calls: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """One visit per call (an overflow's second queue is not modelled), from the calls' rows."""
    for call_id, call in enumerate(calls, start=1):
        _, _, _, _, queue, queued, _, answered, agent, ended, _, result = call
        left = answered or ended
        wait_ms = _ms_between(queued, left)
        talk_ms = _ms_between(answered, ended) if answered else None
        yield (call_id, queue, queued, 0, left, result, agent, wait_ms, talk_ms, 5_000, 20_000)


def _ms_between(first: str, last: str) -> int:
    parse = datetime.fromisoformat
    return round((parse(last) - parse(first)).total_seconds() * 1000)


def sms_rows(ids: dict[str, Any], count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    states, weights = zip(*SMS_STATES, strict=True)
    for n in range(count):
        lead = rng.randrange(ids["leads"])
        state = rng.choices(states, weights)[0]
        reason = {"failed": "undelivered", "cancelled": "opted_out"}.get(state)
        created = END - timedelta(seconds=rng.randrange(DAYS * 86_400))
        yield (
            f"bench:{n}",
            _e164(lead),
            "您的订单已发货",
            1,
            "ucs2",
            "default",
            state,
            reason,
            1,
            _stamp(created),
            "{}",
        )


def refusal_rows(ids: dict[str, Any], count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    reasons = ["dnc", "blacklisted", "outside_calling_hours", "number_day_cap"]
    for _ in range(count):
        lead = rng.randrange(ids["leads"])
        at = END - timedelta(seconds=rng.randrange(DAYS * 86_400))
        details = {
            "campaign": f"campaign-{lead % CAMPAIGNS}",
            "e164": _e164(lead),
            "reason": rng.choice(reasons),
        }
        yield (_stamp(at), "dialer", "dial.refused", "lead", str(lead + 1), json.dumps(details))


TABLES = {
    "leads": "list_id, e164, raw_input, attributes, time_zones, state, attempt_count, next_attempt_at,"
    " priority, sms_opt_out, created_at, updated_at",
    "attempts": "lead_id, campaign_id, e164, time_zones, trunk, caller_id, dialed_at, answered_at,"
    " bridged_at, ended_at, outcome, agent_id, hangup_cause, disposition_id, abandoned",
    "agent_state_log": "agent_id, from_state, to_state, reason, at, campaign_id",
    "inbound_calls": "uniqueid, did, caller, arrived_at, queue, queued_at, priority, answered_at, agent_id,"
    " ended_at, outcome",
    "queue_visits": "call_id, queue, entered_at, priority, left_at, result, agent_id, wait_ms, talk_ms,"
    " short_abandon_ms, answer_within_ms",
    "sms_messages": "idempotency_key, to_e164, body, segments, encoding, provider, state, reason, tries,"
    " created_at, params",
    "audit_log": "at, actor, action, entity, entity_id, details",
}


def load(url: str, table: str, rows: Iterator[tuple[Any, ...]]) -> int:
    """Bulk-insert `rows` into `table` through the driver; how many."""
    columns = TABLES[table]
    count = 0
    if url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(url).database or "")
        marks = ", ".join("?" * len(columns.split(",")))
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 50_000:
                connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", chunk)
                count += len(chunk)
                chunk.clear()
        connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", chunk)
        count += len(chunk)
        connection.commit()
        connection.close()
        return count
    import psycopg

    target = make_url(url)
    where = target.query
    conninfo = f"dbname={target.database} user={target.username} host={where['host']} port={where['port']}"
    with psycopg.connect(conninfo) as server:
        cursor = server.cursor()
        cursor.execute("SET TIME ZONE 'UTC'")
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def generate(url: str, attempts: int, leads: int) -> dict[str, Any]:
    rng = random.Random(7)
    started = time.perf_counter()
    with Database(url) as database:
        database.upgrade()
        ids = create_campaigns(database, leads)

    def inbound_calls() -> Iterator[tuple[Any, ...]]:  # the same calls each time: their own generator
        return inbound_rows(ids, attempts // 10, random.Random(11))

    counts = {
        "leads": load(url, "leads", lead_rows(ids, rng)),
        "attempts": load(url, "attempts", attempt_rows(ids, attempts, rng)),
        "agent_state_log": load(url, "agent_state_log", state_rows(ids, rng)),
        "inbound_calls": load(url, "inbound_calls", (call[:-1] for call in inbound_calls())),
        "queue_visits": load(url, "queue_visits", visit_rows(inbound_calls())),
        "sms_messages": load(url, "sms_messages", sms_rows(ids, attempts // 10, rng)),
        "audit_log": load(url, "audit_log", refusal_rows(ids, attempts // 20, rng)),
    }
    if not url.startswith("sqlite"):  # what autovacuum does after a bulk load: statistics, visibility map
        with Database(url) as database, database.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    return {"rows": counts, "generate_s": round(time.perf_counter() - started, 1)}


def _report_child(url: str, name: str, queue: Any) -> None:
    from reports.agents_report import agents_report
    from reports.campaign_report import campaign_report
    from reports.compliance_report import compliance_report
    from reports.inbound_numbers import inbound_numbers_report
    from reports.query import ReportQuery
    from reports.queues_report import queues_report
    from reports.sms_report import sms_report
    from reports.trunks_report import trunks_report

    first = (END - timedelta(days=PERIOD_DAYS)).date().isoformat()
    last = (END - timedelta(days=1)).date().isoformat()
    query = ReportQuery.parse(first, last, "UTC")
    builders: dict[str, Callable[[Database, ReportQuery], Any]] = {
        "agents": agents_report,
        "campaign": campaign_report,
        "compliance": compliance_report,
        "sms": sms_report,
        "trunks": lambda database, query: [
            trunks_report(database, query),
            inbound_numbers_report(database, query),
        ],
        "queues": queues_report,
        "count(*)": _count,
    }
    with Database(url) as database, MemorySampler() as memory:
        started = time.perf_counter()
        result = builders[name](database, query)
        elapsed = time.perf_counter() - started
    rows = (
        sum(len(each.rows) for each in result)
        if isinstance(result, list)
        else getattr(result, "rows", result)
    )
    queue.put(
        {"seconds": elapsed, "peak_mb": memory.peak_mb, "rows": rows if isinstance(rows, int) else len(rows)}
    )


def _count(database: Database, query: Any) -> int:
    """The calls the reports read, as they read them (`reports/scope.py`), only counted."""
    from reports.scope import campaign_ids, ended_in

    with database.session() as session:
        period = ended_in(query, campaign_ids(session, None))
        return int(session.scalar(select(func.count()).select_from(Attempt).where(*period)) or 0)


def run_backend(url: str, attempts: int, leads: int) -> dict[str, Any]:
    made = generate(url, attempts, leads)
    print(f"  generated {made['rows']} in {made['generate_s']} s", flush=True)
    timings = {}
    for name in ("count(*)", *REPORTS):
        timings[name] = in_child(_report_child, url, name)
        print(f"  {name}: {timings[name]['seconds']:.2f} s, {timings[name]['peak_mb']:.0f} MB", flush=True)
    return made | {"reports": timings}


def table(result: dict[str, Any]) -> str:
    lines = [
        f"# Report benchmark ({result['attempts']:,} attempts, {result['leads']:,} leads, {DAYS} days;"
        f" reports over {PERIOD_DAYS} days)",
        "",
        f"Machine: {result['machine']}; {result['at']}. Targets: each report ≤ {TARGET_S:g} s, peak memory ≤"
        f" {TARGET_MB:,.0f} MB. Baseline: `SELECT count(*)` over the same attempts, same run.",
        "",
        "| backend | report | seconds | × count(*) | peak MB | rows | target |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for backend, run in result["backends"].items():
        base = run["reports"]["count(*)"]["seconds"] or 1e-9
        for name, timing in run["reports"].items():
            ok = timing["seconds"] <= TARGET_S and timing["peak_mb"] <= TARGET_MB
            target = "—" if name == "count(*)" else ("PASS" if ok else "FAIL")
            lines.append(
                f"| {backend} | {name} | {timing['seconds']:.2f} | {timing['seconds'] / base:.1f} |"
                f" {timing['peak_mb']:.0f} | {timing['rows']:,} | {target} |"
            )
    lines += [
        "",
        "Generated: "
        + "; ".join(f"{b}: {r['rows']} in {r['generate_s']} s" for b, r in result["backends"].items()),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=10_000_000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    backends: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ringcast-report-bench-") as tmp:
        for backend in args.backends.split(","):
            cluster = None
            if backend == "postgresql":
                bindir = postgres_bindir()
                if bindir is None:
                    print("postgresql: server binaries not found (apt-get install postgresql); skipped")
                    continue
                cluster = PrivateCluster(bindir)
            try:
                print(f"{backend}:", flush=True)
                backends[backend] = run_backend(
                    backend_url(backend, Path(tmp), cluster, "reportbench"), args.attempts, args.leads
                )
            finally:
                if cluster is not None:
                    cluster.stop()
    result = {
        "attempts": args.attempts,
        "leads": args.leads,
        "backends": backends,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report = table(result)
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.md").write_text(report)
    (args.out / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
