"""The live dialer's database side: the dial-time compliance check, attempts and their outcomes.

Synchronous functions the engine runs in its database thread, each one transaction (the hopper's
side, which leads come next, is `campaigns.hopper`):

- `open_attempts`: right before the originate, `check_dial` with current data (blocklist, the
  number's attempts in every campaign, the campaign's abandonment figures); a refused lead goes
  back with its `until` and the refusal lands in the audit log (`dial.refused`, the compliance
  report's source); an allowed one gets its attempt row and moves to `dialing`.
- `close_attempt`: the call's record (times, outcome, AMD, agent, cause, connection delay) and
  the lead's next state by the campaign's retry rules; `dispose_attempt`: the agent's disposition.

Every lead transition goes through `campaigns.lifecycle`; the attempt's one-open-per-lead index
backs up "never in two calls at once" across processes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, not_, or_, select, update
from sqlalchemy.orm import Session

from campaigns.compliance.abandonment import (
    AbandonmentRate,
    AttemptRecord,
    LiveCounts,
    rate_of_counts,
    window_of,
)
from campaigns.compliance.blocklist import Blocklist
from campaigns.compliance.blocklist_store import entries_for_numbers
from campaigns.compliance.rules import (
    Allowed,
    CampaignRules,
    DialHistory,
    LeadFacts,
    RefusalReason,
    Refused,
    check_dial,
)
from campaigns.config import (
    MESSAGE_PLAYED,
    RESERVED_DISPOSITION,
    SURVEY_COMPLETED,
    SURVEY_PARTIAL,
    CampaignConfig,
)
from campaigns.hopper import QueuedLead, pending_callback, requeue
from campaigns.lifecycle import Disposition, LeadStatus, LeadStep, ScheduleCallback, ScheduleRetry
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, AuditEntry, Callback, Lead, SurveyResponse
from campaigns.persistence.models import Disposition as DispositionRow
from campaigns.persistence.models.enums import CallbackState, CallOutcome, DialMode, LeadState
from ringcast.errors import UserError
from sms import hangup
from sms.hangup_rules import CallEnded, Disposed

log = logging.getLogger(__name__)
# An answered call whose agent gave no disposition (wrap-up ended, agent gone, engine restarted):
# tried again after the rules' `answered` delay.
UNDISPOSED = Disposition(RESERVED_DISPOSITION, final=False)
# A broadcast campaign's answered calls: done once the survey was completed or the message played;
# a survey left before its end is tried again after the rules' `answered` delay.
BROADCAST_DISPOSITIONS = {
    SURVEY_COMPLETED: Disposition(SURVEY_COMPLETED, final=True),
    SURVEY_PARTIAL: Disposition(SURVEY_PARTIAL, final=False),
    MESSAGE_PLAYED: Disposition(MESSAGE_PLAYED, final=True),
}
_HISTORY = timedelta(days=8)  # the week cap's 7 x 24 h, and a day of slack for zones
_UNKNOWN_WAIT = timedelta(hours=1)  # a refusal with no known end is looked at again after this
ACTOR = "dialer"
FOLLOW_UP_ACTOR = "survey"  # who schedules the callbacks customers ask for in surveys
ABANDONED_CALLBACK_ACTOR = "abandoned_call"  # who schedules abandoned calls' automatic callbacks (CB-2)


@dataclass(frozen=True, slots=True)
class OpenedAttempt:
    lead: QueuedLead
    attempt_id: int
    channel_id: str


@dataclass(frozen=True, slots=True)
class RefusedLead:
    lead: QueuedLead
    verdict: Refused


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What the engine learnt about one call, for `close_attempt`."""

    attempt_id: int
    outcome: CallOutcome
    answered_at: datetime | None
    bridged_at: datetime | None
    ended_at: datetime
    agent_id: int | None = None
    amd_result: str | None = None
    amd_cause: str | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str | None = None
    connect_ms: int | None = None


