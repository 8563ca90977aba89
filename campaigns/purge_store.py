"""The database side of retention purges (CMPL-6): anonymise the personal data of finished leads past
their campaign's retention, batch by batch, audited (`ringcast purge`, `cli/purge.py`).

The rules (which leads are due, the cutoffs, the presets' minimums, the token that replaces a
number) are `campaigns.retention`'s; here they meet the tables.

What a purge does to each due lead, table by table:
- `leads`: `e164` becomes the lead's token; `raw_input` (""), `extension`, `attributes` ({}) are
  cleared, and the place loses its city and carrier (the lead's `place_id` becomes that of its
  region alone). Kept: `state`, counts and times (the list's figures), the region (a province),
  `time_zones` (the compliance report places each call in the callee's hours by them),
  `number_type`, `import_id` and `source_line` (a line number).
- `attempts`: `e164` becomes the token; the rest is the call record and stays.
- `sms_messages` of the lead: `to_e164` becomes the token; `body` (""), `params` ({}) and
  `last_error` (it may quote the number) are cleared; state, times and provider ids stay.
- `callbacks`: `note` is cleared.
- `audit_log`: the `dial.refused` rows about the lead carry its number in `details.e164`; it
  becomes the token, the rest of the row (who, when, why) stays. It is the one change a purge
  makes to existing audit rows: leaving the number there would keep what the retention removes.
- recordings: ringcast records nothing yet (QA-1); when it does, `_anonymise` deletes the lead's
  recordings with its attempts' numbers. Until then a purge counts 0 of them.
Not touched: survey responses and answers (keys and their meanings: nothing personal). Nor the
DNC, blacklist and whitelist entries, SMS opt-outs and consents, and SMS replies: they belong to a
number, not to a campaign's lead, and must outlive any lead. A DNC entry or an opt-out is the
person's own request; deleted with the lead, the same number imported into a new list would be
called or texted again, the opposite of what was asked (and `cn` asks for consent proof, which
a reply or a consent row is). A lead that was blocked keeps its `dnc_blocked` state, token
instead of number; the entry that blocked it goes on blocking the number.

How it runs: for each campaign in scope with a retention, the lists it purges
(`lists_to_purge`) are read by lead id in batches of `BATCH_SIZE` candidates (finished, not yet
anonymised, inactive since before the list's cutoff); the due ones (`is_due`: every campaign
concerned agrees, no open business) are anonymised in the batch's own transaction, the
candidates locked on PostgreSQL so that nothing changes under it. Anonymised leads are no longer
candidates, so a run that stopped half-way leaves the rest due, and running again continues; a
run with nothing due changes no lead (its audit rows say it found none). Before its first batch,
each campaign's `retention.purge` audit row (actor, preset, retention, cutoff, and what was found
due) is committed: nothing is anonymised that the trail does not announce. `--dry-run` counts
the same batches and writes nothing. A lead is counted (and audited) under the first campaign, by
id, that attaches its list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from campaigns import campaign_store
from campaigns.agent_store import audit, named
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, AuditEntry, Base, Callback, Campaign, Lead, SmsMessage
from campaigns.persistence.models.enums import CallbackState, SmsState
from campaigns.place_store import regions_only
from campaigns.retention import (
    FINISHED_LEAD_STATES,
    PURGED_PREFIX,
    CampaignRetention,
    LeadFacts,
    cutoff,
    is_due,
    list_cutoffs,
    lists_to_purge,
    purge_token,
)
from ringcast.errors import UserError

BATCH_SIZE = 500
ACTION = "retention.purge"
REFUSAL = "dial.refused"  # the audit rows that name a lead's number
_UNSENT = (SmsState.QUEUED, SmsState.SENDING)


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """What a purge anonymised (or would): leads, and their rows in each table."""

    leads: int = 0
    attempts: int = 0
    sms_messages: int = 0
    callbacks: int = 0
    audit_entries: int = 0
    recordings: int = 0  # QA-1 records nothing yet

    def __add__(self, other: PurgeCounts) -> PurgeCounts:
        return PurgeCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class CampaignPurge:
    """One campaign's part of a run: its retention, cutoff (None: kept forever), the lists it purged,
    and the counts."""

    campaign: CampaignRetention
    cutoff: datetime | None
    list_ids: tuple[int, ...]
    counts: PurgeCounts


@dataclass(frozen=True, slots=True)
class _Cutoffs:
    lists: dict[int, datetime | None]  # `list_cutoffs`
    campaigns: dict[int, datetime | None]  # each campaign's own


OnBatch = Callable[[CampaignPurge, int], None]  # the campaign's plan, leads done so far


def run_purge(
    database: Database,
    now: datetime,
    actor: str,
    *,
    campaign: str | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: OnBatch | None = None,
) -> list[CampaignPurge]:
    """Anonymise what is due at `now` (or only count it, `dry_run`) for each campaign (or `campaign`
    alone); the counts per campaign, by id (see the module docstring). A campaign without a retention
    comes back with no cutoff and no counts."""
    retentions, scope = _campaigns(database, campaign)
    cutoffs = _Cutoffs(
        list_cutoffs(retentions, now), {c.campaign_id: cutoff(c.retention_days, now) for c in retentions}
    )
    assigned = lists_to_purge(retentions, scope)
    done = []
    for retention in (found for found in retentions if found.campaign_id in scope):
        limit = cutoff(retention.retention_days, now)
        if limit is None:
            done.append(CampaignPurge(retention, None, (), PurgeCounts()))
            continue
        lists = assigned[retention.campaign_id]
        plan = CampaignPurge(retention, limit, lists, _total(_batches(database, lists, cutoffs, batch_size)))
        if dry_run:
            done.append(plan)
            continue
        with database.session() as session:
            _announce(session, plan, Change(actor, now))
        counts = PurgeCounts()
        for batch in _batches(database, lists, cutoffs, batch_size, anonymise=True):
            counts += batch
            if progress is not None:
                progress(plan, counts.leads)
        done.append(replace(plan, counts=counts))
    return done


def _total(counts: Iterable[PurgeCounts]) -> PurgeCounts:
    total = PurgeCounts()
    for batch in counts:
        total += batch
    return total


def _campaigns(database: Database, name: str | None) -> tuple[list[CampaignRetention], list[int]]:
    """Every campaign's retention, by id, and the ids of those in scope."""
    with database.session() as session:
        rows = session.scalars(select(Campaign).order_by(Campaign.id))
        configs = [campaign_store.config_of(session, row) for row in rows]
        scope = [config.id for config in configs] if name is None else [named(session, Campaign, name).id]
    retentions = [
        CampaignRetention(
            config.id,
            config.name,
            config.compliance.preset,
            config.retention_days,
            frozenset(share.list_id for share in config.lists),
        )
        for config in configs
    ]
    if name is not None and next(r for r in retentions if r.name == name).retention_days is None:
        raise UserError(
            f"campaign {name} has no retention period: its leads are kept",
            hint=f"`ringcast campaign update {name} --retention-days DAYS` sets one",
        )
    return retentions, scope


