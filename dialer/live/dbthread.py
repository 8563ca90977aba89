"""The engine's database thread: every database call runs there, one at a time, in submission order.

The event loop never blocks on the database; one thread keeps writes in order (a call's close
after its open, a disposition after the close) and suits SQLite's single writer.

- `run(function, *args)`: work whose answer the caller awaits (the hopper, the dial-time check);
  `function` opens its own transactions.
- `later(function, *args)`: the same work nobody awaits (an inbound call's record), queued at
  once, so it keeps its place among the writes `submit`ted before and after it; a failure is
  logged.
- `submit(function, *args)`: a record written behind the calls (a state change, a call's end):
  `function(session, *args)` runs without anybody waiting for it. Writes queued one after another
  share one transaction (group commit: under load a transaction's begin and commit cost more than
  a write's own statements); should that transaction fail, each of its writes is retried in a
  transaction of its own, so one bad write loses nothing else. Failures are logged and counted
  by the write's function (`lost`: a later write can tell whether one it vouches for was lost);
  `close` waits for every queued write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from campaigns.persistence.db import Database

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)

BATCH_MAX = 200  # writes in one transaction at most


@dataclass(frozen=True, slots=True)
class _Read:
    work: Callable[[], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class _Write:
    work: Callable[[Session], Any]
    function: Callable[..., Any]  # what `work` calls

    @property
    def name(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))


_CLOSE = object()


class DatabaseThread:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._jobs: queue.SimpleQueue[_Read | _Write | object] = queue.SimpleQueue()
        # submitted writes that failed for good, by function: read it in this thread, or after `close`
        self.lost: Counter[Callable[..., Any]] = Counter()
        self._thread = threading.Thread(target=self._serve, name="ringcast-db", daemon=True)
        self._thread.start()

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Read(partial(function, *args, **kwargs), loop, future))
        return await future

    def later(self, function: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue `function` (it opens its own transactions) without waiting for it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        future.add_done_callback(partial(_log_failure, getattr(function, "__name__", repr(function))))
        self._jobs.put(_Read(partial(function, *args, **kwargs), loop, future))

    def submit(
        self, function: Callable[Concatenate[Session, P], Any], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        """Queue a write without waiting for it (it still runs after everything queued before)."""
        self._jobs.put(_Write(lambda session: function(session, *args, **kwargs), function))

    def close(self) -> None:
        self._jobs.put(_CLOSE)
        self._thread.join()

    # ---- the thread ---------------------------------------------------------------------------------

    def _serve(self) -> None:
        job = self._jobs.get()
        while job is not _CLOSE:
            if isinstance(job, _Read):
                _answer(job)
                job = self._jobs.get()
                continue
            assert isinstance(job, _Write)
            batch, job = self._batch(job)
            self._write(batch)
            if job is None:
                job = self._jobs.get()

    def _batch(self, first: _Write) -> tuple[list[_Write], _Read | _Write | object | None]:
        """`first` and the writes queued right behind it; the job after them, if already queued."""
        batch = [first]
        while len(batch) < BATCH_MAX:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return batch, None
            if not isinstance(job, _Write):
                return batch, job
            batch.append(job)
        return batch, None

    def _write(self, batch: list[_Write]) -> None:
        try:
            with self.database.session() as session:
                for write in batch:
                    write.work(session)
                    session.flush()
                    session.expunge_all()  # a write's objects are its own: autoflush stays cheap
            return
        except Exception as error:
            if len(batch) == 1:
                self._failed(batch[0], error)
                return
        for write in batch:  # one of them failed: each on its own, so the others are kept
            try:
                with self.database.session() as session:
                    write.work(session)
            except Exception as error:
                self._failed(write, error)

    def _failed(self, write: _Write, error: Exception) -> None:
        self.lost[write.function] += 1
        log.error("database write %s failed: %s", write.name, error, exc_info=error)


def _answer(job: _Read) -> None:
    try:
        outcome: tuple[Any, BaseException | None] = (job.work(), None)
    except BaseException as error:  # handed to the awaiting task, as an executor would
        outcome = (None, error)
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits the answer any more
        job.loop.call_soon_threadsafe(_settle, job.future, *outcome)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _log_failure(name: str, future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("database work %s failed: %s", name, future.exception(), exc_info=future.exception())
