"""The hopper's database side: which leads a campaign dials next, and leads going back.

Synchronous functions the engine runs in its database thread, each one transaction:

- `agents_with_own_due_callbacks` / `personal_callbacks`: due callbacks agents scheduled for
  themselves, each taken for its agent (CB-1);
- `take_leads`: due leads of a running campaign, now `queued`: its due callbacks first (group
  ones, and agents' own ones past the campaign's grace period), then the new and retry leads of
  its lists, higher list priority first, lists of equal priority shared by weight
  (`list_shares`), each list's best leads first; on PostgreSQL `FOR UPDATE SKIP LOCKED`, so
  several engines never take the same lead.
- `give_back` / `requeue`: leads taken but not dialled (pause, stop, a skipped preview, a refusal
  at dial time) go back to their callback or their list; `requeue_abandoned_hopper` does it for
  what a previous run left queued.
- `manual_lead`: the lead of a number an agent dials by hand (click-to-call); `lead_card`: what
  an agent sees of a lead; `lead_counts`: the campaign's leads for `campaign why`.

Every lead transition goes through `campaigns.lifecycle`.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.orm import Session

from campaigns.config import CampaignConfig
from campaigns.lifecycle import LeadStatus
from campaigns.list_shares import ListShares
from campaigns.persistence.db import Database
from campaigns.persistence.models import Callback, CampaignList, ContactList, Lead
from campaigns.persistence.models.enums import CallbackState, LeadState
from campaigns.persistence.models.leads import DIALABLE, with_number
from campaigns.place_store import place_of
from ringcast.errors import UserError

_DIALABLE = text(f"({DIALABLE})")  # bracketed: an OR among the query's other conditions
_IDS_PER_QUERY = 500  # ids in one IN (...): well under SQLite's limit on parameters


@dataclass(frozen=True, slots=True)
class QueuedLead:
    """A lead in the hopper."""

    lead_id: int
    e164: str
    time_zones: tuple[str, ...]
    attempts: int


def take_leads(
    database: Database,
    campaign: CampaignConfig,
    limit: int,
    now: datetime,
    *,
    callbacks_only: bool = False,
    shares: ListShares | None = None,
) -> list[QueuedLead]:
    """Up to `limit` due leads, now queued: the campaign's due callbacks first (earliest first), then
    (unless `callbacks_only`) new and retry leads of its lists as `shares` (the caller's, whose
    weighted round robin carries over between calls; else a fresh one) orders them."""
    if limit <= 0:
        return []
    with database.session() as session:
        leads = _take(session, _due_callbacks(campaign, now), limit)
        if len(leads) < limit and campaign.lists and not callbacks_only:
            leads += _take_from_lists(session, shares or ListShares(campaign.lists), limit - len(leads), now)
        return [_queued(lead) for lead in leads]


def _queued(lead: Lead) -> QueuedLead:
    lead.state = LeadStatus(lead.id, lead.state, lead.attempt_count).queue().state
    return QueuedLead(lead.id, lead.e164, tuple(lead.time_zones or ()), lead.attempt_count)


def _own_due_callbacks(
    campaign: CampaignConfig, agent_ids: Collection[int], now: datetime
) -> Select[Lead, int | None]:
    return (
        select(Lead, Callback.agent_id)
        .join(Callback, Callback.lead_id == Lead.id)
        .where(Callback.campaign_id == campaign.id, Callback.state == CallbackState.PENDING)
        .where(Callback.agent_id.in_(agent_ids), Callback.due_at <= now, Lead.state == LeadState.CALLBACK)
        .order_by(Callback.due_at, Lead.id)
    )


def agents_with_own_due_callbacks(
    database: Database, campaign: CampaignConfig, agent_ids: Collection[int], now: datetime
) -> set[int]:
    """Which of `agent_ids` have a callback of their own due (a read: nothing is taken)."""
    if not agent_ids:
        return set()
    with database.session() as session:
        rows = session.execute(_own_due_callbacks(campaign, agent_ids, now))
        return {agent_id for _, agent_id in rows if agent_id is not None}


def personal_callbacks(
    database: Database, campaign: CampaignConfig, agent_ids: Collection[int], now: datetime
) -> dict[int, QueuedLead]:
    """For each of `agent_ids`, its earliest due callback of its own, now queued (CB-1)."""
    query = _own_due_callbacks(campaign, agent_ids, now)
    if database.backend == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Lead)
    with database.session() as session:
        found: dict[int, QueuedLead] = {}
        for lead, agent_id in session.execute(query):
            if agent_id is not None and agent_id not in found:
                found[agent_id] = _queued(lead)
        return found


def _take(session: Session, query: Select[Lead], limit: int) -> list[Lead]:
    """The first `limit` leads of `query`, locked; on PostgreSQL other engines skip them."""
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Lead)
    return list(session.scalars(query.limit(limit)))


def _due_callbacks(campaign: CampaignConfig, now: datetime) -> Select[Lead]:
    """The campaign's due callbacks for any agent: group ones, and agents' own ones their agent has
    not taken within the campaign's grace period (CB-1)."""
    grace = timedelta(seconds=campaign.personal_callback_grace_s)
    return (
        select(Lead)
        .join(Callback, Callback.lead_id == Lead.id)
        .where(Callback.campaign_id == campaign.id, Callback.state == CallbackState.PENDING)
        .where(Callback.due_at <= now, Lead.state == LeadState.CALLBACK)
        .where(or_(Callback.agent_id.is_(None), Callback.due_at <= now - grace))
        .order_by(Callback.due_at, Lead.id)
    )


