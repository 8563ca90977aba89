"""Leases on singleton jobs (CB-4): one holder at a time runs a named job, until its lease expires.

`take(session, name, holder, now, ttl)` is true when `holder` holds the lease on `name` for `ttl`
from `now`: it was free, expired, or already `holder`'s (then it is renewed). The check and the
write are one conditional statement, so two processes never both win. A holder that dies simply
stops renewing; another takes over once the lease has expired. `release` gives it up at once.

On SQLite this is how several engine processes keep a job to one of them (SQLite has no
`SKIP LOCKED`); on PostgreSQL, row locks do that for queued work and leases serve jobs that
must run in one place only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from campaigns.persistence.models import Base
from campaigns.persistence.upsert import insert_unless_present

LEASES = Base.metadata.tables["job_leases"]


def take(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Whether `holder` now holds `name` until `now + ttl` (see the module docstring)."""
    connection = session.connection()
    renewed = connection.execute(
        update(LEASES)
        .where(LEASES.c.name == name, or_(LEASES.c.holder == holder, LEASES.c.expires_at <= now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if renewed.rowcount:
        return True
    insert = insert_unless_present(connection, LEASES, ["name"]).returning(LEASES.c.name)
    return (
        connection.execute(insert.values(name=name, holder=holder, expires_at=now + ttl)).first() is not None
    )


def release(session: Session, name: str, holder: str) -> None:
    session.connection().execute(
        update(LEASES).where(LEASES.c.name == name, LEASES.c.holder == holder).values(expires_at=_EPOCH)
    )


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
