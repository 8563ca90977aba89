"""Leases on singleton jobs (CB-4) on SQLite and PostgreSQL: one holder at a time, until it expires."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import select

from campaigns.persistence import leases
from campaigns.persistence.db import Database
from campaigns.persistence.models import JobLease
from tests.db.sms_rows import NOW

TTL = timedelta(seconds=60)
JOB = "sms-sender"


def take(database: Database, holder: str, at: datetime, name: str = JOB, ttl: timedelta = TTL) -> bool:
    return database.in_transaction(leases.take, name, holder, at, ttl)


def release(database: Database, holder: str, name: str = JOB) -> None:
    database.in_transaction(leases.release, name, holder)


def stored(database: Database) -> list[tuple[str, str, datetime]]:
    with database.session() as session:
        return [(row.name, row.holder, row.expires_at) for row in session.scalars(select(JobLease))]


def test_a_free_or_expired_lease_is_taken(database: Database) -> None:
    assert take(database, "a", NOW) is True
    assert take(database, "b", NOW + TTL) is True
    assert stored(database) == [(JOB, "b", NOW + 2 * TTL)]


def test_the_first_holder_wins_and_the_second_is_refused_while_it_lasts(database: Database) -> None:
    assert take(database, "a", NOW) is True
    assert stored(database) == [(JOB, "a", NOW + TTL)]
    assert take(database, "b", NOW + timedelta(seconds=1)) is False
    assert take(database, "b", NOW + TTL - timedelta(microseconds=1)) is False
    assert stored(database) == [(JOB, "a", NOW + TTL)]


def test_the_same_holder_renews(database: Database) -> None:
    assert take(database, "a", NOW) is True
    assert take(database, "a", NOW + timedelta(seconds=30)) is True
    assert stored(database) == [(JOB, "a", NOW + timedelta(seconds=30) + TTL)]
    assert take(database, "b", NOW + TTL) is False  # would have expired without the renewal
    assert take(database, "a", NOW + timedelta(hours=1)) is True  # even after it expired: nobody took it
    assert stored(database) == [(JOB, "a", NOW + timedelta(hours=1) + TTL)]


def test_after_expiry_another_holder_takes_it(database: Database) -> None:
    assert take(database, "a", NOW) is True
    assert take(database, "b", NOW + TTL) is True  # expires_at <= now: expired
    assert stored(database) == [(JOB, "b", NOW + 2 * TTL)]
    assert take(database, "a", NOW + TTL + timedelta(seconds=1)) is False  # the old holder lost it


def test_release_frees_it_at_once_and_only_by_its_holder(database: Database) -> None:
    assert take(database, "a", NOW) is True
    release(database, "b")  # not b's to release
    assert take(database, "b", NOW + timedelta(seconds=1)) is False
    release(database, "a")
    assert take(database, "b", NOW + timedelta(seconds=1)) is True
    assert stored(database) == [(JOB, "b", NOW + timedelta(seconds=1) + TTL)]
    release(database, "a")  # a no longer holds it: nothing happens
    assert take(database, "a", NOW + timedelta(seconds=2)) is False


def test_leases_of_different_jobs_are_independent(database: Database) -> None:
    assert take(database, "a", NOW, name="sms-sender") is True
    assert take(database, "b", NOW, name="timers") is True
    assert take(database, "b", NOW, name="sms-sender") is False
    assert sorted(stored(database)) == [("sms-sender", "a", NOW + TTL), ("timers", "b", NOW + TTL)]


def test_two_holders_taking_a_free_lease_at_once_get_one_win(database: Database) -> None:
    for round_, at in enumerate((NOW, NOW + 2 * TTL)):  # a lease never taken, then an expired one
        start = threading.Barrier(2, timeout=20)

        def claim(holder: str, at: datetime = at, start: threading.Barrier = start) -> bool:
            start.wait()  # outside the transaction: on SQLite the first BEGIN IMMEDIATE holds the other
            return take(database, holder, at)

        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(claim, f"h{round_}-{n}") for n in (1, 2)]
            wins = [future.result(timeout=30) for future in futures]
        assert sorted(wins) == [False, True]
        [(_, holder, expires_at)] = stored(database)
        assert (holder, expires_at) == (f"h{round_}-{wins.index(True) + 1}", at + TTL)