def _take_from_lists(session: Session, shares: ListShares, limit: int, now: datetime) -> list[Lead]:
    """Up to `limit` due leads of the lists, tier by tier, interleaved as `shares` orders them."""
    leads: list[Lead] = []
    for tier in shares.tiers:
        in_play = list(tier)
        while in_play and len(leads) < limit:
            order = shares.order(in_play, limit - len(leads))
            wanted = Counter(order)
            fetched = {
                list_id: deque(_take(session, _due_leads(list_id, now), n)) for list_id, n in wanted.items()
            }
            dry = {list_id for list_id, n in wanted.items() if len(fetched[list_id]) < n}
            leads += [fetched[list_id].popleft() for list_id in order if fetched[list_id]]
            in_play = [list_id for list_id in in_play if list_id not in dry]
    return leads


def _due_leads(list_id: int, now: datetime) -> Select[Lead]:
    return (
        select(Lead)
        .where(Lead.list_id == list_id, _DIALABLE, Lead.next_attempt_at <= now)
        .order_by(Lead.priority.desc(), Lead.next_attempt_at, Lead.id)
    )


def lead_card(database: Database, lead_id: int) -> dict[str, Any]:
    """What an agent sees of a lead before dialling it (preview) or while talking."""
    with database.session() as session:
        lead = session.get_one(Lead, lead_id)
        place = place_of(session, lead)
        return {
            "lead_id": lead.id,
            "e164": lead.e164,
            "attributes": dict(lead.attributes or {}),
            "region": place.region,
            "city": place.city,
            "carrier": place.carrier,
            "time_zones": list(lead.time_zones or ()),
            "attempts": lead.attempt_count,
            "last_outcome": lead.last_outcome.value if lead.last_outcome else None,
        }


def manual_lead(
    database: Database, campaign: CampaignConfig, e164: str, time_zones: tuple[str, ...], now: datetime
) -> QueuedLead:
    """A number an agent dials by hand (click-to-call, DIAL-2), queued: its lead in the campaign's
    lists, else a new lead in the campaign's own `manual-<campaign>` list (attached at priority 0)."""
    with database.session() as session:
        lead = lead_of_number(session, campaign, e164, time_zones, now)
        if lead.state not in (LeadState.NEW, LeadState.RETRY, LeadState.CALLBACK):
            raise UserError(f"{e164} cannot be dialled now: its lead is {lead.state.value}")
        lead.state = LeadStatus(lead.id, lead.state, lead.attempt_count).queue().state
        return QueuedLead(lead.id, lead.e164, tuple(lead.time_zones or ()), lead.attempt_count)


def lead_of_number(
    session: Session, campaign: CampaignConfig, e164: str, time_zones: tuple[str, ...], now: datetime
) -> Lead:
    """The number's lead in the campaign's lists, else its lead (new if need be) in the campaign's own
    `manual-<campaign>` list (attached at priority 0): for click-to-call and missed inbound calls."""
    list_ids = [entry.list_id for entry in campaign.lists]
    lead = session.scalar(select(Lead).where(Lead.e164 == e164, Lead.list_id.in_(list_ids)).limit(1))
    return lead if lead is not None else _new_manual_lead(session, campaign, e164, time_zones, now)


def latest_lead(session: Session, e164: str) -> Lead | None:
    """The number's customer record: its most recently updated lead in any list, None for a stranger."""
    return session.scalar(select(Lead).where(with_number(e164)).order_by(Lead.updated_at.desc()).limit(1))