def open_attempts(
    database: Database,
    campaign: CampaignConfig,
    leads: Sequence[QueuedLead],
    now: datetime,
    *,
    channel_prefix: str,
    agent_free: int = 0,
    agent_reserved: bool = False,
) -> list[OpenedAttempt | RefusedLead]:
    """Check each lead against current data; open an attempt for each allowed one (see module docstring).

    The first `agent_free` leads are dialled one-to-one for ready agents (they cannot be abandoned);
    with `agent_reserved` an agent waits for every one of them (preview, click-to-call). Each call's
    channel will be `channel_id(channel_prefix, attempt id)`.
    """
    rules = CampaignRules(
        campaign.compliance,
        campaign.time_zone,
        campaign.caller_id,
        home=campaign.home,
        reach=campaign.reach,
        whitelist_only=campaign.whitelist_only,
    )
    verdicts: list[Refused | None] = []
    numbers = [queued.e164 for queued in leads]
    with database.session() as session:
        figures = _abandonment(session, campaign, now)
        blocklist = entries_for_numbers(session.connection(), numbers)
        histories = _histories(session, numbers, now)
        rows = {
            lead.id: lead
            for lead in session.scalars(select(Lead).where(Lead.id.in_([q.lead_id for q in leads])))
        }
        for n, queued in enumerate(leads):
            entries = Blocklist(blocklist[queued.e164])
            facts = LeadFacts(
                queued.e164,
                queued.time_zones,
                entries.check(queued.e164, campaign.id, now),
                agent_reserved,
                agent_free=n < agent_free,
                whitelisted=entries.whitelisted(queued.e164, campaign.id, now),
            )
            history = DialHistory(figures, tuple(histories[queued.e164]))
            verdict = check_dial(facts, rules, history, now)
            if isinstance(verdict, Refused):
                _refuse(session, campaign, queued, verdict, now)
                verdicts.append(verdict)
                continue
            assert isinstance(verdict, Allowed)
            verdicts.append(None)
            histories[queued.e164].append(
                AttemptRecord(now, None)
            )  # in a call now, for the rest of the batch
        allowed = [queued for queued, verdict in zip(leads, verdicts, strict=True) if verdict is None]
        opened = iter(
            _open(session, campaign, [rows[q.lead_id] for q in allowed], allowed, now, channel_prefix)
        )
        return [
            next(opened) if verdict is None else RefusedLead(queued, verdict)
            for queued, verdict in zip(leads, verdicts, strict=True)
        ]


def abandonment_figures(database: Database, campaign: CampaignConfig, now: datetime) -> AbandonmentRate:
    """The campaign's abandonment rate over its compliance window, as of `now`."""
    with database.session() as session:
        return _abandonment(session, campaign, now)


def _abandonment(session: Session, campaign: CampaignConfig, now: datetime) -> AbandonmentRate:
    """Counted in SQL: one row however many calls the window holds (`count_live` in Python)."""
    zone = ZoneInfo(campaign.time_zone)
    since, _ = window_of(campaign.compliance, zone, now)
    dropped = or_(Attempt.abandoned, Attempt.outcome == CallOutcome.ABANDONED)
    served = and_(Attempt.outcome == CallOutcome.ANSWERED, not_(Attempt.abandoned))
    machine = and_(Attempt.outcome == CallOutcome.MACHINE, not_(Attempt.abandoned))
    query = select(
        func.count().filter(served), func.count().filter(dropped), func.count().filter(machine)
    ).where(
        Attempt.campaign_id == campaign.id,
        Attempt.dialed_at <= now,
        Attempt.outcome.in_([CallOutcome.ANSWERED, CallOutcome.ABANDONED, CallOutcome.MACHINE]),
    )
    if since is not None:
        query = query.where(Attempt.dialed_at >= since)
    answered, abandoned, machines = session.execute(query).one()
    return rate_of_counts(LiveCounts(answered, abandoned, machines), campaign.compliance, zone, now)


def _histories(session: Session, numbers: Sequence[str], now: datetime) -> dict[str, list[AttemptRecord]]:
    """Each number's attempts in every campaign over the compliance history, in one query."""
    found: dict[str, list[AttemptRecord]] = {e164: [] for e164 in numbers}
    rows = session.execute(
        select(Attempt.e164, Attempt.dialed_at, Attempt.outcome, Attempt.abandoned).where(
            Attempt.e164.in_(set(numbers)), Attempt.dialed_at >= now - _HISTORY
        )
    )
    for e164, at, outcome, abandoned in rows:
        found[e164].append(AttemptRecord(at, outcome, abandoned))
    return found


