"""The rejected-rows report (IMP-6): one CSV line per rejected row, written only if the import commits.

Columns: `line` (the file's line, header = 1), `raw` (the phone cell as written), `reason` (a
`Reason` code) and `detail`. The report is written to a hidden temporary file next to the
target and renamed over it once the import has committed, so a failed import leaves no report
(and no stale half of one). It is UTF-8 with a byte-order mark, so Excel and WPS show Chinese
correctly, and cells are neutralised against formula injection like every export.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from imports.decisions import Reject
from reports.files import neutralise
from ringcast.errors import UserError

HEADER = ("line", "raw", "reason", "detail")


class RejectsReport:
    """A context manager: `write()` rejects, `commit()` to publish; leaving without commit discards.

    With no path, rejects are counted by the caller and not written anywhere.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._writer: Any = None

    @property
    def _partial(self) -> Path:
        assert self.path is not None
        return self.path.with_name(f".{self.path.name}.partial")

    def __enter__(self) -> RejectsReport:
        if self.path is not None:
            try:
                self._file = self._partial.open("w", encoding="utf-8-sig", newline="", errors="replace")
            except OSError as error:
                raise UserError(f"cannot write the rejects file {self.path}: {error.strerror}") from None
            self._writer = csv.writer(self._file)
            self._writer.writerow(HEADER)
        return self

    def write(self, rejects: list[Reject]) -> None:
        if self._writer is not None:
            self._writer.writerows(
                (line, neutralise(raw), reason, neutralise(detail)) for line, raw, reason, detail in rejects
            )

    def commit(self) -> None:
        if self._file is not None and self.path is not None:
            self._file.close()
            self._file = self._writer = None
            os.replace(self._partial, self.path)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._partial.unlink(missing_ok=True)
