"""Which column holds the phone number, and what the other columns are called on the lead.

The phone column is, in this order: the one `--map phone=COLUMN` names; the first header that
is a known name for a phone column (手机号, 手机, 电话, 联系电话, phone, mobile, tel, ...; compared
without case, spaces, punctuation or full-width forms); the first header containing 手机, 电话,
phone or mobile; else the column whose sample cells are most often valid numbers (at least
half of the non-empty ones). Every other column is kept as a lead attribute under its header,
or under the name `--map name=姓名` gives it. Attributes are serialised to JSON here, once per row,
with the column names encoded in advance.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ringcast.errors import UserError

PHONE_NAMES = (
    "手机号",
    "手机号码",
    "手机",
    "移动电话",
    "联系电话",
    "联系方式",
    "电话",
    "电话号码",
    "号码",
    "固定电话",
    "座机",
    "phone",
    "phonenumber",
    "mobile",
    "mobilephone",
    "mobilenumber",
    "cell",
    "cellphone",
    "tel",
    "telephone",
    "msisdn",
    "number",
    "contactnumber",
)
PHONE_WORDS = ("手机", "电话", "phone", "mobile")
MIN_VALID_SHARE = 0.5
_encode: Callable[[str], str] = json.encoder.encode_basestring


def canonical(name: str) -> str:
    """A header as compared: NFKC (full-width to ASCII), lower case, no spaces or punctuation."""
    folded = unicodedata.normalize("NFKC", name).lower()
    return "".join(char for char in folded if char.isalnum())


def parse_map(text: str | None) -> dict[str, str]:
    """`phone=手机号,name=姓名` -> {"phone": "手机号", "name": "姓名"}; a `UserError` if malformed."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise UserError(
                f"--map: {part.strip()!r} is not FIELD=COLUMN", hint="e.g. --map phone=手机号,name=姓名"
            )
        if field.strip() in mapping:
            raise UserError(f"--map names {field.strip()!r} twice")
        mapping[field.strip()] = column.strip()
    return mapping


@dataclass(frozen=True)
class Columns:
    """Where the phone number is and how the other cells become the attributes JSON."""

    phone: int
    phone_name: str
    width: int
    attributes: tuple[tuple[int, str], ...]  # (column index, attribute name)
    found_by: str  # "--map", "header" or "content": how the phone column was chosen

    @property
    def attribute_names(self) -> list[str]:
        return [name for _, name in self.attributes]

    def attributes_json(self) -> Callable[[list[str]], str]:
        """A function turning a row's cells into the JSON object of its non-empty attributes."""
        keyed = [(index, _encode(name) + ":") for index, name in self.attributes]

        def encode(cells: list[str]) -> str:
            parts = [key + _encode(text) for index, key in keyed if (text := cells[index].strip())]
            return "{" + ",".join(parts) + "}"

        return encode


def resolve(
    header: Sequence[str],
    mapping: dict[str, str],
    sample: Sequence[Sequence[str]],
    is_valid: Callable[[str], bool],
) -> Columns:
    """Choose the phone column and name the attributes; a `UserError` if no phone column is found."""
    indexes = {field: _column_index(header, column) for field, column in mapping.items()}
    phone, found_by = indexes.pop("phone", None), "--map"
    if phone is None:
        phone, found_by = _by_name(header), "header"
    if phone is None:
        phone, found_by = _by_content(header, sample, is_valid), "content"
    if phone is None:
        raise UserError(
            f"no phone column found among: {', '.join(header)}",
            hint="name it with --map phone=COLUMN",
        )
    renamed = {index: field for field, index in indexes.items()}
    attributes = tuple(
        (index, renamed.get(index, name)) for index, name in enumerate(header) if index != phone
    )
    names = [name for _, name in attributes]
    if len(set(names)) != len(names):
        raise UserError(f"--map gives two columns the same name: {', '.join(sorted(mapping))}")
    return Columns(phone, header[phone], len(header), attributes, found_by)


def _column_index(header: Sequence[str], column: str) -> int:
    if column in header:
        return header.index(column)
    wanted = canonical(column)
    for index, name in enumerate(header):
        if canonical(name) == wanted:
            return index
    if column.isdigit() and 1 <= int(column) <= len(header):
        return int(column) - 1
    raise UserError(f"--map: no column {column!r} (columns: {', '.join(header)})")


def _by_name(header: Sequence[str]) -> int | None:
    names = [canonical(name) for name in header]
    for known in PHONE_NAMES:
        if known in names:
            return names.index(known)
    for word in PHONE_WORDS:
        for index, name in enumerate(names):
            if word in name:
                return index
    return None


def _by_content(
    header: Sequence[str], sample: Sequence[Sequence[str]], is_valid: Callable[[str], bool]
) -> int | None:
    best, best_share = None, 0.0
    for index in range(len(header)):
        cells = [row[index] for row in sample if index < len(row) and row[index].strip()]
        if cells:
            share = sum(map(is_valid, cells)) / len(cells)
            if share >= MIN_VALID_SHARE and share > best_share:
                best, best_share = index, share
    return best
