"""What the engine tells agents' screens (AGT-3): every agent step, as events of `ScreenPops`.

`AgentService.step` calls `ScreenFeed.stepped` right after each state change, for calls of either
direction alike (the agent's state machine reserves, bridges and releases both): the call events
of the step (`screen_pop.call_events`), then the agent's new `state`. An `offered` event carries at
once what the engine holds in memory (for an inbound call, `InboundAcd.screen_pop`: caller,
region, queue, priority, flags, and the wait in its queue so far) and, once read in the database
thread, the rest (`screen_facts`: the trail and customer record, or the lead card and campaign,
and the number's history).

An agent is followed (its events published and kept, `ScreenPops`) from its stream's first reader
(`reader`) on, for as long as it is logged in or somebody reads: a desktop whose connection drops
comes back to the events it missed. Once the agent is logged out with nobody reading, it is
forgotten, and nothing is looked up for an agent nobody follows. Readers leaving because the
engine stops forget nobody.

Across restarts (`start`, before the control API serves): the kept events are written to the
database through the engine's database thread, unawaited (`_Journal`, `screen_event_store`); a new
run reads them back once and follows again the agents the last run followed, so that a desktop
coming back after the restart is replayed what it missed, the new run's events included. Its ids
go on above both the largest the database holds and the start's instant in microseconds: a run
that crashed before its last writes were committed had given ids below its crash's instant, and
none of them is given again (unless the clock went back meanwhile). Only a run that stopped
cleanly (its last write the `closed` mark, `screen_event_store.close`) is known to have written
every event it gave (the mark is left out should a write of the journal have failed for good,
as the database thread counts them): after a crash, a desktop coming back with an id from before it is told it
`missed` events (they may be lost), and gets its state now instead of a replay.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from campaigns import screen_event_store
from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import AgentStatus, StateChange
from dialer.live import screen_facts
from dialer.live.dbthread import DatabaseThread
from dialer.live.desk import AgentSession
from dialer.live.screen_pop import (
    ENDED,
    OFFERED,
    STATE,
    Kept,
    ScreenEvent,
    ScreenPops,
    Subscription,
    call_events,
)

if TYPE_CHECKING:
    from campaigns.persistence.db import Database
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)


class ScreenFeed:
    def __init__(self, dialer: LiveDialer) -> None:
        self.dialer = dialer
        self.pops = ScreenPops()
        self._reading: dict[str, asyncio.Future[Mapping[str, Any]]] = {}  # details being read, by call

    async def start(self) -> None:
        """Go on from the events the last run kept, and keep this run's in the database."""
        dialer = self.dialer
        last, followed, clean = await dialer.db.run(
            screen_event_store.take_over, dialer.database, self.pops.kept
        )
        kept = {}
        for agent, found in followed.items():
            events = (ScreenEvent(row.id, row.kind, agent, row.at, row.data) for row in found.events)
            kept[agent] = Kept(found.since, deque(events))
        self.pops.restore(max(last, time.time_ns() // 1000), kept, clean=clean)
        self.pops.journal = _Journal(dialer.db)

    def stepped(self, session: AgentSession, before: AgentStatus, change: StateChange) -> None:
        name, at = session.name, change.at
        if not self.pops.followed(name):
            return
        for kind, call in call_events(before, session.status):
            if kind == OFFERED:
                self.pops.publish(name, kind, at, *self._offered(call, at))
            elif kind == ENDED:
                talked = before.state is AgentState.ON_CALL
                self.pops.publish(name, kind, at, {"call": call, "talked": talked})
            else:
                self.pops.publish(name, kind, at, {"call": call})
        self.pops.publish(name, STATE, at, state_of(session.status))
        if session.status.state is AgentState.LOGGED_OUT:
            self.pops.forget(name)

    @contextmanager
    def reader(self, agent: str, last_event_id: str | None = None) -> Iterator[Subscription]:
        """A reader of the agent's events for the `with` block (`ScreenPops.subscribe`); the agent is
        forgotten when the last reader leaves it logged out (unless the engine is stopping: the
        next run follows it again)."""
        try:
            with self.pops.subscribe(agent, last_event_id) as subscription:
                yield subscription
        finally:
            if self._session(agent) is None and not self.pops.closed:
                self.pops.forget(agent)

    def current(self, agent: str) -> dict[str, Any]:
        """The agent's state now, as a `state` event says it (the first event of a new stream)."""
        session = self._session(agent)
        if session is not None:
            return state_of(session.status)
        return {"state": AgentState.LOGGED_OUT.value, "reason": None, "since": None, "call": None}

    def _session(self, agent: str) -> AgentSession | None:
        """The agent's session, None while it is logged out."""
        return next((session for session in self.dialer.desk if session.name == agent), None)

    def _offered(self, call: str, at: datetime) -> tuple[dict[str, Any], asyncio.Future[Mapping[str, Any]]]:
        dialer = self.dialer
        acd = dialer.inbound
        facts: Callable[[Database, str], Mapping[str, Any]]
        if acd.follows(call):
            waiting = acd.calls[call].waiting
            waited = round((at - waiting.arrived).total_seconds(), 3) if waiting is not None else None
            data = {"call": call, "direction": "inbound", **(acd.screen_pop(call) or {}), "wait_s": waited}
            facts = screen_facts.inbound_facts
        else:
            data = {"call": call, "direction": "outbound"}
            facts = screen_facts.outbound_facts
        return data, self._details(call, facts)

    def _details(
        self, call: str, facts: Callable[[Database, str], Mapping[str, Any]]
    ) -> asyncio.Future[Mapping[str, Any]]:
        """The call's details from the database: one read for every agent offered the call at once
        (ring-all), shared while it is under way."""
        reading = self._reading.get(call)
        if reading is None:
            dialer = self.dialer
            reading = self._reading[call] = asyncio.ensure_future(dialer.db.run(facts, dialer.database, call))
            reading.add_done_callback(lambda _: self._reading.pop(call, None))
        return reading


def state_of(status: AgentStatus) -> dict[str, Any]:
    return {
        "state": status.state.value,
        "reason": status.reason,
        "since": status.since.isoformat(),
        "call": status.call,
    }


class _Journal:
    """The kept events written in the database thread, behind the engine's other writes."""

    def __init__(self, db: DatabaseThread) -> None:
        self.db = db

    def kept(self, event: ScreenEvent, previous: int, dropped: int | None) -> None:
        self.db.submit(
            screen_event_store.keep,
            event.seq,
            event.agent,
            previous,
            event.kind,
            event.at,
            event.data,
            dropped,
        )

    def forgotten(self, agent: str, seq: int) -> None:
        self.db.submit(screen_event_store.forget, agent, seq, datetime.now(UTC))

    def closed(self, seq: int) -> None:
        """The clean stop's mark, written behind every other write of the journal, and only if
        none of them was lost: else the next run takes this stop for a crash, unsure of what was
        given."""
        lost = self.db.lost
        at = datetime.now(UTC)

        def close(session: Session) -> None:
            if lost[screen_event_store.keep] or lost[screen_event_store.forget]:
                log.warning("screen events were lost: this stop is left unmarked, as a crash")
                return
            screen_event_store.close(session, seq, at)

        self.db.submit(close)