def _refuse(
    session: Session, campaign: CampaignConfig, queued: QueuedLead, verdict: Refused, now: datetime
) -> None:
    lead = session.get_one(Lead, queued.lead_id)
    status = LeadStatus(lead.id, lead.state, lead.attempt_count)
    if verdict.reason in (RefusalReason.DNC, RefusalReason.BLACKLISTED) and verdict.until is None:
        lead.state = status.requeue(now).lead.block().state
        callback = pending_callback(session, lead.id)
        if callback is not None:  # a blocked number gets no callback either
            callback.state = CallbackState.CANCELLED
    elif verdict.reason is RefusalReason.ABANDON_CAP:
        requeue(session, lead, now)  # the campaign is held back, not the lead
    else:
        requeue(session, lead, verdict.until or now + _UNKNOWN_WAIT, hold_callback=True)
    session.add(
        AuditEntry(
            at=now,
            actor=ACTOR,
            action="dial.refused",
            entity="lead",
            entity_id=str(lead.id),
            details={
                "campaign": campaign.name,
                "e164": queued.e164,
                "reason": verdict.reason.value,
                "also": [reason.value for reason in verdict.also],
                "until": verdict.until.isoformat() if verdict.until else None,
            },
        )
    )


def channel_id(prefix: str, attempt_id: int) -> str:
    """The uniqueid of an attempt's channel: `prefix`, then the attempt id on twelve digits. When
    Asterisk creates a channel with a given uniqueid it refuses one that begins a live channel's
    uniqueid (`...-1` while `...-10` is up), so no id may begin another."""
    return f"{prefix}{attempt_id:012d}"


def _open(
    session: Session,
    campaign: CampaignConfig,
    leads: Sequence[Lead],
    queued: Sequence[QueuedLead],
    now: datetime,
    channel_prefix: str,
) -> list[OpenedAttempt]:
    """An attempt for each lead, now `dialing`: the attempts inserted together (one statement)."""
    attempts = [
        Attempt(
            lead_id=lead.id,
            campaign_id=campaign.id,
            e164=lead.e164,
            trunk=campaign.trunk,
            caller_id=campaign.caller_id,
            dialed_at=now,
            time_zones=list(taken.time_zones),
        )
        for lead, taken in zip(leads, queued, strict=True)
    ]
    session.add_all(attempts)
    session.flush()
    opened = []
    for lead, attempt, taken in zip(leads, attempts, queued, strict=True):
        step = LeadStatus(lead.id, lead.state, lead.attempt_count).dial()
        attempt.uniqueid = channel_id(channel_prefix, attempt.id)
        lead.state, lead.attempt_count, lead.last_attempt_at = step.state, step.lead.attempts, now
        opened.append(OpenedAttempt(taken, attempt.id, attempt.uniqueid))
    return opened


_CALLBACK_DONE = (
    update(Callback)
    .where(Callback.lead_id == bindparam("lead"), Callback.state == CallbackState.PENDING)
    .values(state=CallbackState.DONE)
)


def close_attempt(session: Session, campaign: CampaignConfig, result: AttemptResult) -> LeadState:
    """Record how the call ended; settle the lead by the retry rules (an answered one awaits its disposition).

    A cancelled attempt (we hung up before an answer, or the originate never went out) gives the
    attempt back to the lead. An abandoned one, when the campaign says so (`abandoned_callback_s`),
    gets a callback for any of its agents instead of a retry (CB-2). The hang-up SMS rules fire
    (`sms.hangup`). Returns the lead's new state. In `session`'s transaction.
    """
    attempt = session.get_one(Attempt, result.attempt_id)
    if attempt.ended_at is not None:
        return session.get_one(Lead, attempt.lead_id).state  # already closed (reconciled)
    attempt.answered_at, attempt.bridged_at = result.answered_at, result.bridged_at
    attempt.ended_at, attempt.outcome = result.ended_at, result.outcome
    attempt.agent_id, attempt.connect_ms = result.agent_id, result.connect_ms
    attempt.amd_result = result.amd_result  # type: ignore[assignment]
    attempt.amd_cause = result.amd_cause
    attempt.hangup_cause, attempt.hangup_cause_text = result.hangup_cause, result.hangup_cause_text
    attempt.abandoned = result.outcome is CallOutcome.ABANDONED
    lead = session.get_one(Lead, attempt.lead_id)
    status = LeadStatus(lead.id, lead.state, lead.attempt_count)
    actor = ACTOR
    if result.outcome is CallOutcome.CANCELLED:  # never placed: a callback stays as it was
        callback = pending_callback(session, lead.id)
        back_at = result.ended_at if callback is None else callback.due_at
        step = status.cancel(back_at, callback=callback is not None)
    else:
        session.connection().execute(_CALLBACK_DONE, {"lead": lead.id})  # if this call was the callback
        step = status.end_call(result.outcome)
        lead.last_outcome = result.outcome
        if result.outcome is CallOutcome.ABANDONED and campaign.abandoned_callback_s is not None:
            step = step.lead.call_back(result.ended_at + timedelta(seconds=campaign.abandoned_callback_s))
            actor = ABANDONED_CALLBACK_ACTOR
        elif result.outcome is not CallOutcome.ANSWERED:
            step = step.lead.settle(campaign.retry, result.ended_at)
        hangup.fire(session, attempt.id, CallEnded(result.outcome), result.ended_at)
    _apply(session, lead, step, campaign, now=result.ended_at, actor=actor)
    return lead.state


