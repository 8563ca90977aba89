"""Import benchmark: a million messy rows against a five-million-entry DNC list, SQLite and PostgreSQL.

    .venv/bin/python bench/import_bench.py [--rows N] [--dnc N] [--backends sqlite,postgresql]

Generates a GBK CSV shaped like `/work/shared/data/sample-contacts-gbk.csv` (Chinese headers;
numbers typed every way: +86, 0086, 86, spaces, dashes, brackets, full-width digits, landlines
with area codes, foreign numbers, placeholders and junk, the same person again in another
format, ragged rows, formula cells), mobile numbers drawn from phonenumbers' real number
blocks, and a DNC list of N entries holding about 2 % of the file's numbers. Each import runs in
a fresh process (so its peak RSS is its own) into a fresh database: SQLite in a temporary file,
PostgreSQL in a private throw-away cluster (`tests.support.pgcluster`). The naive baseline reads
the same file and calls `reference_normalise` (phonenumbers row by row: parse, validate, type,
geocoder zh/en, carrier zh/en, time zones) for each row and writes nothing; a parse-only loop
is shown too. Peak memory is sampled (see `MemorySampler`). Prints a table and writes
`bench/results/import[-<rows>].md` and `.json`.
Benchmarks print and compare; nothing here is a test with a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import multiprocessing
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from support import MemorySampler, backend_url, in_child  # noqa: E402

from campaigns.persistence.db import Database  # noqa: E402
from tests.support.pgcluster import PrivateCluster, postgres_bindir  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_ROWS = 1_000_000
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
CITIES = ["北京", "上海", "广州", "深圳", "杭州", ""]
NOTES = ["VIP", "老客户", "=SUM(A1:A2)", ""]
AREA_CODES = ["10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "571", "755", "512", "591", "871"]
FOREIGN = ["+81 90-####-####", "+65 8### ####", "+852 9### ####", "+1 650 ### ####", "+44 7700 ######"]
JUNK = ["", "无", "N/A", "---", "abc", "+86 138", "138123456789", "00000000000"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
BASELINE_ROWS = 100_000  # rows the (slow) naive baselines time; they report rows/s


# -- the file --------------------------------------------------------------------------------


def _fill(rng: random.Random, template: str) -> str:
    return "".join(rng.choice("0123456789") if char == "#" else char for char in template)


def _mobile(rng: random.Random, national: str) -> str:
    d = national
    return rng.choice(
        [
            d,
            d,
            f"+86-{d}",
            d.translate(FULL_WIDTH),
            f"{d[:3]}-{d[3:7]}-{d[7:]}",
            f"0086{d}",
            f" {d}\t",
            f"+86{d}",
            f"(+86) {d}",
            f"86 {d}",
            f"{d[:3]} {d[3:7]} {d[7:]}",
        ]
    )


def _landline(rng: random.Random) -> str:
    area, local = rng.choice(AREA_CODES), _fill(rng, "########")
    return rng.choice(
        [
            f"0{area} {local}",
            f"(0{area}){local}",
            f"0{area}-{local}",
            f"+86 {area} {local}",
            f"0{area}{local}".translate(FULL_WIDTH),
        ]
    )


def generate(path: Path, rows: int, seed: int = 2026) -> list[str]:
    """Write the messy GBK CSV; return the national numbers of its mobiles (for the DNC list)."""
    rng = random.Random(seed)
    from phonenumbers.geodata import GEOCODE_DATA

    blocks = [key[2:] for key in GEOCODE_DATA if len(key) == 9 and key.startswith("861")]
    mobiles: list[str] = []
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "手机号", "城市", "备注"])
        for _ in range(rows):
            pick = rng.random()
            if pick < 0.70:
                national = rng.choice(blocks) + _fill(rng, "####")
                mobiles.append(national)
                phone = _mobile(rng, national)
            elif pick < 0.80 and mobiles:  # the same person again, typed another way
                phone = _mobile(rng, rng.choice(mobiles[-50_000:]))
            elif pick < 0.90:
                phone = _landline(rng)
            elif pick < 0.94:
                phone = _fill(rng, rng.choice(FOREIGN))
            else:
                phone = rng.choice(JUNK)
            row = [
                "".join(rng.choices(NAMES, k=rng.choice((2, 3)))),
                phone,
                rng.choice(CITIES),
                rng.choice(NOTES),
            ]
            if rng.random() < 0.001:  # ragged: a field too many or too few
                row = [*row, "多余"] if rng.random() < 0.5 else row[:2]
            writer.writerow(row)
    return mobiles


def dnc_numbers(mobiles: list[str], total: int, seed: int = 7) -> list[str]:
    """`total` distinct E.164 numbers: about 2 % of the file's mobiles, the rest elsewhere."""
    rng = random.Random(seed)
    chosen = {"+86" + national for national in rng.sample(mobiles, min(len(mobiles), len(mobiles) // 50))}
    while len(chosen) < total:
        chosen.add(f"+861{rng.choice('3456789')}{rng.randrange(10**9):09d}")
    return list(chosen)


def load_dnc(url: str, numbers: list[str]) -> None:
    """Bench set-up: the DNC entries and a few blacklist prefixes, by the drivers' bulk paths."""
    now = datetime.now(UTC)
    rows = [("dnc", n, "exact", "global", "bench", "bench", "bench") for n in numbers]
    rows += [
        ("blacklist", p, "prefix", "global", "virtual operator", "bench", "bench")
        for p in ("+86170", "+86171")
    ]
    columns = "kind, value, match, scope, reason, source, added_by, added_at"
    with Database(url) as database, database.connect() as connection, connection.begin():
        driver = connection.connection.driver_connection
        assert driver is not None
        if database.backend == "sqlite":
            stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
            driver.executemany(
                f"INSERT INTO blocklist_entries ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row, stamp) for row in rows],
            )
        else:
            with driver.cursor().copy(f"COPY blocklist_entries ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, now))
    with Database(url) as database, database.connect() as connection:  # statistics, as a live system has
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


# -- measurements (each in a fresh process) --------------------------------------------------


def _import_child(url: str, path: str, queue: Any) -> None:
    from imports.service import ImportRequest, run_import

    with Database(url) as database, MemorySampler() as memory:
        started = time.perf_counter()
        summary = run_import(database, ImportRequest(Path(path), "bench"))
        elapsed = time.perf_counter() - started
    queue.put({**summary.as_json(), "wall_s": elapsed, "peak_memory_mb": memory.peak_mb})


def _baseline_child(path: str, rows: int, queue: Any) -> None:
    import phonenumbers

    from imports.numbers import reference_normalise

    def cells() -> list[str]:
        with open(path, encoding="gb18030", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            return [row[1] if len(row) > 1 else "" for _, row in zip(range(rows), reader, strict=False)]

    started = time.perf_counter()
    phones = cells()
    for phone in phones:
        reference_normalise(phone, "CN")
    full = time.perf_counter() - started
    started = time.perf_counter()
    for phone in cells():
        with contextlib.suppress(phonenumbers.NumberParseException):
            phonenumbers.parse(phone, "CN")
    parse_only = time.perf_counter() - started
    queue.put(
        {
            "rows": len(phones),
            "naive_rows_per_s": len(phones) / full,
            "parse_rows_per_s": len(phones) / parse_only,
        }
    )


# -- the run ----------------------------------------------------------------------------------


def run(rows: int, dnc: int, backends: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ringcast-bench-") as tmp:
        work = Path(tmp)
        path = work / "contacts-gbk.csv"
        started = time.perf_counter()
        mobiles = generate(path, rows)
        numbers = dnc_numbers(mobiles, dnc)
        del mobiles
        print(
            f"generated {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) and {dnc:,} DNC numbers"
            f" in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        baseline = in_child(_baseline_child, str(path), min(rows, BASELINE_ROWS))
        print(f"naive baseline: {baseline['naive_rows_per_s']:,.0f} rows/s", flush=True)
        results: dict[str, Any] = {}
        for backend in backends:
            bindir = postgres_bindir() if backend == "postgresql" else None
            if backend == "postgresql" and bindir is None:
                print("postgresql: server binaries not found (apt-get install postgresql); skipped")
                continue
            cluster = PrivateCluster(bindir) if bindir is not None else None
            try:
                url = backend_url(backend, work, cluster)
                with Database(url) as database:
                    database.upgrade()
                started = time.perf_counter()
                load_dnc(url, numbers)
                print(f"{backend}: DNC list loaded in {time.perf_counter() - started:.0f} s", flush=True)
                results[backend] = in_child(_import_child, url, str(path))
                print(f"{backend}: {results[backend]['rows_per_s']:,.0f} rows/s", flush=True)
            finally:
                if cluster is not None:
                    cluster.stop()
    return {"rows": rows, "dnc_entries": dnc, "baseline": baseline, "imports": results}


def report(outcome: dict[str, Any]) -> str:
    baseline = outcome["baseline"]
    naive = baseline["naive_rows_per_s"]
    lines = [
        f"# Import benchmark: {outcome['rows']:,} rows, {outcome['dnc_entries']:,} DNC entries",
        "",
        f"Machine: {platform.machine()}, {multiprocessing.cpu_count()} CPUs,"
        f" Python {platform.python_version()}; run {datetime.now(UTC).isoformat(timespec='seconds')}.",
        "",
        "| backend | rows/s end to end | × naive baseline | wall s | peak memory MB | accepted | rejected |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for backend, result in outcome["imports"].items():
        rejected = ", ".join(f"{reason} {count:,}" for reason, count in result["rejected"].items() if count)
        lines.append(
            f"| {backend} | {result['rows_per_s']:,.0f} | {result['rows_per_s'] / naive:.1f}× |"
            f" {result['wall_s']:.1f} | {result['peak_memory_mb']:,.0f} | {result['accepted']:,} |"
            f" {rejected} |"
        )
    lines += [
        "",
        f"Naive baseline (phonenumbers row by row: parse, validate, type, geocoder zh+en, carrier zh+en,"
        f" time zones; no database), {baseline['rows']:,} rows: **{naive:,.0f} rows/s**."
        f" `phonenumbers.parse` alone: {baseline['parse_rows_per_s']:,.0f} rows/s.",
        "",
        "Peak memory: the importing process and its worker together (proportional set size, sampled"
        " every 0.2 s). Targets: ≥ 100,000 rows/s end to end, ≥ 3× the naive baseline, peak memory"
        " ≤ 2 GB.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--dnc", type=int, default=5_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    outcome = run(args.rows, args.dnc, [name.strip() for name in args.backends.split(",") if name.strip()])
    text = report(outcome)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "import" if args.rows == DEFAULT_ROWS else f"import-{args.rows}"
    (RESULTS / f"{name}.md").write_text(text)
    (RESULTS / f"{name}.json").write_text(json.dumps(outcome, indent=2))


if __name__ == "__main__":
    main()