def _new_manual_lead(
    session: Session, campaign: CampaignConfig, e164: str, time_zones: tuple[str, ...], now: datetime
) -> Lead:
    name = f"manual-{campaign.name}"[:100]
    contacts = session.scalar(select(ContactList).where(ContactList.name == name))
    if contacts is None:
        contacts = ContactList(name=name, source_file="click-to-call", imported_at=now)
        session.add(contacts)
        session.flush()
        session.add(CampaignList(campaign_id=campaign.id, list_id=contacts.id))
    lead = session.scalar(select(Lead).where(Lead.list_id == contacts.id, Lead.e164 == e164))
    if lead is None:
        lead = Lead(
            list_id=contacts.id, e164=e164, raw_input=e164, time_zones=list(time_zones), next_attempt_at=now
        )
        session.add(lead)
        session.flush()
    return lead


def requeue_abandoned_hopper(database: Database, now: datetime) -> int:
    """Leads a previous run took into its hopper and never dialled go back, due now; returns how many."""
    with database.session() as session:
        leads = list(session.scalars(select(Lead).where(Lead.state == LeadState.QUEUED)))
        for lead in leads:
            requeue(session, lead, now)
        return len(leads)


def give_back(
    database: Database, leads: Sequence[QueuedLead], until: datetime, *, hold_callbacks: bool = False
) -> None:
    """Hopper leads that will not be dialled now go back, due at `until` (see `requeue`)."""
    with database.session() as session:
        for start in range(0, len(leads), _IDS_PER_QUERY):
            ids = [queued.lead_id for queued in leads[start : start + _IDS_PER_QUERY]]
            pending = select(Callback).where(
                Callback.lead_id.in_(ids), Callback.state == CallbackState.PENDING
            )
            callbacks = {callback.lead_id: callback for callback in session.scalars(pending)}
            for lead in session.scalars(select(Lead).where(Lead.id.in_(ids), Lead.state == LeadState.QUEUED)):
                _requeue(lead, callbacks.get(lead.id), until, hold_callbacks)


def pending_callback(session: Session, lead_id: int) -> Callback | None:
    """The lead's pending callback (at most one: `uq_callbacks_lead_id_pending`)."""
    return session.scalar(
        select(Callback).where(Callback.lead_id == lead_id, Callback.state == CallbackState.PENDING)
    )


def requeue(session: Session, lead: Lead, until: datetime, *, hold_callback: bool = False) -> None:
    """A queued lead goes back, due at `until`: to its pending callback, else to its list.

    A callback keeps its due time, unless `hold_callback` (refused at dial time, skipped by an
    agent): then it waits for `until` too, as other leads do (never before its own due time).
    """
    _requeue(lead, pending_callback(session, lead.id), until, hold_callback)


def _requeue(lead: Lead, callback: Callback | None, until: datetime, hold_callback: bool) -> None:
    step = LeadStatus(lead.id, lead.state, lead.attempt_count).requeue(until, callback=callback is not None)
    lead.state = step.state
    if callback is None:
        lead.next_attempt_at = until
    elif hold_callback:
        callback.due_at = max(callback.due_at, until)


@dataclass(frozen=True, slots=True)
class LeadCounts:
    """A campaign's leads as `campaign why` and `status` need them."""

    by_state: dict[str, int]
    due: int  # dialable and due now
    later: int  # dialable, due later
    next_due_at: datetime | None


def lead_counts(database: Database, campaign: CampaignConfig, now: datetime) -> LeadCounts:
    list_ids = [entry.list_id for entry in campaign.lists]
    if not list_ids:
        return LeadCounts({}, 0, 0, None)
    with database.session() as session:
        by_state = {
            str(state): count
            for state, count in session.execute(
                select(Lead.state, func.count()).where(Lead.list_id.in_(list_ids)).group_by(Lead.state)
            )
        }
        dialable = select(func.count()).where(Lead.list_id.in_(list_ids), _DIALABLE)
        due = session.scalar(dialable.where(Lead.next_attempt_at <= now)) or 0
        later = session.scalar(dialable.where(Lead.next_attempt_at > now)) or 0
        next_due = session.scalar(
            select(func.min(Lead.next_attempt_at)).where(
                Lead.list_id.in_(list_ids), _DIALABLE, Lead.next_attempt_at > now
            )
        )
    return LeadCounts(by_state, due, later, next_due)
