"""Leads: one phone number of a contact list, with what the importer learnt about it and where it
stands in its life (`LeadState`, CMP-2).

The importer fills the number's facts (IMP-3): its type, its time zones, and its place (`place_id`:
region, city and carrier in Chinese and English, as phonenumbers' data gives them, in
`number_places`, shared by every lead of the place); `sms_opt_out` marks a number that had
opted out of SMS when it was imported (calls are still allowed), and `import_id` the file it came
from (a re-import of that file recognises its own leads by it).

The hopper's query is `list_id IN (...) AND <DIALABLE> AND next_attempt_at <= now ORDER BY
priority DESC, next_attempt_at`: higher `priority` is dialled first. `ix_leads_hopper` is a
partial index on exactly the dialable leads, so it stays small however many leads are done; the
query must spell the condition as `DIALABLE` does for SQLite to use it. A dialable lead must carry
`next_attempt_at` (a CHECK says so), or the hopper would never see it.

`DIALABLE` is `state = 'new' OR state = 'retry'`, not `state IN (...)`: SQLite evaluates an
`IN (...)` list in a partial-index predicate or a CHECK by building a temporary b-tree for every
row it writes, which made each lead insert or state change cost about 5 µs more (migration 0002).

`list_id` has no foreign key (migration 0005): PostgreSQL checks one with a trigger query per
inserted lead, about 30 % of a bulk import's server time. A list's leads still go with it: the
trigger `LIST_LEADS_TRIGGER` on `contact_lists` deletes them, once per deleted list, whoever
deletes it; leads are only written for a list the writer has just read, locked or created.

A number is looked up within lists: `uq_leads_list_id_e164` is the only index on `e164` (a second
one, on the number alone, cost every written lead as much again; migration 0021). A lookup in
every list spells the lists out (`with_number`), one probe of that index per list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Index,
    Integer,
    String,
    and_,
    event,
    false,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import (
    Base,
    BigId,
    CreatedUpdated,
    JSONType,
    UTCDateTime,
    empty_dict,
    empty_list,
    str_enum,
)
from campaigns.persistence.models.campaigns import ContactList
from campaigns.persistence.models.enums import DIALABLE_LEAD_STATES, CallOutcome, LeadState, NumberType

DIALABLE = " OR ".join(f"state = '{state}'" for state in DIALABLE_LEAD_STATES)


class Lead(CreatedUpdated, Base):
    __tablename__ = "leads"
    __table_args__ = (
        Index("uq_leads_list_id_e164", "list_id", "e164", unique=True),  # an index: see migration 0014
        CheckConstraint(f"NOT ({DIALABLE}) OR next_attempt_at IS NOT NULL", name="dialable_has_next_attempt"),
        CheckConstraint("attempt_count >= 0", name="attempt_count_not_negative"),
        Index(
            "ix_leads_hopper",
            "list_id",
            "priority",
            "next_attempt_at",
            sqlite_where=text(DIALABLE),
            postgresql_where=text(DIALABLE),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    list_id: Mapped[int] = mapped_column(Integer)  # contact_lists.id; no foreign key (see the module doc)
    e164: Mapped[str] = mapped_column(String(16))  # no index of its own: see `with_number`
    raw_input: Mapped[str] = mapped_column(String(100))  # the number as the file spelled it
    extension: Mapped[str | None] = mapped_column(String(20))
    source_line: Mapped[int | None] = mapped_column(Integer)  # line in the imported file (IMP-6)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=empty_dict)  # extra columns
    time_zones: Mapped[list[str]] = mapped_column(JSONType, default=empty_list)  # IANA names
    number_type: Mapped[NumberType | None] = mapped_column(str_enum(NumberType, "number_type", length=24))
    state: Mapped[LeadState] = mapped_column(str_enum(LeadState, "state"), default=LeadState.NEW)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_outcome: Mapped[CallOutcome | None] = mapped_column(str_enum(CallOutcome, "last_outcome"))
    # added by migration 0002, hence after the timestamps in the table
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), sort_order=10)
    # no foreign key: a lead and its import both go when their list goes, and on PostgreSQL each
    # foreign key costs a trigger query per inserted row (a third of a bulk import's insert time)
    import_id: Mapped[int | None] = mapped_column(Integer, sort_order=10)
    # number_places.id (migration 0022); no foreign key, for the same reason (see `NumberPlace`)
    place_id: Mapped[int | None] = mapped_column(Integer, sort_order=11)


def with_number(e164: str) -> ColumnElement[bool]:
    """Leads of any list with this number, found through `uq_leads_list_id_e164` (see the module doc)."""
    return and_(Lead.list_id.in_(select(ContactList.id)), Lead.e164 == e164)


# What `ON DELETE CASCADE` on `list_id` did, as migration 0005 creates it (the same statements).
LIST_LEADS_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER tr_contact_lists_delete_leads AFTER DELETE ON contact_lists FOR EACH ROW"
        " BEGIN DELETE FROM leads WHERE list_id = OLD.id; END"
    ],
    "postgresql": [
        "CREATE FUNCTION delete_list_leads() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN DELETE FROM leads WHERE list_id = OLD.id; RETURN OLD; END $$",
        "CREATE TRIGGER tr_contact_lists_delete_leads AFTER DELETE ON contact_lists FOR EACH ROW"
        " EXECUTE FUNCTION delete_list_leads()",
    ],
}
for _dialect, _statements in LIST_LEADS_TRIGGER.items():
    for _statement in _statements:  # after every table exists (`leads` no longer follows `contact_lists`)
        event.listen(Base.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
