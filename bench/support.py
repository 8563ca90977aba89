"""What the benchmarks share: a database per backend, a fresh process per measurement, its peak memory."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

from tests.support.pgcluster import PrivateCluster


def backend_url(backend: str, work: Path, cluster: PrivateCluster | None, name: str = "bench") -> str:
    """A fresh database: SQLite in `work`, or database `name` in the (started here) private cluster."""
    if backend == "sqlite":
        return f"sqlite:///{work / f'{name}.db'}"
    assert cluster is not None
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    cluster_url = cluster.start()
    engine = create_engine(cluster_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CREATE DATABASE " + name))
    engine.dispose()
    return cluster_url.set(database=name).render_as_string(hide_password=False)


class MemorySampler:
    """Peak memory of this process and its children (the import's worker), sampled 5 times a second.

    It adds proportional set sizes (PSS, /proc/PID/smaps_rollup): pages the forked worker shares
    with the importing process count once, not twice. Peak RSS (ru_maxrss) would not do: Linux
    carries it across exec, so a spawned child reports its parent's peak.
    """

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # once more: a run shorter than the sampling interval is measured too

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def _sample(self) -> None:
        children = [child.pid for child in multiprocessing.active_children() if child.pid is not None]
        self.peak_kib = max(self.peak_kib, sum(map(_pss_kib, [os.getpid(), *children])))

    @property
    def peak_mb(self) -> float:
        return self.peak_kib / 1024


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            return next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
    except (OSError, StopIteration):
        return 0


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return dict(result)
