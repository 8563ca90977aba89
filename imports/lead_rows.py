"""New leads as the rows the store writes: tuples for SQLite, `COPY` text for PostgreSQL.

`imports.store.ImportWriter` formats each chunk's new leads here and hands the rows to the
driver. The leads come sorted by number (`imports.service` sorts each chunk's candidates once,
for its lookups, its decisions and its rows), so the number index of `leads` is filled
in order. On PostgreSQL this replaces psycopg's `write_row`, which spent 7 µs a lead converting
values one by one (3 of them the same timestamp); the text here costs about 2 µs a lead.

Every lead carries `NUMBER_COLUMNS` (its own values, then its place's, then `sms_opt_out`: for
SQLite, a place's columns are kept with either flag after them, so that a row is one tuple joined
to another)
followed by `SHARED_COLUMNS` (the same for every lead of an import). On SQLite the shared values
are literals of the INSERT statement (`ImportWriter`); on PostgreSQL they end every line of the
COPY text, rendered once. COPY's text format needs backslash, tab, newline and carriage return
escaped in a value; the two columns that hold free text from the file (`raw_input`,
`attributes`) are escaped for a whole chunk at once (joined on NUL, which the reader never lets
through, escaped by four `str.replace`, split again: a tenth of the cost of `str.translate`,
which is slow on Chinese text), places once each.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from operator import itemgetter
from typing import Any

from campaigns.persistence.models.enums import LeadState
from imports.decisions import Candidate, Context
from imports.number_facts import Place

NUMBER_COLUMNS = (
    "source_line",
    "raw_input",
    "e164",
    "extension",
    "number_type",
    "attributes",
    "time_zones",
    "region",
    "city",
    "carrier",
    "region_en",
    "city_en",
    "carrier_en",
    "sms_opt_out",
)
SHARED_COLUMNS = (
    "list_id",
    "import_id",
    "state",
    "attempt_count",
    "priority",
    "next_attempt_at",
    "created_at",
    "updated_at",
)
RAW_INPUT_LENGTH = 100
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime stores times in SQLite
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))  # backslash first
_COPY_NULL = "\\N"

SqliteRows = list[tuple[Any, ...]]


def shared_values(context: Context, *, sqlite: bool) -> tuple[Any, ...]:
    """The values of `SHARED_COLUMNS` for every lead of the import."""
    now = context.now.astimezone(UTC).strftime(SQLITE_TIME) if sqlite else context.now
    return (context.list_id, context.import_id, LeadState.NEW.value, 0, 0, now, now, now)


class LeadFormatter:
    """Formats the new leads of one import for its backend; keep one per import (it caches places)."""

    def __init__(self, context: Context, *, sqlite: bool) -> None:
        self._sqlite = sqlite
        self._places: dict[int, Any] = {}  # place id -> its columns (with either flag, or COPY text)
        self._suffix = "\t".join(map(_copy_value, shared_values(context, sqlite=False))) + "\n"

    def rows(
        self, leads: Sequence[Candidate], opted_out: frozenset[str], places: Sequence[Place]
    ) -> SqliteRows | bytes:
        """The leads' rows, in their order, flagged when their number is in `opted_out`; `places`
        holds every place id the leads use."""
        for place in set(map(itemgetter(5), leads)) - self._places.keys():
            columns = _place_columns(places[place])
            if self._sqlite:
                self._places[place] = ((*columns, False), (*columns, True))
            else:
                self._places[place] = "\t".join(map(_copy_value, columns))
        if self._sqlite:
            return self._sqlite_rows(leads, opted_out)
        return self._copy_text(leads, opted_out)

    def _sqlite_rows(self, leads: Sequence[Candidate], opted_out: frozenset[str]) -> SqliteRows:
        ends = self._places
        return [
            (line, raw[:RAW_INPUT_LENGTH], e164, extension, kind, attributes) + ends[place][e164 in opted_out]
            for line, raw, e164, extension, kind, place, attributes in leads
        ]

    def _copy_text(self, leads: Sequence[Candidate], opted_out: frozenset[str]) -> bytes:
        raws = _escaped([lead[1][:RAW_INPUT_LENGTH] for lead in leads])
        attributes = _escaped([lead[6] for lead in leads])
        columns, suffix, null = self._places, self._suffix, _COPY_NULL
        lines = [
            f"{line}\t{raw}\t{e164}\t{extension or null}\t{kind}\t{attrs}\t{columns[place]}"
            f"\t{'t' if e164 in opted_out else 'f'}\t{suffix}"
            for (line, _, e164, extension, kind, place, _), raw, attrs in zip(
                leads, raws, attributes, strict=True
            )
        ]
        return "".join(lines).encode()


def _escaped(values: list[str]) -> list[str]:
    """COPY-escaped texts, escaped all at once (none holds a NUL)."""
    return _escape("\0".join(values)).split("\0") if values else []


def _escape(text: str) -> str:
    for special, escaped in _COPY_ESCAPES:
        text = text.replace(special, escaped)
    return text


def _copy_value(value: Any) -> str:
    if value is None:
        return _COPY_NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    return _escape(str(value))


def _place_columns(place: Place) -> tuple[Any, ...]:
    return (
        json.dumps(list(place.time_zones)),
        place.region_zh,
        place.city_zh,
        place.carrier_zh,
        place.region_en,
        place.city_en,
        place.carrier_en,
    )
