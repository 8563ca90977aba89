"""The number lists in the database: DNC and blacklist (CMPL-1), the outbound whitelist (DIAL-8) and
the VIP list (ACD-3), one table told apart by `kind`: add, remove, bulk import, export, look up.

Every change writes an `audit_log` row in the same transaction (who, when, what): one per added,
updated or removed entry, and one per bulk import (with the file, its SHA-256 and the counts;
a five-million-line registry file is one change, not five million). Bulk imports insert in
batches and skip entries already present (the table's unique indexes make that exact), so
importing the same file twice changes nothing the second time. `entries_for()` loads what a
check of one number needs, the exact entries of the number and the prefix entries that start it,
for the pure `Blocklist`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from campaigns.compliance.blocklist import BlockEntry
from campaigns.persistence.db import Database
from campaigns.persistence.models import Base
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope
from campaigns.persistence.upsert import insert_unless_present
from ringcast.errors import UserError

ENTRIES = Base.metadata.tables["blocklist_entries"]
AUDIT = Base.metadata.tables["audit_log"]
CAMPAIGNS = Base.metadata.tables["campaigns"]
BATCH = 10_000


@dataclass(frozen=True)
class Change:
    """Who makes a change, and when (the CLI's `--by`, the clock)."""

    actor: str
    at: datetime


def campaign_id(connection: Connection, name: str | None) -> int | None:
    """The id of campaign `name` (None for None); a `UserError` if there is none."""
    if name is None:
        return None
    found = connection.execute(select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.name == name)).scalar()
    if found is None:
        raise UserError(f"no campaign named {name!r}")
    return int(found)


def add(database: Database, entry: BlockEntry, change: Change) -> str:
    """Add `entry`, or update the reason, source and expiry of the same entry; 'added' or 'updated'."""
    with database.connect() as connection, connection.begin():
        found = connection.execute(select(ENTRIES.c.id).where(*_same(entry))).scalar()
        values = {"reason": entry.reason, "source": entry.source, "expires_at": entry.expires_at}
        if found is None:
            connection.execute(insert(ENTRIES).values(**_row(entry, change)))
            outcome = "added"
        else:
            connection.execute(update(ENTRIES).where(ENTRIES.c.id == found).values(**values))
            outcome = "updated"
        _audit(connection, change, f"{entry.kind.value}.{'add' if found is None else 'update'}", entry)
    return outcome


def remove(database: Database, entry: BlockEntry, change: Change) -> None:
    """Remove the entry with this kind, match, value and scope; a `UserError` if there is none."""
    with database.connect() as connection, connection.begin():
        removed = connection.execute(delete(ENTRIES).where(*_same(entry))).rowcount
        if not removed:
            raise UserError(f"{entry.value} is not on the {entry.kind.value} list ({_scope_text(entry)})")
        _audit(connection, change, f"{entry.kind.value}.remove", entry)


def import_entries(
    database: Database,
    kind: BlockKind,
    entries: Iterable[BlockEntry],
    change: Change,
    *,
    file: str,
    sha256: str,
) -> tuple[int, int]:
    """Add entries of `kind` in bulk, skipping those already present: (added, already there)."""
    added = seen = 0
    with database.connect() as connection, connection.begin():
        for batch in _batches(entries):
            rows = [_row(entry, change) for entry in batch if entry.kind is kind]
            new = _insert_missing(connection, rows)
            added, seen = added + new, seen + len(rows) - new
        connection.execute(
            insert(AUDIT).values(
                at=change.at,
                actor=change.actor[:64],
                action=f"{kind.value}.import",
                entity="blocklist_entry",
                entity_id=file[:64],
                details={"file": file, "sha256": sha256, "added": added, "already_there": seen},
            )
        )
    return added, seen