def dispose_attempt(
    database: Database,
    campaign: CampaignConfig,
    attempt_id: int,
    code: str,
    now: datetime,
    *,
    callback_at: datetime | None = None,
    personal: bool = False,
    actor: str = ACTOR,
) -> LeadState:
    """The agent's disposition (CMP-5) for an answered attempt; a callback the customer asked for (AGT-4).

    A customer who asked for a call back in the post-call survey before the agent gave its
    disposition keeps that callback: the disposition is recorded on the attempt, the lead stays
    waiting for the callback (`follow_up_callback`)."""
    disposition = _disposition(campaign, code)
    with database.session() as session:
        attempt = session.get_one(Attempt, attempt_id)
        lead = session.get_one(Lead, attempt.lead_id)
        attempt.disposition_id = _disposition_id(session, campaign, code)
        hangup.fire(session, attempt.id, Disposed(code), now)
        followed_up = _followed_up(session, attempt) if lead.state is LeadState.CALLBACK else None
        if followed_up is not None:  # the customer's callback stands; the agent's may bring it forward
            if callback_at is not None:
                followed_up.due_at = min(followed_up.due_at, callback_at)
            return lead.state
        status = LeadStatus(lead.id, lead.state, lead.attempt_count)
        step = status.dispose(disposition, campaign.retry, now, callback_at=callback_at)
        agent_id = attempt.agent_id if personal else None  # a personal callback waits for its agent (CB-1)
        _apply(session, lead, step, campaign, now=now, actor=actor, agent_id=agent_id)
        return lead.state


def follow_up_callback(
    session: Session, campaign: CampaignConfig, attempt_id: int, at: datetime, now: datetime
) -> bool:
    """A call back the customer asked for in the survey after attempt `attempt_id` (SRV-2), due at
    `at`, taken by the campaign's agents; False (nothing written) when the lead is on a call again
    or blocked. In `session`'s transaction."""
    attempt = session.get_one(Attempt, attempt_id)
    lead = session.get_one(Lead, attempt.lead_id)
    return call_back_lead(session, campaign, lead, at, now, FOLLOW_UP_ACTOR)  # `_followed_up` knows the actor


def call_back_lead(
    session: Session, campaign: CampaignConfig, lead: Lead, at: datetime, now: datetime, actor: str
) -> bool:
    """The customer asked for a call back (a survey's follow-up, a missed inbound call): the lead
    waits for the campaign's agents at `at`, or at its pending callback's time if that is earlier;
    False (nothing written) when it is on a call or blocked. In `session`'s transaction."""
    if lead.state in (LeadState.QUEUED, LeadState.DIALING, LeadState.DNC_BLOCKED):
        log.info("lead %s is %s, no callback for %s", lead.id, lead.state, actor)
        return False
    pending = pending_callback(session, lead.id)
    if pending is not None:  # one the agent set stays, brought forward if need be
        at = min(at, pending.due_at)
    step = LeadStatus(lead.id, lead.state, lead.attempt_count).follow_up(at)
    _apply(session, lead, step, campaign, now=now, actor=actor)
    return True


def _followed_up(session: Session, attempt: Attempt) -> Callback | None:
    """The lead's pending callback if a survey after this attempt asked for it."""
    callback = pending_callback(session, attempt.lead_id)
    after = attempt.ended_at or attempt.dialed_at
    if callback is not None and callback.created_by == FOLLOW_UP_ACTOR and callback.created_at >= after:
        return callback
    return None