def _announce(session: Session, plan: CampaignPurge, change: Change) -> None:
    retention = plan.campaign
    details = {
        "preset": retention.preset.value,
        "retention_days": retention.retention_days,
        "cutoff": None if plan.cutoff is None else plan.cutoff.isoformat(),
        **plan.counts.as_dict(),
    }
    audit(session, change, ACTION, "campaign", retention.name, **details)


def _batches(
    database: Database,
    list_ids: Sequence[int],
    cutoffs: _Cutoffs,
    size: int,
    *,
    anonymise: bool = False,
) -> Iterator[PurgeCounts]:
    """The counts of each batch of due leads of the lists, anonymised if told, each batch in a
    transaction of its own."""
    for list_id in list_ids:
        limit = cutoffs.lists[list_id]
        after: int | None = -1
        while limit is not None and after is not None:
            with database.session() as session:
                due, after = _due(session, list_id, limit, cutoffs, after, size, lock=anonymise)
                counts = _counts(session, due)
                if anonymise and due:
                    _anonymise(session, due)
            yield counts


def _due(
    session: Session,
    list_id: int,
    limit: datetime,
    cutoffs: _Cutoffs,
    after: int,
    size: int,
    *,
    lock: bool,
) -> tuple[list[int], int | None]:
    """The due leads among the list's next `size` candidates after lead id `after`, and the last
    candidate's id (None: no candidate is left)."""
    query = (
        select(Lead.id, Lead.last_attempt_at, Lead.updated_at)
        .where(
            Lead.list_id == list_id,
            Lead.id > after,
            Lead.state.in_(FINISHED_LEAD_STATES),
            Lead.e164.not_like(f"{PURGED_PREFIX}%"),
            func.coalesce(Lead.last_attempt_at, Lead.updated_at) < limit,
        )
        .order_by(Lead.id)
        .limit(size)
    )
    candidates = session.execute(query.with_for_update() if lock else query).all()
    if not candidates:
        return [], None
    ids = [found.id for found in candidates]
    dialled_by: dict[int, set[int]] = {}
    for lead_id, campaign_id in session.execute(
        select(Attempt.lead_id, Attempt.campaign_id).where(Attempt.lead_id.in_(ids)).distinct()
    ):
        dialled_by.setdefault(lead_id, set()).add(campaign_id)
    unsent = func.max(case((SmsMessage.state.in_(_UNSENT), 1), else_=0))
    messages = {
        lead_id: (last, bool(waiting))
        for lead_id, last, waiting in session.execute(
            select(SmsMessage.lead_id, func.max(SmsMessage.created_at), unsent)
            .where(SmsMessage.lead_id.in_(ids))
            .group_by(SmsMessage.lead_id)
        )
    }
    pending = set(
        session.scalars(
            select(Callback.lead_id).where(Callback.lead_id.in_(ids), Callback.state == CallbackState.PENDING)
        )
    )
    due = [
        found.id
        for found in candidates
        if is_due(
            LeadFacts(
                found.id,
                list_id,
                found.last_attempt_at,
                found.updated_at,
                messages.get(found.id, (None, False))[0],
                frozenset(dialled_by.get(found.id, ())),
                found.id in pending or messages.get(found.id, (None, False))[1],
            ),
            cutoffs.lists,
            cutoffs.campaigns,
        )
    ]
    return due, ids[-1]


