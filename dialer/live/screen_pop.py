"""Screen pops (AGT-3): the events an agent's desktop is sent, per agent, to every reader of its stream.

`ScreenPops` is the publisher the engine calls and the control API reads (`GET
/agents/NAME/events`). Each reader has its own `Subscription`, a queue of at most `bound` events:
a reader that falls behind loses its oldest events (counted in `dropped`; the events' ids then
skip some of the agent's) and never holds up the engine, which publishes without awaiting anything.
An event may wait for data still being looked up (`details`, a future: the customer record, read
in the database thread); the agent's later events wait behind it, so that each reader sees an
agent's events in the order they were published. `close` ends every stream (the engine stops).

Ids: one counter for every agent, increasing across engine runs (`restore`: the feed starts it
above every id an earlier run gave), so that an id names one event for good. Each agent's events
have increasing ids, not consecutive ones.

Readers come back (SSE's `Last-Event-ID`): an agent is followed from its first reader on until it
is `forget`-ten (the feed does it once the agent is logged out and nobody reads), and meanwhile its
last `KEPT` events are kept, read or not (`Kept`), and handed to the `Journal` (the feed writes
them to the database, so that a restarted engine `restore`s them and goes on following the agent).
A reader subscribing with the id of the last event it had gets the kept events after it, then the
live ones: subscribing is one synchronous step, so an event published while the replay is being
sent comes after it, once, and none falls between. When some of the agent's events after that id
are no longer kept (`Kept.since` is above it: events dropped beyond `KEPT`, or the agent was
forgotten meanwhile, which takes an id of its own), or may have been lost (the id is from before
a crash the agent was restored after: `Kept.unsure`), or the id is above the last given (no event
has it yet), the reader gets none of them and its subscription says `missed` (`kept_after`).

`call_events` says what one step of an agent's state machine means for its screen: a call
`offered` (reserved for the agent, being connected), `connected` (the customer joined the agent's
conference), `ended` (the call left the agent). Pure but for the futures' callbacks and the
journal's; no clock: every instant comes in with the event.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import AgentStatus

log = logging.getLogger(__name__)

OFFERED, CONNECTED, ENDED, STATE = "offered", "connected", "ended", "state"
MISSED = "missed"  # said to a reader coming back after events it can no longer be given
BOUND = 100  # events a reader may be behind before its oldest are dropped
KEPT = 200  # events kept per followed agent for readers coming back (`Last-Event-ID`)


@dataclass(frozen=True, slots=True)
class ScreenEvent:
    seq: int  # the event's id: unique, increasing across every agent and engine run
    kind: str  # offered, connected, ended, state
    agent: str
    at: datetime
    data: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"type": self.kind, "agent": self.agent, "at": self.at.isoformat(), **self.data}


class Subscription:
    """One reader of one agent's events: iterate it; the iteration ends when it is closed.

    `replay` (kept events a reader coming back had not had) comes first and counts apart from the
    `bound` of live events; `missed`: the reader came back after events no longer kept."""

    def __init__(
        self, bound: int = BOUND, replay: Sequence[ScreenEvent] = (), *, missed: bool = False
    ) -> None:
        self.dropped = 0
        self.closed = False
        self.missed = missed
        self._replay = deque(replay)
        self._events: deque[ScreenEvent] = deque(maxlen=bound)
        self._wake = asyncio.Event()

    def put(self, event: ScreenEvent) -> None:
        if len(self._events) == self._events.maxlen:
            self.dropped += 1  # the deque drops its oldest
        self._events.append(event)
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def next(self) -> ScreenEvent | None:
        """The next event, once there is one; None once closed and read to the end."""
        if self._replay:
            return self._replay.popleft()
        while not self._events:
            if self.closed:
                return None
            self._wake.clear()
            await self._wake.wait()
        return self._events.popleft()

    async def __aiter__(self) -> AsyncIterator[ScreenEvent]:
        while (event := await self.next()) is not None:
            yield event


@dataclass
class _Pending:
    kind: str
    at: datetime
    data: Mapping[str, Any]
    details: asyncio.Future[Mapping[str, Any]] | None


@dataclass
class Kept:
    """A followed agent's last events, and `since`: a reader whose last id is at least `since` has
    missed none of the agent's events that are no longer kept. `unsure` (after a crash, else 0):
    the last id before the new run's; the crashed run may have given the agent events after the
    last one written, which are lost, so that a reader coming back with an id up to it may have
    missed some."""

    since: int
    events: deque[ScreenEvent] = field(default_factory=deque)
    unsure: int = 0


class Journal(Protocol):
    """Where kept events are written (the feed's database), without being waited for."""

    def kept(self, event: ScreenEvent, previous: int, dropped: int | None) -> None:
        """`event` is kept (`previous`: the id of the agent's kept event before it, else its
        `Kept.since`); the agent's events up to id `dropped`, when given, are no longer kept."""

    def closed(self, seq: int) -> None:
        """The publisher closed (the engine stops cleanly): every event it gave is written before
        this; `seq` is an id of its own, above them."""

    def forgotten(self, agent: str, seq: int) -> None:
        """The agent is no longer followed (id `seq` taken for it): none of its events are kept."""


class ScreenPops:
    def __init__(self, bound: int = BOUND, kept: int = KEPT, journal: Journal | None = None) -> None:
        self.bound = bound
        self.kept = kept
        self.journal = journal
        self.closed = False
        self.last = 0  # the last id given
        self._readers: dict[str, set[Subscription]] = {}
        self._pending: dict[str, deque[_Pending]] = {}
        self._kept: dict[str, Kept] = {}  # per followed agent

    def restore(self, last: int, kept: Mapping[str, Kept], *, clean: bool) -> None:
        """Go on from an earlier run: ids after `last`, the agents of `kept` followed with their
        kept events; unless that run stopped `clean`ly, any id up to `last` is `unsure` (before
        anything is published or read)."""
        self.last = max(self.last, last)
        unsure = 0 if clean else self.last
        for agent, found in kept.items():
            self._kept[agent] = Kept(found.since, deque(found.events, maxlen=self.kept), unsure)

    def watched(self, agent: str) -> bool:
        """Whether anybody reads the agent's events now."""
        return bool(self._readers.get(agent))

    def followed(self, agent: str) -> bool:
        """Whether the agent's events are published and kept (nobody follows it: nothing need be
        looked up for them)."""
        return agent in self._kept

    def forget(self, agent: str) -> None:
        """The agent is no longer followed and its kept events go, unless somebody reads them now.
        One id is taken: a reader coming back later with an id from before must be told it missed
        what happened meanwhile, which nobody published."""
        if self.closed:
            return
        if not self.watched(agent) and self._kept.pop(agent, None) is not None:
            self.last += 1
            if self.journal is not None:
                self.journal.forgotten(agent, self.last)

    @contextmanager
    def subscribe(self, agent: str, last_event_id: str | None = None) -> Iterator[Subscription]:
        """A new reader of `agent`'s events from now on, for the `with` block (closed at once if the
        publisher is); with `last_event_id`, a reader coming back: the kept events after that one
        first, or `missed` (see the module docstring)."""
        kept = self._kept.setdefault(agent, Kept(self.last, deque(maxlen=self.kept)))
        replay = [] if last_event_id is None else kept_after(kept, self.last, last_event_id)
        subscription = Subscription(self.bound, replay or (), missed=replay is None)
        if self.closed:
            subscription.close()
        self._readers.setdefault(agent, set()).add(subscription)
        try:
            yield subscription
        finally:
            readers = self._readers.get(agent, set())
            readers.discard(subscription)
            if not readers:
                self._readers.pop(agent, None)

    def publish(
        self,
        agent: str,
        kind: str,
        at: datetime,
        data: Mapping[str, Any],
        details: asyncio.Future[Mapping[str, Any]] | None = None,
    ) -> None:
        """Send the event to the agent's readers; with `details`, once they are known (merged into
        `data`; should they fail, `data` alone goes, with `"details": "unavailable"`). Nothing is
        published for an agent nobody follows, nor once closed (the journal's last write was made)."""
        if self.closed or not self.followed(agent):
            return
        self._pending.setdefault(agent, deque()).append(_Pending(kind, at, data, details))
        if details is not None:
            details.add_done_callback(lambda _: self._flush(agent))
        self._flush(agent)

    def close(self) -> None:
        """End every stream; the journal is told (`Journal.closed`), with an id of its own. Nothing
        is published, kept or forgotten any more: events still waiting for their details go."""
        if self.closed:
            return
        self.closed = True
        self._pending.clear()
        self.last += 1
        if self.journal is not None:
            self.journal.closed(self.last)
        for readers in self._readers.values():
            for subscription in readers:
                subscription.close()

    def _flush(self, agent: str) -> None:
        pending = self._pending.get(agent)  # none once closed
        while pending and (pending[0].details is None or pending[0].details.done()):
            event = pending.popleft()
            self.last += 1
            delivered = ScreenEvent(self.last, event.kind, agent, event.at, {**event.data, **_details(event)})
            if (kept := self._kept.get(agent)) is not None:
                self._keep(kept, delivered)
            for subscription in self._readers.get(agent, ()):
                subscription.put(delivered)
        if not pending:
            self._pending.pop(agent, None)

    def _keep(self, kept: Kept, event: ScreenEvent) -> None:
        previous, dropped = kept.events[-1].seq if kept.events else kept.since, None
        if len(kept.events) == kept.events.maxlen:
            dropped = kept.since = kept.events[0].seq  # the deque drops it
        kept.events.append(event)
        if self.journal is not None:
            self.journal.kept(event, previous, dropped)


def kept_after(kept: Kept, last: int, last_event_id: str) -> list[ScreenEvent] | None:
    """The agent's kept events after the one numbered `last_event_id`, in order; None when some of
    the agent's events after it are no longer kept or may have been lost (`Kept.unsure`), or no
    event has that id yet (`last`: the last id given), or it is not an id at all."""
    if not (last_event_id.isascii() and last_event_id.isdigit()):
        return None
    after = int(last_event_id)
    if not kept.since <= after <= last or after <= kept.unsure:
        return None
    return [event for event in kept.events if event.seq > after]


def _details(event: _Pending) -> Mapping[str, Any]:
    if event.details is None:
        return {}
    if event.details.cancelled() or event.details.exception() is not None:
        log.warning("screen pop %s for %s: details unavailable", event.kind, event.data.get("call"))
        return {"details": "unavailable"}
    return event.details.result()


def call_events(before: AgentStatus, after: AgentStatus) -> list[tuple[str, str]]:
    """What an agent's step from `before` to `after` means for its screen: (kind, call) pairs, in
    order (the end of one call before the offer of the next)."""
    events = []
    if before.call is not None and after.call != before.call:
        events.append((ENDED, before.call))
    if after.call is not None and after.call != before.call:
        events.append((OFFERED, after.call))
    if after.state is AgentState.ON_CALL and before.state is not AgentState.ON_CALL:
        assert after.call is not None, "an agent on a call has its call"
        events.append((CONNECTED, after.call))
    return events
