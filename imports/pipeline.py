"""The import's first stage: file rows in, prepared chunks out, in a worker process for large files.

For each chunk of rows: read, normalise and classify the numbers (`imports.numbers`), encode the
attributes, and set aside the rows that cannot be leads (malformed, no number, invalid number).
What comes out is a `Prepared` chunk: candidates (rows with a valid number), rejects, and the
places first seen in it. The importing process (`imports.service`) then looks the candidates up,
decides and writes them, in its one transaction. On a two-core machine the two halves run side
by side: the stage in a forked process of its own (`imports.worker`), started before the
importing process opens its transaction, chunks passing through a pipe as plain tuples; it needs
no database. Small files run the stage inline.

The cyclic garbage collector is paused while a stage or an import runs: it walks every live
object each time it runs, an import holds millions of them, and nothing here forms cycles.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from campaigns.persistence.models.enums import NumberType
from imports.columns import Columns
from imports.decisions import Candidate, Reject
from imports.number_facts import Place
from imports.numbers import NumberInfo, NumberNormaliser
from imports.reader import SourceRow, Table, open_table
from imports.reasons import Reason
from imports.sniff import FileKind
from imports.worker import streamed

PARALLEL_FROM_BYTES = 4 << 20  # smaller files are imported in one process
_TYPE_VALUES = {member: member.value for member in NumberType}


@dataclass(frozen=True)
class Plan:
    """Everything the stage needs; handed to the worker process as it forks."""

    path: Path
    kind: FileKind
    sheet: str | None
    columns: Columns
    region: str
    chunk_rows: int


Packed = list[Candidate] | tuple[Any, ...]  # candidates as they cross the pipe (`_packed`)


class Prepared(NamedTuple):
    rows: int
    candidates: list[Candidate]
    rejects: list[Reject]
    places: list[Place]  # first seen in this chunk; their indexes count on from the earlier chunks'
    position: tuple[int, int]  # (done, total) in bytes or rows, for a progress bar


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (see the module doc), then restore it as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def prepared(plan: Plan, *, parallel: bool) -> Iterator[Iterator[Prepared]]:
    """The prepared chunks of the file, in order; a worker process, if `parallel`, starts on
    entering (see `imports.worker`) and the file is closed on leaving."""
    if not parallel:
        inline = _prepared(plan)
        try:
            yield inline
        finally:
            inline.close()
        return
    with streamed(_plain, plan, name="import stage") as chunks:
        yield (
            Prepared(rows, _unpacked(candidates), rejects, places, position)
            for rows, candidates, rejects, places, position in chunks
        )


def _prepared(plan: Plan) -> Generator[Prepared]:
    table = open_table(plan.path, plan.kind, plan.sheet)
    try:
        with collector_paused():
            yield from _chunks(plan, table)  # its memos are freed before the collector resumes
    finally:
        table.close()


def _chunks(plan: Plan, table: Table) -> Iterator[Prepared]:
    normaliser = NumberNormaliser(plan.region)
    places: dict[int, int] = {}  # id(place) -> its index: places are interned (`make_place`)
    shipped: list[Place] = []
    encode = plan.columns.attributes_json()
    rows = table.rows()
    while batch := list(islice(rows, plan.chunk_rows)):
        known = len(shipped)
        candidates, rejects = _candidates(batch, plan.columns.phone, encode, normaliser, places, shipped)
        yield Prepared(len(batch), candidates, rejects, shipped[known:], table.position())


def _candidates(
    batch: list[SourceRow],
    phone: int,
    encode: Callable[[list[str]], str],
    normaliser: NumberNormaliser,
    places: dict[int, int],
    shipped: list[Place],
) -> tuple[list[Candidate], list[Reject]]:
    """Split rows into those with a valid number and rejects (malformed, missing, invalid)."""
    candidates: list[Candidate] = []
    rejects: list[Reject] = []
    normalise = normaliser.normalise
    malformed = Reason.MALFORMED_ROW.value
    type_value = _TYPE_VALUES  # a dict probe costs a tenth of an enum's `.value`
    for line, cells, problem in batch:
        if problem is not None:  # (a row without one has the header's width, so a phone cell)
            rejects.append((line, cells[phone] if phone < len(cells) else "", malformed, problem))
            continue
        raw = cells[phone]
        number = normalise(raw)
        if isinstance(number, NumberInfo):
            e164, extension, number_type, place = number
            place_id = places.get(id(place))
            if place_id is None:
                place_id = places[id(place)] = len(shipped)
                shipped.append(place)
            candidates.append((line, raw, e164, extension, type_value[number_type], place_id, encode(cells)))
        else:
            rejects.append((line, raw, number.reason.value, number.detail))
    return candidates, rejects


def _plain(plan: Plan) -> Iterator[tuple[Any, ...]]:
    """The chunks as plain tuples, for the pipe (named tuples pickle ten times slower), their
    candidates by column (`_packed`)."""
    for rows, candidates, rejects, places, position in _prepared(plan):
        yield rows, _packed(candidates), rejects, places, position


def _packed(candidates: list[Candidate]) -> Packed:
    """Candidates by column, the long text columns joined on NUL (which the reader lets through in
    no candidate): a few long strings pickle in two thirds of the time of as many tuples, and
    split again as fast as those unpickle. Left as they are should a NUL be there after all."""
    if not candidates:
        return candidates
    lines, raws, numbers, extensions, types, places, attributes = zip(*candidates, strict=True)
    texts = tuple("\0".join(column) for column in (raws, numbers, attributes))
    if any(text.count("\0") != len(candidates) - 1 for text in texts):
        return candidates
    return lines, extensions, types, places, texts


def _unpacked(packed: Packed) -> list[Candidate]:
    if isinstance(packed, list):
        return packed
    lines, extensions, types, places, texts = packed
    raws, numbers, attributes = (text.split("\0") for text in texts)
    return list(zip(lines, raws, numbers, extensions, types, places, attributes, strict=True))