def export_entries(database: Database, kind: BlockKind) -> Iterator[dict[str, Any]]:
    """Every entry of `kind`, oldest first, as plain values (campaign by name)."""
    query = (
        select(ENTRIES, CAMPAIGNS.c.name.label("campaign"))
        .outerjoin(CAMPAIGNS, CAMPAIGNS.c.id == ENTRIES.c.campaign_id)
        .where(ENTRIES.c.kind == kind.value)
        .order_by(ENTRIES.c.id)
    )
    with database.connect() as connection:
        for partition in connection.execution_options(stream_results=True).execute(query).partitions(BATCH):
            for row in partition:
                yield dict(row._mapping)


def entries_for(connection: Connection, e164: str) -> list[BlockEntry]:
    """The entries a check of `e164` needs: exact ones for it, prefix ones for any start of it."""
    return entries_for_numbers(connection, [e164])[e164]


def entries_for_numbers(connection: Connection, numbers: Iterable[str]) -> dict[str, list[BlockEntry]]:
    """`entries_for` each of `numbers`, in one query (the dialer checks a batch at a time)."""
    wanted = set(numbers)
    starts = {e164[:n] for e164 in wanted for n in range(2, len(e164) + 1)}
    query = select(ENTRIES).where(
        or_(
            (ENTRIES.c.match == BlockMatch.EXACT.value) & ENTRIES.c.value.in_(wanted),
            (ENTRIES.c.match == BlockMatch.PREFIX.value) & ENTRIES.c.value.in_(starts),
        )
    )
    found: dict[str, list[BlockEntry]] = {e164: [] for e164 in wanted}
    for row in connection.execute(query):
        entry = _entry(row._mapping)
        if entry.match is BlockMatch.EXACT:
            found[entry.value].append(entry)
        else:
            for e164 in wanted:
                if e164.startswith(entry.value):
                    found[e164].append(entry)
    return found


def _entry(row: Any) -> BlockEntry:
    return BlockEntry(
        kind=BlockKind(row["kind"]),
        value=row["value"],
        match=BlockMatch(row["match"]),
        scope=BlockScope(row["scope"]),
        campaign_id=row["campaign_id"],
        reason=row["reason"],
        source=row["source"],
        expires_at=row["expires_at"],
    )


def _same(entry: BlockEntry) -> list[Any]:
    conditions = [
        ENTRIES.c.kind == entry.kind.value,
        ENTRIES.c.match == entry.match.value,
        ENTRIES.c.value == entry.value,
        ENTRIES.c.scope == entry.scope.value,
    ]
    if entry.campaign_id is not None:
        conditions.append(ENTRIES.c.campaign_id == entry.campaign_id)
    return conditions


def _row(entry: BlockEntry, change: Change) -> dict[str, Any]:
    return {
        "kind": entry.kind.value,
        "value": entry.value,
        "match": entry.match.value,
        "scope": entry.scope.value,
        "campaign_id": entry.campaign_id,
        "reason": entry.reason,
        "source": entry.source,
        "expires_at": entry.expires_at,
        "added_by": change.actor[:64],
        "added_at": change.at,
    }


def _insert_missing(connection: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert, skipping rows that an existing entry (or an earlier row) already covers; how many went in."""
    if not rows:
        return 0
    statement = insert_unless_present(connection, ENTRIES).returning(ENTRIES.c.id)
    return len(connection.execute(statement, rows).all())


def _batches(entries: Iterable[BlockEntry]) -> Iterator[list[BlockEntry]]:
    batch: list[BlockEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _audit(connection: Connection, change: Change, action: str, entry: BlockEntry) -> None:
    details = {
        "match": entry.match.value,
        "scope": entry.scope.value,
        "campaign_id": entry.campaign_id,
        "reason": entry.reason,
        "source": entry.source,
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
    }
    connection.execute(
        insert(AUDIT).values(
            at=change.at,
            actor=change.actor[:64],
            action=action,
            entity="blocklist_entry",
            entity_id=entry.value,
            details=details,
        )
    )


def _scope_text(entry: BlockEntry) -> str:
    return "global" if entry.scope is BlockScope.GLOBAL else f"campaign {entry.campaign_id}"
