"""SMS benchmark: 100,000 messages through the local gateway with injected failures and a kill -9 of the
sender midway, then a restart; the gateway's own ceiling measured in the same run.

    .venv/bin/python bench/sms_bench.py [--messages 100000] [--kill-at 0.4] [--backends sqlite,postgresql]

For each backend (SQLite in a temporary directory, PostgreSQL in a private throw-away cluster):

1. The gateway simulator (`python -m sms.gateway_sim`) starts with 10 % of requests failing: 5 %
   answered 503 before accepting, 3 % accepted and then the connection dropped unanswered, 2 %
   accepted and the reply held past the client's timeout. The last two are the dangerous ones: the
   message went, the sender cannot know it.
2. `--messages` messages are queued in the outbox (`sms.outbox.queue_many`), each with its own key.
3. `ringcast sms run` (a separate process, the generic provider with idempotency keys) sends them.
   When the gateway has accepted `--kill-at` of them, the sender is killed with SIGKILL; a new one
   starts at once and finishes (it settles the dead one's claims once they expire, `claim_s`).
4. Checked against the gateway's own log: every message accepted exactly once (a resend of an
   accepted message is answered as a replay and not sent again), none unknown to the outbox, the
   outbox's provider ids equal the gateway's; in the outbox every message `sent`.

The rate is messages over the wall time from the first sender's start to the last message's
record, the kill and the claims' expiry included; the steady rate is the first sender's, up to the
kill. Beside them, the gateway's ceiling in the same run: a fresh simulator (no faults) driven for
a few seconds by a minimal asyncio HTTP client (`raw`), and for reference by a stock
`httpx.AsyncClient`, with no database. Target: at least 1,000 messages/s through the sender.
Prints a table and writes `bench/results/sms.md` and `sms.json`. A benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from support import backend_url  # noqa: E402

from campaigns.persistence.db import Database  # noqa: E402
from campaigns.persistence.models import SmsMessage  # noqa: E402
from campaigns.persistence.models.enums import SmsState  # noqa: E402
from sms.gateway_sim.ledger import read_ledger  # noqa: E402
from sms.outbox import OutboxRules, SmsRequest, queue_many  # noqa: E402
from tests.support.pgcluster import PrivateCluster, postgres_bindir  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
TOKEN = "bench-token"
FAULTS = {"seed": 11, "server_error": 0.05, "drop_after_accept": 0.03, "timeout": 0.02, "hold_ms": 3000}
TARGET_PER_S = 1000.0
CEILING_SECONDS = 4
QUEUE_CHUNK = 10_000


def start_gateway(
    work: Path, name: str, faults: dict[str, Any] | None
) -> tuple[subprocess.Popen[str], str, Path]:
    log = work / f"{name}.jsonl"
    command = [sys.executable, "-m", "sms.gateway_sim", "--log", str(log), "--generic-token", TOKEN]
    if faults:
        command += ["--faults", json.dumps(faults)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    announced = process.stdout.readline()
    found = re.search(r"listening on (\S+)", announced)
    if found is None:
        process.kill()
        raise SystemExit(f"the gateway did not start: {announced!r}")
    return process, found[1], log


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def ceiling(work: Path) -> dict[str, float]:
    """Accepted messages/s of a fault-free simulator, for each client, with no database."""
    process, url, _ = start_gateway(work, "ceiling", None)
    rates = {}
    try:
        for client, connections in (("raw", 8), ("httpx", 8)):
            load = ["--seconds", str(CEILING_SECONDS), "--connections", str(connections), "--processes", "1"]
            who = ["--client", client, "--token", TOKEN]
            output = subprocess.run(
                [sys.executable, "-m", "sms.gateway_sim.load", f"{url}/send", *load, *who],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            found = re.search(r": (\d+)/s", output)
            if found is None:
                raise SystemExit(f"the load generator said nothing usable: {output!r}")
            rates[client] = float(found[1])
    finally:
        stop(process)
    return rates


def config_file(work: Path, url: str, gateway_url: str) -> Path:
    path = work / "ringcast.toml"
    path.write_text(
        f"""data_dir = "{work / "data"}"
