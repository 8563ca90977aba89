"""Screen-pop events across engine restarts (AGT-3), on SQLite and PostgreSQL: the kept events
written through the database thread and pruned, a forgotten agent, ids going on above the last
one given (and above a crashed run's, never written), and a desktop coming back to a restarted
engine over the control API (two runs of a stand-in engine on one database: an agent desk, the
feed, the real database thread)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import select

from campaigns import screen_event_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import ScreenEventRow
from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import AgentStatus, AgentStep, Wrap
from dialer.live.dbthread import DatabaseThread
from dialer.live.desk import AgentDesk, AgentSession
from dialer.live.screen_feed import ScreenFeed
from dialer.live.screen_pop import STATE, ScreenPops
from dialer.live.service import LiveDialer
from web.api import create_app

pytestmark = pytest.mark.db

TOKEN = "s3cret-token"
AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def _run(database: Database, kept: int | None = None) -> SimpleNamespace:
    """One engine run: its database thread and a started feed (the last run's events read back)."""
    inbound = SimpleNamespace(follows=lambda uniqueid: False)
    db = DatabaseThread(database)
    dialer = SimpleNamespace(desk=AgentDesk(), inbound=inbound, db=db, database=database)
    dialer.screen = ScreenFeed(cast(LiveDialer, dialer))
    if kept is not None:
        dialer.screen.pops = ScreenPops(kept=kept)
    await dialer.screen.start()
    return dialer


def _logged_in(dialer: SimpleNamespace) -> AgentSession:
    session = AgentSession(7, "bot1", 1, AgentStatus(7, AgentState.READY, AT), Wrap())
    dialer.desk.sessions[7] = session
    return session


def _step(dialer: SimpleNamespace, session: AgentSession, step: AgentStep) -> None:
    before = session.status
    change = dialer.desk.apply(session, step)
    assert change is not None
    dialer.screen.stepped(session, before, change)


def _stop(dialer: SimpleNamespace) -> None:
    dialer.screen.pops.close()
    dialer.db.close()  # every queued write is written


def _rows(database: Database) -> list[tuple[int, str, int, str]]:
    with database.session() as session:
        query = select(ScreenEventRow).order_by(ScreenEventRow.id)
        return [(row.id, row.agent, row.previous_id, row.kind) for row in session.scalars(query)]


async def test_kept_events_are_written_and_pruned_and_a_forgotten_agent_leaves_only_its_mark(
    database: Database,
) -> None:
    dialer = await _run(database, kept=2)
    pops: ScreenPops = dialer.screen.pops
    base = pops.last
    with pops.subscribe("bot1"), pops.subscribe("bot2"):
        for n in range(3):
            pops.publish("bot1", STATE, AT, {"n": n})
        pops.publish("bot2", STATE, AT, {"n": "b"})
    pops.forget("bot2")
    _stop(dialer)
    assert _rows(database) == [
        (base + 2, "bot1", base + 1, STATE),
        (base + 3, "bot1", base + 2, STATE),
        (base + 5, "bot2", base + 5, "forgotten"),
        (base + 6, "", base + 6, "closed"),
    ], "bot1's first dropped (2 kept); bot2's event gone with it; the clean stop's mark last"
    last, followed, clean = screen_event_store.take_over(database, 200)
    assert last == base + 6 and clean
    assert [row[1] for row in _rows(database)] == ["bot1", "bot1", "bot2"], "the mark is taken away"
    assert list(followed) == ["bot1"] and followed["bot1"].since == base + 1
    assert [(row.id - base, row.data) for row in followed["bot1"].events] == [(2, {"n": 1}), (3, {"n": 2})]


async def test_a_new_run_goes_on_after_the_last_id_though_every_agent_was_forgotten(
    database: Database,
) -> None:
    dialer = await _run(database)
    pops: ScreenPops = dialer.screen.pops
    with pops.subscribe("bot1"):
        pops.publish("bot1", STATE, AT, {"n": 1})
    pops.forget("bot1")
    forgotten = pops.last
    _stop(dialer)
    again = await _run(database)
    assert not again.screen.pops.followed("bot1"), "forgotten in the last run"
    assert again.screen.pops.last >= forgotten
    with again.screen.pops.subscribe("bot1", last_event_id=str(forgotten - 1)) as back:
        assert back.missed, "what nobody followed is lost"
        again.screen.pops.publish("bot1", STATE, AT, {"n": 2})
    new = again.screen.pops.last
    _stop(again)
    assert [row[:2] for row in _rows(database)] == [(forgotten, "bot1"), (new, "bot1"), (new + 1, "")]
    assert new > forgotten, "no id is given twice"
    _, followed, _ = screen_event_store.take_over(database, 200)
    assert followed["bot1"].since >= forgotten and [row.id for row in followed["bot1"].events] == [new]


async def test_ids_go_on_above_those_a_crashed_run_gave_without_writing_them(database: Database) -> None:
    crashed = await _run(database)
    pops: ScreenPops = crashed.screen.pops
    with pops.subscribe("bot1"):
        pops.publish("bot1", STATE, AT, {"n": 1})
        crashed.db.close()  # its last writes never reach the database
        pops.publish("bot1", STATE, AT, {"n": 2})
    lost = pops.last
    again = await _run(database)
    assert again.screen.pops.last > lost, "not given again"
    with again.screen.pops.subscribe("bot1", last_event_id=str(lost)) as back:
        assert back.missed, "what followed the lost event is not known"
    with again.screen.pops.subscribe("bot1", last_event_id=str(lost - 1)) as before:
        assert before.missed, "the last event written: but the one after it was lost"
    again.db.close()


async def test_a_run_crashing_after_a_clean_restart_is_not_taken_for_a_clean_stop(database: Database) -> None:
    first = await _run(database)
    with first.screen.pops.subscribe("bot1"):
        first.screen.pops.publish("bot1", STATE, AT, {"n": 1})
    _stop(first)  # clean: its mark is written last
    second = await _run(database)  # takes the mark away
    pops: ScreenPops = second.screen.pops
    with pops.subscribe("bot1"):
        second.db.close()  # then a crash before anything of this run is written
        pops.publish("bot1", STATE, AT, {"n": 2})
    lost = pops.last
    third = await _run(database)
    with third.screen.pops.subscribe("bot1", last_event_id=str(lost)) as back:
        assert back.missed, "event 2 was given and lost: the first run's mark no longer vouches"
    third.db.close()


async def test_a_clean_stop_after_a_lost_event_is_not_taken_for_a_clean_stop(database: Database) -> None:
    first = await _run(database)
    pops: ScreenPops = first.screen.pops
    with pops.subscribe("bot1"):
        pops.publish("bot1", STATE, AT, {"n": 1})
        pops.publish("bot1", STATE, AT, {"n": object()})  # its write fails for good: not JSON
        pops.publish("bot1", STATE, AT, {"n": 3})
    lost = pops.last - 1
    _stop(first)
    assert first.db.lost[screen_event_store.keep] == 1
    assert [row[3] for row in _rows(database)] == [STATE, STATE], "no closed mark"
    again = await _run(database)
    with again.screen.pops.subscribe("bot1", last_event_id=str(lost - 1)) as back:
        assert back.missed, "event 2 was given and lost"
    again.db.close()


async def test_a_desktop_coming_back_to_a_restarted_engine_gets_what_it_missed_from_both_runs(
    database: Database,
) -> None:
    first = await _run(database)
    session = _logged_in(first)
    with first.screen.reader("bot1") as stream:
        _step(first, session, session.status.pause(AT, "break"))
        had = await asyncio.wait_for(stream.next(), 1)
        assert had is not None  # the desktop's last event
        _step(first, session, session.status.ready(AT))
        _step(first, session, session.status.logout(AT))  # the engine stops: its agents log out
        first.desk.sessions.clear()
        _stop(first)  # the stream ends with the engine: nobody is forgotten for it
    second = await _run(database)
    assert second.screen.pops.followed("bot1")
    session = _logged_in(second)
    _step(second, session, session.status.pause(AT, "lunch"))  # before the desktop is back
    events = await _stream(
        second, str(had.seq), after=lambda: _step(second, session, session.status.ready(AT))
    )
    assert [(event["state"], event["reason"]) for event in events] == [
        ("ready", None),
        ("logged_out", None),
        ("not_ready", "lunch"),
        ("ready", None),
    ], "the last run's events after the desktop's, then the new run's"
    ids = [int(event["id"]) for event in events]
    assert ids == sorted(ids) and ids[0] > had.seq
    second.db.close()


async def _stream(dialer: SimpleNamespace, last_event_id: str, after: Any) -> list[dict[str, Any]]:
    """The events a client coming back with `last_event_id` is sent over the API; `after` is done
    once it reads, then the engine stops."""
    app = create_app(cast(LiveDialer, dialer), TOKEN)
    pops: ScreenPops = dialer.screen.pops
    headers = {"Authorization": f"Bearer {TOKEN}", "Last-Event-ID": last_event_id}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as client:
        streaming = asyncio.create_task(client.get("/agents/bot1/events", headers=headers))
        while not pops.watched("bot1"):
            await asyncio.sleep(0.001)
        after()
        pops.close()  # the stream still sends what it has, then ends
        response = await asyncio.wait_for(streaming, 5)
    events = []
    for text in response.text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in text.splitlines())
        events.append({"id": fields.get("id"), **json.loads(fields["data"])})
    return events