def settle_undisposed(session: Session, campaign: CampaignConfig, attempt_id: int, now: datetime) -> bool:
    """Give an answered attempt that got no disposition the engine's one (`undisposed`; for a
    broadcast campaign, what became of its survey or message); False (and nothing written) when its
    lead has moved on meanwhile (a disposition came, or the lead was dialled again).
    In `session`'s transaction."""
    attempt = session.get_one(Attempt, attempt_id)
    lead = session.get_one(Lead, attempt.lead_id)
    latest = lead.last_attempt_at == attempt.dialed_at
    if lead.state is not LeadState.ANSWERED or attempt.disposition_id is not None or not latest:
        log.info("attempt %s: lead %s is %s, no undisposed settlement", attempt_id, lead.id, lead.state)
        return False
    disposition = (
        _broadcast_disposition(session, campaign, attempt_id)
        if campaign.dial_mode is DialMode.BROADCAST
        else UNDISPOSED
    )
    step = LeadStatus(lead.id, lead.state, lead.attempt_count).dispose(disposition, campaign.retry, now)
    _apply(session, lead, step, campaign, now=now)
    return True


def _broadcast_disposition(session: Session, campaign: CampaignConfig, attempt_id: int) -> Disposition:
    if campaign.survey_id is None:
        return BROADCAST_DISPOSITIONS[MESSAGE_PLAYED]
    completed = session.scalar(
        select(SurveyResponse.completed_at).where(SurveyResponse.attempt_id == attempt_id).limit(1)
    )
    return BROADCAST_DISPOSITIONS[SURVEY_COMPLETED if completed is not None else SURVEY_PARTIAL]


def _disposition(campaign: CampaignConfig, code: str) -> Disposition:
    for disposition in (*campaign.dispositions, UNDISPOSED):
        if disposition.code == code:
            return disposition
    known = ", ".join(d.code for d in campaign.dispositions)
    raise UserError(f"disposition {code!r}: not one of campaign {campaign.name}'s ({known})")


def _disposition_id(session: Session, campaign: CampaignConfig, code: str) -> int | None:
    return session.scalar(
        select(DispositionRow.id).where(
            DispositionRow.campaign_id == campaign.id, DispositionRow.code == code
        )
    )


def calls_in_progress(database: Database, campaign_id: int) -> int:
    """The campaign's attempts whose call has not ended."""
    with database.session() as session:
        return (
            session.scalar(
                select(func.count()).where(Attempt.campaign_id == campaign_id, Attempt.ended_at.is_(None))
            )
            or 0
        )


@dataclass(frozen=True, slots=True)
class AttemptInProgress:
    attempt_id: int
    campaign_id: int
    channel_id: str


def attempts_in_progress(database: Database) -> list[AttemptInProgress]:
    """Every attempt not yet ended (after a restart: what the previous run left open)."""
    with database.session() as session:
        rows = session.execute(
            select(Attempt.id, Attempt.campaign_id, Attempt.uniqueid).where(Attempt.ended_at.is_(None))
        )
        return [AttemptInProgress(a, c, u or "") for a, c, u in rows]


def _apply(
    session: Session,
    lead: Lead,
    step: LeadStep,
    campaign: CampaignConfig,
    *,
    now: datetime,
    actor: str = ACTOR,
    agent_id: int | None = None,
) -> None:
    lead.state, lead.attempt_count = step.state, step.lead.attempts
    for command in step.commands:
        if isinstance(command, ScheduleRetry):
            lead.next_attempt_at = command.at
        elif isinstance(command, ScheduleCallback):
            _schedule_callback(session, lead, campaign, command.at, now, actor, agent_id)


def _schedule_callback(
    session: Session,
    lead: Lead,
    campaign: CampaignConfig,
    at: datetime,
    now: datetime,
    actor: str,
    agent_id: int | None,
) -> None:
    pending = pending_callback(session, lead.id)
    if pending is not None:
        pending.due_at = at
        return
    zone = lead.time_zones[0] if lead.time_zones else campaign.time_zone
    session.add(
        Callback(
            lead_id=lead.id,
            campaign_id=campaign.id,
            agent_id=agent_id,
            due_at=at,
            time_zone=zone,
            created_by=actor,
            created_at=now,
        )
    )