[database]
url = "{url}"
[sms]
poll_s = 0.05
claim_s = 5.0
retry_base_s = 0.5
batch_size = 500
[sms.providers.gw]
kind = "generic"
url = "{gateway_url}/send"
auth = "bearer"
secret = "{TOKEN}"
idempotency_header = "Idempotency-Key"
idempotent = true
success_field = "status"
success_value = "accepted"
segments_per_s = 1000000.0
max_connections = 32
timeout_s = 1.0
max_tries = 20
"""
    )
    return path


def queue_messages(database: Database, count: int) -> float:
    rules = OutboxRules("CN", ("gw",), 10)
    started = time.perf_counter()
    for start in range(0, count, QUEUE_CHUNK):
        now = datetime.now(UTC)
        requests = [
            SmsRequest(
                key=f"bench:{n}",
                to=f"+86139{n:08d}",
                body=f"【华信】您的验证码是{n % 1_000_000:06d}",
                provider="gw",
            )
            for n in range(start, min(count, start + QUEUE_CHUNK))
        ]
        database.in_transaction(queue_many, requests, now, rules)
    return time.perf_counter() - started


def open_count(database: Database) -> int:
    with database.session() as session:
        query = select(func.count()).where(SmsMessage.state.in_((SmsState.QUEUED, SmsState.SENDING)))
        return int(session.scalar(query.select_from(SmsMessage)) or 0)


def accepted_so_far(gateway_url: str) -> int:
    stats = httpx.get(f"{gateway_url}/_control/stats", timeout=10, trust_env=False).json()
    return int(stats["accepted"])


def sender(config: Path, work: Path, name: str) -> subprocess.Popen[str]:
    env = os.environ | {"RINGCAST_CONFIG": str(config), "RINGCAST_LOG_LEVEL": "WARNING"}
    log = (work / f"{name}.log").open("w")
    return subprocess.Popen(
        [str(BIN / "ringcast"), "sms", "run"], cwd=work, env=env, stdout=log, stderr=log, text=True
    )


def run_backend(backend: str, url: str, work: Path, messages: int, kill_at: float) -> dict[str, Any]:
    subprocess.run(
        [str(BIN / "ringcast"), "db", "upgrade"],
        env=os.environ | {"RINGCAST_DATABASE__URL": url},
        check=True,
        capture_output=True,
    )
    gateway, gateway_url, ledger = start_gateway(work, f"gateway-{backend}", FAULTS)
    try:
        with Database(url) as database:
            queue_s = queue_messages(database, messages)
            print(f"{backend}: {messages:,} queued in {queue_s:.1f} s", flush=True)
            config = config_file(work, url, gateway_url)
            started = time.perf_counter()
            first = sender(config, work, f"sender1-{backend}")
            while accepted_so_far(gateway_url) < kill_at * messages:
                if first.poll() is not None:
                    raise SystemExit(f"the sender stopped by itself (exit {first.returncode}); see {work}")
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            first.wait()
            killed_s = time.perf_counter() - started
            at_kill = accepted_so_far(gateway_url)
            print(f"{backend}: sender killed after {at_kill:,} accepted in {killed_s:.1f} s", flush=True)
            second = sender(config, work, f"sender2-{backend}")
            while open_count(database) > 0:
                if second.poll() is not None:
                    raise SystemExit(f"the second sender stopped (exit {second.returncode}); see {work}")
                time.sleep(0.2)
            total_s = time.perf_counter() - started
            stop(second)
            return verify(database, ledger, messages) | {
                "queue_s": round(queue_s, 2),
                "total_s": round(total_s, 2),
                "per_s": round(messages / total_s),
                "steady_per_s": round(at_kill / killed_s),
                "accepted_at_kill": at_kill,
            }
    finally:
        stop(gateway)


def verify(database: Database, ledger: Path, messages: int) -> dict[str, Any]:
    lines = read_ledger(ledger)
    accepted = Counter(line["key"] for line in lines if line["event"] == "accepted")
    ids = {line["key"]: line["id"] for line in lines if line["event"] == "accepted"}
    faults = Counter(line["fault"] for line in lines if line["event"] == "fault")
    with database.session() as session:
        states = Counter(
            dict(session.execute(select(SmsMessage.state, func.count()).group_by(SmsMessage.state)).all())
        )
        stored = dict(
            session.execute(select(SmsMessage.idempotency_key, SmsMessage.provider_message_id)).all()
        )
    expected = {f"bench:{n}" for n in range(messages)}
    return {
        "accepted_keys": len(accepted),
        "accepted_twice": sum(1 for count in accepted.values() if count > 1),
        "unknown_keys": len(set(accepted) - expected),
        "never_accepted": len(expected - set(accepted)),
        "replays": sum(1 for line in lines if line["event"] == "replay"),
        "faults": dict(faults),
        "outbox": {state.value: count for state, count in states.items()},
        "ids_differ": sum(1 for key, found in stored.items() if ids.get(key) != found),
        "exactly_once": len(accepted) == messages
        and set(accepted) == expected
        and set(accepted.values()) == {1}
        and states.get(SmsState.SENT) == messages
        and all(ids.get(key) == found for key, found in stored.items()),
    }


def table(result: dict[str, Any]) -> str:
    ceilings = result["ceiling_per_s"]
    lines = [
        f"# SMS benchmark ({result['messages']:,} messages, {FAULTS_TEXT},"
        f" kill -9 at {result['kill_at']:.0%})",
        "",
        f"Machine: {result['machine']}; {result['at']}."
        f" Target: ≥ {TARGET_PER_S:,.0f} messages/s through the sender.",
        "",
        f"Gateway ceiling, same run, no database: a minimal asyncio client {ceilings['raw']:,.0f}/s;"
        f" a stock httpx.AsyncClient, for reference, {ceilings['httpx']:,.0f}/s (the adapters send"
        " through `LeanTransport`, sms/providers/lean_transport.py).",
        "",
        "| backend | queue (s) | total (s) | messages/s | steady/s | accepted once | twice | never | replays"
        " | outbox sent | exactly once |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, row in result["backends"].items():
        cells = [
            backend,
            row["queue_s"],
            row["total_s"],
            f"{row['per_s']:,}",
            f"{row['steady_per_s']:,}",
            f"{row['accepted_keys']:,}",
            row["accepted_twice"],
            row["never_accepted"],
            f"{row['replays']:,}",
            f"{row['outbox'].get('sent', 0):,}",
            "yes" if row["exactly_once"] else "NO",
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    lines += [
        "",
        "Faults injected (requests): "
        + "; ".join(
            f"{backend}: " + ", ".join(f"{name} {count:,}" for name, count in sorted(row["faults"].items()))
            for backend, row in result["backends"].items()
        ),
    ]
    return "\n".join(lines) + "\n"


FAULTS_TEXT = "10 % failures: 5 % 503, 3 % dropped after accepting, 2 % reply held past the timeout"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--kill-at", type=float, default=0.4)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ringcast-sms-bench-") as tmp:
        work = Path(tmp)
        rates = ceiling(work)
        print(f"gateway ceiling: raw {rates['raw']:,.0f}/s, stock httpx {rates['httpx']:,.0f}/s", flush=True)
        backends: dict[str, Any] = {}
        for backend in args.backends.split(","):
            cluster = None
            if backend == "postgresql":
                bindir = postgres_bindir()
                if bindir is None:
                    print("postgresql: server binaries not found (apt-get install postgresql); skipped")
                    continue
                cluster = PrivateCluster(bindir)
            try:
                url = backend_url(backend, work, cluster, "smsbench")
                backends[backend] = run_backend(backend, url, work, args.messages, args.kill_at)
            finally:
                if cluster is not None:
                    cluster.stop()
    result = {
        "messages": args.messages,
        "kill_at": args.kill_at,
        "faults": FAULTS,
        "ceiling_per_s": rates,
        "backends": backends,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report = table(result)
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sms.md").write_text(report)
    (args.out / "sms.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = all(row["exactly_once"] for row in backends.values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
