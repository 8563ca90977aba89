"""The import's database adapters: lookups for a chunk of numbers, bulk writes of new leads.

`ImportWriter` works on the import's one write transaction, so an import is applied whole or not
at all: it locks or creates the list and the import record, inserts the leads, and records the
outcome with its audit entry. Writes bypass the ORM, with rows `imports.lead_rows` formats:
PostgreSQL gets them as binary `COPY ... FROM STDIN` data, SQLite as one `executemany` per chunk
with the columns every lead of the import shares written as literals. SQLite rebuilds a
temporary b-tree for every `IN (...)` CHECK constraint of every inserted row (the enum columns
have three), which doubles the cost of an insert; the importer writes only values it took from
those enums, so the per-row CHECKs are switched off while it inserts and the same constraints
are evaluated by one query over each chunk's new rows (by rowid, still in the page cache), in
the insert's thread, right after the insert; a broken one fails the import. A large import into
a SQLite database holding fewer leads than it brings (`defer_indexes`) also drops the leads
table's number index (the unique `uq_leads_list_id_e164`: see migration 0014) and builds it
again, sorted, before the commit: a third of the cost of keeping it up to date row by row in
random order. The hopper's index stays: every lead of an import has the same key in it (list,
priority, next attempt), so each insert appends to it in rowid order, which costs less than
building it again at the end, after the last chunk, where nothing runs beside it. With the
number index deferred, the page cache shrinks from 256 to 32 MiB: appended pages then go to the
WAL as the inserts run, beside the next chunk's work, instead of all at the commit (8 to 11 %
less time for a million rows in interleaved runs). PostgreSQL keeps its indexes: dropping one
locks the table against the live dialer's reads until the import commits.

Each chunk's insert runs in a thread of its own (`ImportWriter.bulk`) while the importing
process looks up and decides the next chunk: both drivers let go of the GIL while the database
works. The thread first finds or adds the places (`number_places`) that the chunk is the first
to use (`campaigns.place_store`), then formats and writes the leads. On PostgreSQL it adds them
on a connection of their own and commits them at once: added in the import's transaction, a
place would make any other import adding it wait (on its unique key) until this one commits. A
place left behind by an import that failed is still a true place, shared by whoever needs it
next. (SQLite's writers take turns anyway: an import holds the write lock from start to commit.)
One insert at a time, and nothing else uses the write connection meanwhile: the next insert and
`finish` wait for it first, and so does leaving `bulk`, whatever happened.

`ImportLookups` reads what is already committed, on a connection of its own: prefix blocklist
entries once, then for each chunk exactly its numbers (`json_each(?)` on SQLite, a LATERAL
probe per number on PostgreSQL: see `_per_number`), so a 5-million-entry DNC list costs an index
probe per number, never a full load; numbers given in order walk the index in order, which makes
the probes a third cheaper. On SQLite a chunk's probes touch more index pages than the
connection's page cache holds, and the next chunk reads them again (387,000 `pread`s for the
benchmark's million rows); a memory map (`mmap_size`) spares those reads, a third of the
importing process's system time, but page faults map the file whole into the process: its peak
memory went from 0.46 to 1.18 GB, bounded only by the map's size. So the reads stay. Leads of
this import are not committed yet and not needed: the file's own duplicates are found in memory
(`SeenNumbers`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Connection,
    Index,
    Select,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect

from campaigns.compliance.blocklist import BlockEntry, Blocklist
from campaigns.persistence.models import Base
from campaigns.persistence.models.base import UTCDateTime
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope
from campaigns.place_store import place_ids, texts_of
from imports.decisions import Candidate, Context, ExistingLead, Lookups
from imports.lead_rows import NUMBER_COLUMNS, SHARED_COLUMNS, SQLITE_VALUES, LeadFormatter, shared_values
from imports.number_facts import Place
from ringcast.errors import UserError

SQLITE_IMPORT_CACHE_KIB = -262_144  # 256 MiB: the leads indexes an import updates stay in memory
SQLITE_APPEND_CACHE_KIB = -32_768  # 32 MiB once the number index is deferred: see `defer_indexes`
DEFER_INDEXES_FROM_ROWS = 100_000  # smaller imports update the indexes as they go
TABLES = Base.metadata.tables


class ImportWriter:
    """The writes of one import, on `connection` (its transaction must be open); new places on
    `places` if given, each chunk's committed at once (see the module doc)."""

    def __init__(self, connection: Connection, places: Connection | None = None) -> None:
        self._connection = connection
        self._places = places
        self._sqlite = connection.dialect.name == "sqlite"
        self._rows: LeadFormatter | None = None  # made for the import's context on the first insert
        self._dropped: list[Index] = []  # secondary indexes of `leads` to build again in `finish`
        self._writer: ThreadPoolExecutor | None = None  # runs each chunk's insert (see `bulk`)
        self._writing: Future[None] | None = None  # the insert under way, if any

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """The writes of an import: `insert` may only be called inside. Each chunk's insert runs
        in a thread of its own, waited for before the next and on leaving (see the module doc);
        on SQLite, with a large page cache for the import's connection, restored afterwards."""
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-write")
        try:
            if self._sqlite:
                self._connection.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_IMPORT_CACHE_KIB}")
            try:
                yield
            finally:
                try:
                    self._written()
                finally:
                    if self._sqlite:
                        self._connection.exec_driver_sql("PRAGMA cache_size = -2000")
        finally:
            self._writer.shutdown()
            self._writer = None

    def prepare(
        self,
        *,
        list_name: str,
        campaign: str | None,
        file_name: str,
        sha256: str,
        attributes: list[str],
        actor: str,
        now: datetime,
    ) -> Context:
        """Lock (or create) the list and its import record; attach the list to `campaign` if given."""
        lists, links = TABLES["contact_lists"], TABLES["campaign_lists"]
        campaign_id = self._campaign_id(campaign) if campaign is not None else None
        list_id = self._scalar(self._locked(select(lists.c.id).where(lists.c.name == list_name)))
        if list_id is None:
            list_id = self._scalar(
                insert(lists)
                .values(name=list_name, source_file=file_name[:500], created_at=now)
                .returning(lists.c.id)
            )
        linked = select(links.c.campaign_id).where(links.c.list_id == list_id)
        if campaign_id is not None and campaign_id not in self._connection.execute(linked).scalars().all():
            self._connection.execute(insert(links).values(campaign_id=campaign_id, list_id=list_id))
        import_id = self._import_record(list_id, campaign_id, file_name, sha256, attributes, actor, now)
        campaigns = frozenset(self._connection.execute(linked).scalars().all())
        siblings = select(links.c.list_id).where(links.c.campaign_id.in_(linked.scalar_subquery()))
        names = self._connection.execute(
            select(lists.c.id, lists.c.name).where(or_(lists.c.id == list_id, lists.c.id.in_(siblings)))
        )
        return Context(list_id, import_id, campaigns, {row[0]: row[1] for row in names}, now)

    def defer_indexes(self, expected_rows: int) -> None:
        """SQLite: drop the number index of `leads` (`finish` builds it again) when about
        `expected_rows` rows are coming and the table holds no more leads than that, so that
        building it afresh costs less than updating it row by row (see the module doc)."""
        if not self._sqlite or self._dropped or expected_rows < DEFER_INDEXES_FROM_ROWS:
            return
        leads = TABLES["leads"]
        stored = self._scalar(select(func.max(leads.c.id))) or 0  # an upper bound, read off the b-tree
        if stored > expected_rows:
            return
        appended = {"ix_leads_hopper"}  # inserts append to it: kept (see the module doc)
        self._dropped = sorted(
            (index for index in leads.indexes if index.name not in appended),
            key=lambda index: str(index.name),
        )
        for index in self._dropped:
            index.drop(self._connection)
        # Inserts now only append (to the table and the hopper's index): a large cache would merely
        # hold their pages back until the commit, where their writing runs alone.
        self._connection.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_APPEND_CACHE_KIB}")

    def insert(
        self, leads: Sequence[Candidate], opted_out: frozenset[str], places: Sequence[Place], context: Context
    ) -> None:
        """Write new leads in bulk, flagging those whose number opted out of SMS; `places` holds
        every place the leads use (by the import's numbering)."""
        if not leads:
            return
        assert self._writer is not None, "insert outside bulk()"
        self._written()
        if self._rows is None:
            self._rows = LeadFormatter(context, sqlite=self._sqlite)
        columns = f"{', '.join(NUMBER_COLUMNS)}, {', '.join(SHARED_COLUMNS)}"
        if self._sqlite:
            shared = ", ".join(map(_sqlite_literal, shared_values(context, sqlite=True)))
            statement = f"INSERT INTO leads ({columns}) VALUES ({SQLITE_VALUES}, {shared})"
        else:
            statement = f"COPY leads ({columns}) FROM STDIN (FORMAT binary)"
        new_places = {place: places[place] for place in self._rows.unknown(leads)}
        self._writing = self._writer.submit(self._write, self._rows, leads, opted_out, new_places, statement)

    def _write(
        self,
        rows: LeadFormatter,
        leads: Sequence[Candidate],
        opted_out: frozenset[str],
        new_places: dict[int, Place],
        statement: str,
    ) -> None:
        """One chunk's writes, in the insert's thread: its new places, then its leads."""
        if new_places:
            texts = {place: texts_of(facts) for place, facts in new_places.items()}
            ids = place_ids(self._places or self._connection, set(texts.values()))
            if self._places is not None:
                self._places.commit()
            for place, facts in new_places.items():
                rows.know(place, facts, ids[texts[place]])
        driver = self._connection.connection.driver_connection
        if self._sqlite:
            _sqlite_insert(driver, statement, rows.rows(leads, opted_out), _broken(self._connection.dialect))
        else:
            _copy(driver, statement, rows.rows(leads, opted_out))

    def _written(self) -> None:
        """Wait for the insert under way (raising what it raised): the connection is free again."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def finish(
        self, context: Context, *, total: int, accepted: int, rejected: dict[str, int], actor: str
    ) -> None:
        """Build the deferred indexes, record the counts and the audit entry."""
        self._written()
        for index in self._dropped:
            index.create(self._connection)
        self._dropped = []
        imports, lists = TABLES["list_imports"], TABLES["contact_lists"]
        self._connection.execute(
            update(imports)
            .where(imports.c.id == context.import_id)
            .values(finished_at=context.now, total_rows=total, accepted=accepted, rejected=rejected)
        )
        self._connection.execute(
            update(lists).where(lists.c.id == context.list_id).values(imported_at=context.now)
        )
        self._connection.execute(
            insert(TABLES["audit_log"]).values(
                at=context.now,
                actor=actor[:64],
                action="list.import",
                entity="contact_list",
                entity_id=context.list_names[context.list_id][:64],
                details={
                    "import_id": context.import_id,
                    "total_rows": total,
                    "accepted": accepted,
                    "rejected": rejected,
                },
            )
        )

    def _locked(self, query: Select[Any]) -> Select[Any]:
        """FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers."""
        return query if self._sqlite else query.with_for_update()

    def _campaign_id(self, campaign: str) -> int:
        campaigns = TABLES["campaigns"]
        found = self._scalar(self._locked(select(campaigns.c.id).where(campaigns.c.name == campaign)))
        if found is None:
            raise UserError(
                f"no campaign named {campaign!r}", hint="create it first, or leave out --campaign"
            )
        return int(found)

    def _import_record(
        self,
        list_id: int,
        campaign_id: int | None,
        file_name: str,
        sha256: str,
        attributes: list[str],
        actor: str,
        now: datetime,
    ) -> int:
        imports = TABLES["list_imports"]
        found = self._scalar(
            self._locked(select(imports.c.id).where(imports.c.list_id == list_id, imports.c.sha256 == sha256))
        )
        values: dict[str, Any] = {
            "actor": actor[:64],
            "started_at": now,
            "finished_at": None,
            "attributes": attributes,
        }
        if campaign_id is not None:
            values["campaign_id"] = campaign_id
        if found is not None:
            self._connection.execute(update(imports).where(imports.c.id == found).values(**values))
            return int(found)
        statement = insert(imports).values(
            list_id=list_id, file_name=file_name[:500], sha256=sha256, rejected={}, **values
        )
        return int(self._scalar(statement.returning(imports.c.id)))

    def _scalar(self, statement: Any) -> Any:
        return self._connection.execute(statement).scalar()


class ImportLookups:
    """What is committed about a chunk's numbers, read on a connection of its own."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._sqlite = connection.dialect.name == "sqlite"
        if not self._sqlite:  # the probes' estimated cost calls for JIT, which only adds its compile time
            connection.exec_driver_sql("SET jit = off")
            connection.commit()

    def has_leads(self, context: Context) -> bool:
        """Whether any list searched for duplicates holds a lead yet (else those lookups are skipped)."""
        leads = TABLES["leads"]
        query = select(leads.c.id).where(leads.c.list_id.in_(list(context.list_names))).limit(1)
        return self._connection.execute(query).first() is not None

    def has_opt_outs(self) -> bool:
        """Whether any number has opted out of SMS (else that lookup is skipped)."""
        return self._connection.execute(select(TABLES["sms_opt_outs"].c.id).limit(1)).first() is not None

    def prefix_blocklist(self) -> Blocklist:
        """Every prefix entry (few): the base the exact entries of each chunk are added to."""
        query = text(f"SELECT {_ENTRY_COLUMNS} FROM blocklist_entries AS t WHERE t.match = 'prefix'")
        return Blocklist(_entries(self._connection.execute(query.columns(expires_at=UTCDateTime()))))

    def lookups(
        self, numbers: list[str], context: Context, base: Blocklist, *, leads: bool, opt_outs: bool
    ) -> Lookups:
        """What the database holds about these (distinct, sorted) numbers; `leads` and `opt_outs` say
        whether those tables can hold anything (see `has_leads` and `has_opt_outs`)."""
        params = {"numbers": json.dumps(numbers) if self._sqlite else ",".join(numbers)}
        exact_entries = self._per_number("blocklist_entries", "value", "t.match = 'exact'")
        query = text(f"SELECT {_ENTRY_COLUMNS} FROM {exact_entries}").columns(expires_at=UTCDateTime())
        exact = list(_entries(self._connection.execute(query, params)))
        opted_out: frozenset[str] = frozenset()
        if opt_outs:
            numbers_out = text(f"SELECT t.e164 FROM {self._per_number('sms_opt_outs', 'e164')}")
            opted_out = frozenset(self._connection.execute(numbers_out, params).scalars())
        existing: dict[str, ExistingLead] = {}
        if leads:
            in_lists = self._per_number("leads", "e164", f"t.list_id IN ({_ids(context.list_names)})")
            rows = self._connection.execute(
                text(f"SELECT t.e164, t.list_id, t.source_line, t.import_id FROM {in_lists}"), params
            )
            for e164, list_id, line, import_id in rows:
                if e164 not in existing or list_id == context.list_id:
                    existing[e164] = ExistingLead(list_id, line, import_id)
        blocklist = base.with_exact(exact)
        return Lookups(blocklist, blocklist.listed(numbers), existing, opted_out)

    def done(self) -> None:
        """End the read transaction, so that the next chunk reads afresh (and PostgreSQL holds nothing)."""
        self._connection.rollback()

    def _per_number(self, table: str, column: str, condition: str = "TRUE") -> str:
        """A FROM clause: each of the chunk's numbers joined to the rows `t` of `table` holding it.

        One index probe per number on both databases: SQLite's planner puts `json_each` outside
        by itself; PostgreSQL's would rather scan a large table than probe it for an array of
        20,000 numbers (`= ANY(...)`, or a join it may flatten into a hash join over the whole
        table: 6 times slower against a million DNC entries), so the probe is spelled as a LATERAL
        subquery with `OFFSET 0`, which the planner cannot flatten. The numbers go to PostgreSQL
        as one comma-separated text, split there: psycopg converts a list parameter value by
        value, in Python (a microsecond a number).
        """
        if self._sqlite:
            return f"json_each(:numbers) AS n JOIN {table} AS t ON t.{column} = n.value AND {condition}"
        return (
            "unnest(string_to_array(:numbers, ',')) AS n(value) CROSS JOIN LATERAL"
            f" (SELECT * FROM {table} AS t WHERE t.{column} = n.value AND {condition} OFFSET 0) AS t"
        )


