"""New leads as the rows the store writes: tuples for SQLite, binary `COPY` data for PostgreSQL.

`imports.store.ImportWriter` formats each chunk's new leads here and hands the rows to the
driver. The leads come sorted by number (`imports.service` sorts each chunk's candidates once,
for its lookups, its decisions and its rows), so the number index of `leads` is filled in order.

Every lead carries `NUMBER_COLUMNS` (its own values, then its place's: time zones and the id of
its region, city and carrier texts in `number_places`, which `ImportWriter` finds or adds as
places first appear; then `sms_opt_out`) followed by `SHARED_COLUMNS` (the same for every lead
of an import). On SQLite the shared values are literals of the INSERT statement
(`ImportWriter`), and a place's columns are kept with either flag after them, so that a row is
one tuple joined to another. Its values are all plain `int`s and `str`s: the sqlite3 module binds
those directly, but runs its adapter lookup for anything else (a `bool`, `None`), at 0.6 µs a
value, which was a third of the binding of a lead. So the flag is 0 or 1, a missing extension
'' and a missing place 0 (`SQLITE_VALUES` turns them back into NULL: no extension is empty, no
place id 0). On PostgreSQL a chunk is one `COPY ... (FORMAT binary)` stream: each field its
length and bytes, a `jsonb` field a version byte and its text. The server then parses no numbers
or times and unescapes no text: a tenth of its time per lead less than with the text format (a
fifth alone), for about 0.4 µs more here (psycopg's `write_row` took 7 µs a lead). A place's
fields with either flag and the shared fields after them are encoded once, the texts of a chunk
in one `encode` (joined on NUL, which the reader never lets through), so a lead costs one
`bytes.join` of ten parts.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
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
    "place_id",
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
_SQLITE_NULLABLE = {"extension": "NULLIF(?, '')", "place_id": "NULLIF(?, 0)"}  # see the module doc
SQLITE_VALUES = ", ".join(_SQLITE_NULLABLE.get(column, "?") for column in NUMBER_COLUMNS)  # placeholders
RAW_INPUT_LENGTH = 100
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime stores times in SQLite
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\0" + struct.pack(">ii", 0, 0)  # no flags, no header extension
_COPY_TRAILER = struct.pack(">h", -1)
_COPY_NULL = struct.pack(">i", -1)
_LENGTHS = [struct.pack(">i", n) for n in range(4 * RAW_INPUT_LENGTH + 1)]  # short fields' length prefixes
_JSONB_VERSION = b"\1"
_JSONB_HEADS = [struct.pack(">i", n + 1) + _JSONB_VERSION for n in range(4096)]  # by the text's length
_ROW_HEAD = struct.Struct(">hiii")  # a row's field count, then its line (int4), then the raw text's length
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # a binary timestamptz counts microseconds from it

SqliteRows = list[tuple[Any, ...]]


def shared_values(context: Context, *, sqlite: bool) -> tuple[Any, ...]:
    """The values of `SHARED_COLUMNS` for every lead of the import."""
    now = context.now.astimezone(UTC).strftime(SQLITE_TIME) if sqlite else context.now
    return (context.list_id, context.import_id, LeadState.NEW.value, 0, 0, now, now, now)


class LeadFormatter:
    """Formats the new leads of one import for its backend; keep one per import (it caches places)."""

    def __init__(self, context: Context, *, sqlite: bool) -> None:
        self._sqlite = sqlite
        self._places: dict[int, Any] = {}  # the import's place -> its columns with either flag, and after
        self._shared = b"".join(map(_binary_field, shared_values(context, sqlite=False)))
        self._types = _FieldMemo()  # a number type's value -> its field
        self._fields = len(NUMBER_COLUMNS) + len(SHARED_COLUMNS)

    def unknown(self, leads: Sequence[Candidate]) -> set[int]:
        """The places of the leads (the import's numbering) that `know` has not been told yet."""
        return set(map(itemgetter(5), leads)) - self._places.keys()

    def know(self, place: int, facts: Place, place_id: int | None) -> None:
        """Place `place` of the import is `facts`, stored as `number_places` row `place_id`."""
        zones = json.dumps(list(facts.time_zones))
        if self._sqlite:
            self._places[place] = tuple((zones, place_id or 0, flag) for flag in (0, 1))
        else:
            fields = _jsonb_field(zones) + _binary_field(place_id)
            self._places[place] = tuple(fields + _binary_field(flag) + self._shared for flag in (False, True))

    def rows(self, leads: Sequence[Candidate], opted_out: frozenset[str]) -> SqliteRows | bytes:
        """The leads' rows, in their order, flagged when their number is in `opted_out`; every place
        they have must be known (`know`)."""
        if self._sqlite:
            return self._sqlite_rows(leads, opted_out)
        return self._copy_data(leads, opted_out)

    def _sqlite_rows(self, leads: Sequence[Candidate], opted_out: frozenset[str]) -> SqliteRows:
        ends = self._places
        return [
            (line, raw[:RAW_INPUT_LENGTH], e164, extension or "", kind, attributes)
            + ends[place][e164 in opted_out]
            for line, raw, e164, extension, kind, place, attributes in leads
        ]

    def _copy_data(self, leads: Sequence[Candidate], opted_out: frozenset[str]) -> bytes:
        lines, raws, numbers, extensions, kinds, places, attributes = zip(*leads, strict=True)
        raw_bytes = _encoded([raw[:RAW_INPUT_LENGTH] for raw in raws])
        head, fields, sizes, jsonb_heads = _ROW_HEAD.pack, self._fields, _LENGTHS, _JSONB_HEADS
        types, ends, null, limit = self._types, self._places, _COPY_NULL, len(_JSONB_HEADS)
        rows = [
            b"".join(
                (
                    head(fields, 4, line, len(raw)),
                    raw,
                    sizes[len(e164)],
                    e164,
                    null if extension is None else _binary_field(extension),
                    types[kind],
                    jsonb_heads[size] if (size := len(attrs)) < limit else _jsonb_head(size),
                    attrs,
                    ends[place][number in opted_out],
                )
            )
            for line, raw, e164, extension, kind, place, attrs, number in zip(
                lines,
                raw_bytes,
                _encoded(numbers),
                extensions,
                kinds,
                places,
                _encoded(attributes),
                numbers,
                strict=True,
            )
        ]
        return b"".join((_COPY_SIGNATURE, *rows, _COPY_TRAILER))


class _FieldMemo(dict[Any, bytes]):
    """Values and their binary fields, each encoded when first asked for."""

    def __missing__(self, value: Any) -> bytes:
        field = self[value] = _binary_field(value)
        return field


def _encoded(texts: Sequence[str]) -> list[bytes]:
    """UTF-8 texts, encoded all at once (none holds a NUL)."""
    return "\0".join(texts).encode().split(b"\0") if texts else []


def _binary_field(value: Any) -> bytes:
    """A field of binary COPY data: its length and bytes (int4, bool, timestamptz, varchar)."""
    if value is None:
        return _COPY_NULL
    if isinstance(value, bool):
        return _LENGTHS[1] + (b"\1" if value else b"\0")
    if isinstance(value, int):
        return _LENGTHS[4] + struct.pack(">i", value)
    if isinstance(value, datetime):
        return _LENGTHS[8] + struct.pack(">q", (value - _EPOCH) // timedelta(microseconds=1))
    data = str(value).encode()
    return struct.pack(">i", len(data)) + data


def _jsonb_field(text: str) -> bytes:
    data = text.encode()
    return _jsonb_head(len(data)) + data


def _jsonb_head(size: int) -> bytes:
    """A jsonb field's length and version, for a text of `size` bytes."""
    return struct.pack(">i", size + 1) + _JSONB_VERSION
