"""The engine's database thread: every database call runs there, one at a time, in submission order.

The event loop never blocks on the database; one thread keeps writes in order (a call's close
after its open, a disposition after the close) and suits SQLite's single writer. `run` is for
work whose answer the caller needs (the hopper, the dial-time check); `submit` is for records
written behind the calls (state changes, a call's end), so that no AMI event waits for a write:
their failures are logged, and `close` waits for every one of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


class DatabaseThread:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ringcast-db")

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))

    def submit(self, function: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue a write without waiting for it (it still runs after everything queued before)."""
        future = self._executor.submit(function, *args, **kwargs)
        future.add_done_callback(partial(_log_failure, getattr(function, "__name__", repr(function))))

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def _log_failure(name: str, future: Future[Any]) -> None:
    error = future.exception()
    if error is not None:
        log.error("database write %s failed: %s", name, error, exc_info=error)