def _copy(driver: Any, statement: str, rows: Any) -> None:
    """One chunk's COPY (PostgreSQL). Both drivers let go of the GIL while the database works,
    so the importing process goes on with the next chunk's lookups and decisions meanwhile."""
    with driver.cursor().copy(statement) as copy:
        copy.write(rows)


@cache
def _broken(dialect: Dialect) -> str:
    """SQLite: the query counting the leads after rowid `?` that break a CHECK of `leads`
    (each CHECK in brackets: one may be an `OR`)."""
    literal = {"literal_binds": True}
    checks = [
        f"({constraint.sqltext.compile(dialect=dialect, compile_kwargs=literal)})"
        for constraint in TABLES["leads"].constraints
        if isinstance(constraint, CheckConstraint)
    ]
    return f"SELECT count(*) FROM leads WHERE id > ? AND NOT ({' AND '.join(checks)})"


def _sqlite_insert(driver: Any, statement: str, rows: Any, broken: str) -> None:
    """One chunk's INSERT (SQLite), its per-row CHECKs off, then its rows checked with the
    query `broken` (see the module doc)."""
    (after,) = driver.execute("SELECT coalesce(max(id), 0) FROM leads").fetchone()
    driver.execute("PRAGMA ignore_check_constraints = ON")
    try:
        driver.executemany(statement, rows)
    finally:
        driver.execute("PRAGMA ignore_check_constraints = OFF")
    (count,) = driver.execute(broken, (after,)).fetchone()
    if count:
        raise RuntimeError(f"{count} imported leads break the leads table's CHECK constraints")


_ENTRY_COLUMNS = "t.kind, t.value, t.match, t.scope, t.campaign_id, t.reason, t.source, t.expires_at"


def _entries(rows: Iterable[Any]) -> Iterator[BlockEntry]:
    for kind, value, match, scope, campaign, reason, source, expires in rows:
        yield BlockEntry(
            BlockKind(kind), value, BlockMatch(match), BlockScope(scope), campaign, reason, source, expires
        )


def _sqlite_literal(value: Any) -> str:
    """A SQL literal for the shared columns (ints and strings ringcast made, never user input)."""
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


def _ids(ids: Any) -> str:
    """Integer ids inlined into SQL (they come from the database, never from the user)."""
    return ", ".join(str(int(i)) for i in ids)
