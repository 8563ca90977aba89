"""`run_import`: a file into a list, every row accounted for, in one transaction (IMP-1 … IMP-6).

Everything that can be refused before a row is imported is refused with a `UserError` and
nothing written: an empty or binary file, an unknown encoding, a missing sheet, no phone column,
no data rows. Then `imports.pipeline` reads and normalises the file a chunk at a time (in a
worker process for large files), and this module looks each chunk's numbers up (on a connection
of its own, committed data only), decides (`imports.decisions`) and writes, all in one database
transaction; the rejects report is published only after that commits, so a failure at any point
leaves neither leads nor report behind. Row-level problems never stop the import: they become
rejects. `accepted + sum(rejected) == total_rows` holds by construction: every row ends in
exactly one of the two. Memory stays flat: one chunk at a time, plus 12 bytes per accepted
number for in-file de-duplication and the normaliser's bounded memos.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from campaigns.persistence.db import Database
from imports.columns import Columns, resolve
from imports.decisions import Context, Decision, Reject, decide
from imports.number_facts import Place
from imports.numbers import NumberInfo, NumberNormaliser
from imports.pipeline import PARALLEL_FROM_BYTES, Plan, Prepared, collector_paused, prepared
from imports.reader import open_table
from imports.reasons import Reason
from imports.rejects import RejectsReport
from imports.seen import SeenNumbers
from imports.sniff import FileKind, sniff
from imports.store import ImportLookups, ImportWriter
from ringcast.errors import UserError

CHUNK_ROWS = 20_000
SAMPLE_ROWS = 200  # rows the phone column is guessed from, when no header names it
_NUMBER = itemgetter(2)  # a candidate's E.164

Progress = Callable[[int, int], None]  # (done, total), in bytes for CSV and rows for XLSX


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    list_name: str
    campaign: str | None = None
    region: str = "CN"
    mapping: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None
    rejects: Path | None = None
    actor: str = "system"


@dataclass
class ImportSummary:
    """What became of the rows; `as_json()` is the `--json` contract."""

    total_rows: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(map(str, Reason), 0)))
    elapsed_s: float = 0.0
    new_leads: int = 0  # accepted rows written now (the others were there from this file already)
    sms_opted_out: int = 0  # new leads flagged as opted out of SMS
    phone_column: str = ""
    file_format: str = ""

    def add(self, rows: int, decision: Decision, rejects: list[Reject]) -> None:
        self.total_rows += rows
        self.accepted += len(decision.new) + decision.kept
        self.new_leads += len(decision.new)
        self.sms_opted_out += len(decision.opted_out)
        self.rejected.update(reject[2] for reject in rejects)

    @property
    def rows_per_s(self) -> float:
        return self.total_rows / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "total_rows": self.total_rows,
            "accepted": self.accepted,
            "rejected": dict(self.rejected),
            "elapsed_s": round(self.elapsed_s, 3),
            "rows_per_s": round(self.rows_per_s, 1),
        }


def run_import(
    database: Database,
    request: ImportRequest,
    *,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    parallel: bool | None = None,
    now: datetime | None = None,
) -> ImportSummary:
    """Import `request.path` into `request.list_name`; raise `UserError` for a file it must refuse.

    `parallel` runs the reading and normalising stage in a worker process (default: for files of
    `PARALLEL_FROM_BYTES` or more).
    """
    started = time.perf_counter()
    region = request.region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise UserError(
            f"unknown region {request.region!r}", hint="use a two-letter code such as CN, HK or US"
        )
    database.check_migrated()
    if database.backend == "sqlite" and database.url.database in (None, "", ":memory:"):
        raise UserError("imports need a database file or server, not an in-memory SQLite database")
    kind = sniff(request.path)
    columns = _columns(request, kind, region)
    summary = ImportSummary(phone_column=columns.phone_name, file_format=kind.encoding or kind.format)
    if parallel is None:
        parallel = kind.size >= PARALLEL_FROM_BYTES
    plan = Plan(request.path, kind, request.sheet, columns, region, chunk_rows)
    lookups_engine = create_engine(database.url, poolclass=NullPool)  # outside the transaction: reads, places
    try:
        with (
            RejectsReport(request.rejects) as report,
            collector_paused(),
            prepared(plan, parallel=parallel) as chunks,  # the stage starts before the transaction
            lookups_engine.connect() as reading,
            lookups_engine.connect() if database.backend == "postgresql" else nullcontext() as places,
            database.connect() as connection,
            connection.begin(),
        ):
            writer = ImportWriter(connection, places)
            with writer.bulk():
                context = writer.prepare(
                    list_name=request.list_name,
                    campaign=request.campaign,
                    file_name=request.path.name,
                    sha256=kind.sha256,
                    attributes=columns.attribute_names,
                    actor=request.actor,
                    now=now or datetime.now(UTC),
                )
                _import_chunks(chunks, context, ImportLookups(reading), writer, report, summary, progress)
                writer.finish(
                    context,
                    total=summary.total_rows,
                    accepted=summary.accepted,
                    rejected=dict(summary.rejected),
                    actor=request.actor,
                )
            report.commit()
    finally:
        lookups_engine.dispose()
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _import_chunks(
    chunks: Iterator[Prepared],
    context: Context,
    lookups: ImportLookups,
    writer: ImportWriter,
    report: RejectsReport,
    summary: ImportSummary,
    progress: Progress | None,
) -> None:
    """Look up, decide and write each prepared chunk; count and report."""
    base = lookups.prefix_blocklist()
    leads, opt_outs = lookups.has_leads(context), lookups.has_opt_outs()
    seen = SeenNumbers()
    places: list[Place] = []
    for chunk in chunks:
        if summary.total_rows == 0:
            writer.defer_indexes(_expected_rows(chunk))
        places += chunk.places
        candidates = sorted(chunk.candidates, key=_NUMBER)  # stable: a number's rows stay in line order
        numbers = list(dict.fromkeys(map(_NUMBER, candidates)))
        decision = decide(
            candidates,
            lookups.lookups(numbers, context, base, leads=leads, opt_outs=opt_outs),
            context,
            seen,
        )
        lookups.done()
        writer.insert(decision.new, decision.opted_out, places, context)
        rejects = chunk.rejects + decision.rejects
        report.write(rejects)
        summary.add(chunk.rows, decision, rejects)
        if progress is not None:
            progress(*chunk.position)
    assert summary.accepted + sum(summary.rejected.values()) == summary.total_rows


def _expected_rows(first: Prepared) -> int:
    """The rows the whole file holds, about: the first chunk's rows scaled by its share of the file."""
    done, total = first.position
    return first.rows * total // done if done > 0 else first.rows


def _columns(request: ImportRequest, kind: FileKind, region: str) -> Columns:
    """Open the file, check it has data rows, and find its phone column (from a sample of rows)."""
    table = open_table(request.path, kind, request.sheet)
    try:
        sample = list(islice(table.rows(), SAMPLE_ROWS))
    finally:
        table.close()
    if not sample:
        raise UserError(f"{request.path} has a header but no data rows")
    normaliser = NumberNormaliser(region)
    return resolve(
        table.header,
        request.mapping,
        [row.cells for row in sample if row.problem is None],
        lambda cell: isinstance(normaliser.normalise(cell), NumberInfo),
    )
