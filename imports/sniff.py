"""What kind of file this is, before a row is read: CSV or XLSX, the text encoding, the delimiter.

One pass over the bytes computes the file's SHA-256 (how a re-import is recognised) and tries
UTF-8 and GB18030 (a superset of GBK) incrementally. UTF-8 wins when it decodes the whole file,
else GB18030 when that does; when neither does, the one in which the fewest lines of the first
MiB fail is kept if those are a few (one line or 1 %), and the lines it cannot decode become
malformed rows. A file that is empty, has NUL or control
bytes (binary), starts with a UTF-16 byte-order mark or an old .xls signature, or decodes in
neither encoding is refused with one `UserError` line. The delimiter is the one of `,` tab `;`
`|` that splits the first lines into the same number (at least two) of fields most often; one
under which the csv module cannot split one of those lines (a field over its size limit) is
passed over, and the comma kept if every one is.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ringcast.errors import UserError

BLOCK = 1 << 20
SAMPLE = 1 << 20
DELIMITERS = (",", "\t", ";", "|")
_CONTROL = bytes(range(32)).translate(None, b"\t\n\r\x0c\x1a") + b"\x7f"
_SAVE_AS = "save it from Excel or WPS as CSV UTF-8 or as .xlsx"


@dataclass(frozen=True)
class FileKind:
    """The facts `imports.reader` needs to read a file."""

    format: str  # "csv" or "xlsx"
    sha256: str
    size: int
    encoding: str | None = None  # Python codec name, CSV only
    has_bad_bytes: bool = False  # some lines do not decode: they become malformed rows


def sniff(path: Path) -> FileKind:
    """Identify `path`; raise `UserError` for anything that is not a readable CSV or XLSX."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise UserError(f"cannot open {path}: {error.strerror}") from None
    with handle:
        head = handle.read(SAMPLE)
        if not head.strip(b" \t\r\n\xef\xbb\xbf"):
            raise UserError(f"{path} is empty", hint="export the list again, with its rows")
        if head.startswith(b"PK\x03\x04"):
            digest = hashlib.sha256(head)
            for block in iter(lambda: handle.read(BLOCK), b""):
                digest.update(block)
            return FileKind("xlsx", digest.hexdigest(), handle.tell())
        _refuse_binary(path, head)
        decoders = {name: codecs.getincrementaldecoder(name)("strict") for name in ("utf-8", "gb18030")}
        fits_all = {name: _feeds(decoder, head, final=False) for name, decoder in decoders.items()}
        digest = hashlib.sha256(head)
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
            for name, decoder in decoders.items():
                fits_all[name] = fits_all[name] and _feeds(decoder, block, final=False)
        for name, decoder in decoders.items():
            fits_all[name] = fits_all[name] and _feeds(decoder, b"", final=True)
        size = handle.tell()
    encoding = next((name for name in decoders if fits_all[name]), None)
    if encoding is None:
        encoding = _fewest_bad_lines(head, list(decoders))
    if encoding is None:
        raise UserError(
            f"cannot tell the text encoding of {path}: it is neither UTF-8 nor GBK/GB18030", hint=_SAVE_AS
        )
    if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    return FileKind("csv", digest.hexdigest(), size, encoding, not fits_all[encoding.removesuffix("-sig")])


def _fewest_bad_lines(head: bytes, encodings: list[str]) -> str | None:
    """The encoding in which the fewest lines of `head` fail to decode, if those are a few (at most
    one line, or 1 %); None when every encoding fails on more."""
    lines = head.split(b"\n")[:-1] or [head]
    allowed = max(1, len(lines) // 100)
    bad = {name: sum(not _decodes(line, name) for line in lines) for name in encodings}
    best = min(encodings, key=lambda name: bad[name])
    return best if bad[best] <= allowed else None


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _feeds(decoder: codecs.IncrementalDecoder, data: bytes, *, final: bool) -> bool:
    try:
        decoder.decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_binary(path: Path, head: bytes) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UserError(f"{path} is UTF-16 text, which is not read here", hint=_SAVE_AS)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UserError(f"{path} is an old Excel .xls file, which is not read here", hint=_SAVE_AS)
    control = len(head) - len(head.translate(None, _CONTROL))
    if b"\x00" in head or control > len(head) // 100:
        raise UserError(f"{path} looks like a binary file, not a CSV or XLSX list", hint=_SAVE_AS)


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter splitting `lines` into the most consistent number (two or more) of fields."""
    best, best_share = ",", 0.0
    for delimiter in DELIMITERS:
        try:
            widths = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter) if row)
        except csv.Error:  # a line it cannot split (the reader makes it a malformed row): not this one
            continue
        if not widths:
            continue
        width, count = widths.most_common(1)[0]
        share = count / sum(widths.values())
        if width >= 2 and share > best_share:
            best, best_share = delimiter, share
    return best