def _counts(session: Session, lead_ids: list[int]) -> PurgeCounts:
    if not lead_ids:
        return PurgeCounts()

    def count(*where: ColumnElement[bool]) -> int:
        return session.execute(select(func.count()).where(*where)).scalar_one()

    return PurgeCounts(
        leads=len(lead_ids),
        attempts=count(Attempt.lead_id.in_(lead_ids)),
        sms_messages=count(SmsMessage.lead_id.in_(lead_ids)),
        callbacks=count(Callback.lead_id.in_(lead_ids)),
        audit_entries=count(*_refusals_of(lead_ids)),
    )


def _refusals_of(lead_ids: list[int]) -> tuple[ColumnElement[bool], ...]:
    return (
        AuditEntry.entity == "lead",
        AuditEntry.entity_id.in_([str(lead_id) for lead_id in lead_ids]),
        AuditEntry.action == REFUSAL,
    )


def _anonymise(session: Session, lead_ids: list[int]) -> None:
    """Replace the leads' numbers by their tokens and clear their personal text, everywhere (see the
    module docstring). Recordings (QA-1) are to be deleted here, with the attempts' numbers."""
    connection = session.connection()
    leads, attempts, messages = (Base.metadata.tables[name] for name in ("leads", "attempts", "sms_messages"))
    placed = dict(
        connection.execute(select(leads.c.id, leads.c.place_id).where(leads.c.id.in_(lead_ids))).all()
    )
    kept = regions_only(connection, set(placed.values()))
    tokens = [
        {"lead": lead_id, "token": purge_token(lead_id), "place": kept[placed[lead_id]]}
        for lead_id in lead_ids
    ]
    connection.execute(
        update(leads)
        .where(leads.c.id == bindparam("lead"))
        .values(
            e164=bindparam("token"), raw_input="", extension=None, attributes={}, place_id=bindparam("place")
        ),
        tokens,
    )
    connection.execute(
        update(attempts).where(attempts.c.lead_id == bindparam("lead")).values(e164=bindparam("token")),
        tokens,
    )
    connection.execute(
        update(messages)
        .where(messages.c.lead_id == bindparam("lead"))
        .values(to_e164=bindparam("token"), body="", params={}, last_error=None),
        tokens,
    )
    session.execute(update(Callback).where(Callback.lead_id.in_(lead_ids)).values(note=None))
    for entry in session.scalars(select(AuditEntry).where(*_refusals_of(lead_ids))):
        entry.details = {**entry.details, "e164": purge_token(int(entry.entity_id or 0))}
    session.flush()
