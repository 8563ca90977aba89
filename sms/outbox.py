"""The SMS outbox in the database (SMS-8): queue a message once, claim due ones, record what became of them.

- `queue` / `queue_many` write messages before anything is sent. The idempotency key makes asking
  twice harmless: the second ask finds the first message. A message that cannot be sent (no such
  number, a landline, empty or over-long text, no provider) is still written, `failed` with its
  reason, and one to a number (or lead) that opted out is written `cancelled` (`opted_out`), so
  that nothing asked for disappears without a trace. The sender checks opt-outs again when it sends.
- `claim_due` hands a sender the messages whose time has come, marked `sending` under its name until
  `claimed_until`. On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so several senders
  never claim the same message; on SQLite one sender at a time holds the outbox's lease
  (`campaigns.persistence.leases`).
- `recover_expired` deals with the claims of a sender that died (kill -9, a lost host): a message to
  a provider that honours idempotency keys is queued again at once (resending its key cannot send
  it twice); to one that does not, it may or may not have gone, so it ends `failed` with reason
  `unknown_outcome` rather than risk a duplicate.
- `finish` writes what the sender decided for each claimed message, in one statement per kind, and
  applies the delivery receipts that arrived before the provider's message id was known.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from campaigns.numbers import typed_number
from campaigns.persistence.models import Base
from campaigns.persistence.models.enums import CompliancePreset, SmsState
from campaigns.persistence.upsert import insert_unless_present
from ringcast.errors import UserError
from sms import receipts
from sms.segments import segments
from sms.templates import MAX_SEGMENTS, check_length

MESSAGES = Base.metadata.tables["sms_messages"]
OPT_OUTS = Base.metadata.tables["sms_opt_outs"]
LEADS = Base.metadata.tables["leads"]
DEFAULT_PROVIDER = "default"  # a message naming it goes through the sending process's default provider


@dataclass(frozen=True, slots=True)
class SmsRequest:
    """A message somebody asks for; `to` as typed (E.164 or national in the default region)."""

    key: str  # idempotency key: the same key is the same message
    to: str
    body: str
    provider: str
    marketing: bool = False
    due_at: datetime | None = None  # None: at once
    sender: str | None = None
    template_code: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    preset: CompliancePreset | None = None
    campaign_id: int | None = None
    lead_id: int | None = None
    attempt_id: int | None = None
    sms_campaign_id: int | None = None
    created_by: str = "system"
    refused: tuple[str, str] | None = None  # (reason, one line): known unsendable, written as failed


@dataclass(frozen=True, slots=True)
class QueuedSms:
    id: int
    key: str
    to: str
    state: SmsState
    segments: int
    reason: str | None
    error: str | None
    created: bool  # False: the key was known, this is the message asked for before


@dataclass(frozen=True, slots=True)
class ClaimedSms:
    """A message a sender now holds (`sending`), with what it needs to decide and send it."""

    id: int
    key: str
    to: str
    body: str
    segments: int
    provider: str
    marketing: bool
    tries: int  # counting this one
    sender: str | None
    template_code: str | None
    params: Mapping[str, str]
    preset: CompliancePreset | None
    lead_id: int | None
    campaign_id: int | None


@dataclass(frozen=True, slots=True)
class Finished:
    """What becomes of a claimed message: its next state and the columns that go with it."""

    id: int
    state: SmsState
    reason: str | None = None
    error: str | None = None
    next_try_at: datetime | None = None  # queued again: when
    provider_message_id: str | None = None
    sent_at: datetime | None = None
    count_try: bool = True  # False: the claim was no try (a deferral), tries goes back down


@dataclass(frozen=True, slots=True)
class OutboxRules:
    """What `queue` checks a request against."""

    region: str  # numbers without a country code are read in it
    providers: tuple[str, ...] | None  # the providers a message may name; None: left to the sender
    max_segments: int


# For callers whose numbers are E.164 already (a call's, a lead's) and whose provider the sender
# resolves (`DEFAULT_PROVIDER`): hang-up rules, survey follow-ups.
E164_RULES = OutboxRules(region="ZZ", providers=None, max_segments=MAX_SEGMENTS)


def queue(session: Session, request: SmsRequest, now: datetime, rules: OutboxRules) -> QueuedSms:
    """Write `request` to the outbox (or find the message its key already made)."""
    return queue_many(session, [request], now, rules)[0]


def queue_many(
    session: Session, requests: Sequence[SmsRequest], now: datetime, rules: OutboxRules
) -> list[QueuedSms]:
    """`queue` for many requests in a few statements; the answers in the requests' order."""
    rows = [_row(request, now, rules) for request in requests]
    connection = session.connection()
    _cancel_opted_out(connection, rows)
    insert = insert_unless_present(connection, MESSAGES, ["idempotency_key"])
    known = _stored(connection, [row["idempotency_key"] for row in rows])
    for start in range(0, len(rows), _CHUNK):
        connection.execute(insert, rows[start : start + _CHUNK])
    stored = _stored(connection, [row["idempotency_key"] for row in rows])
    answers, seen = [], set(known)
    for row in rows:
        key = row["idempotency_key"]
        answers.append(_queued(stored[key], key not in seen))
        seen.add(key)
    return answers


def _cancel_opted_out(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Messages to numbers (or leads) that opted out are written cancelled: known before any send."""
    numbers = sorted({row["to_e164"] for row in rows if row["state"] == SmsState.QUEUED.value})
    lead_ids = sorted({row["lead_id"] for row in rows if row["lead_id"] is not None})
    opted_out: set[str] = set()
    for start in range(0, len(numbers), _CHUNK):
        query = select(OPT_OUTS.c.e164).where(OPT_OUTS.c.e164.in_(numbers[start : start + _CHUNK]))
        opted_out.update(connection.execute(query).scalars())
    leads_out: set[int] = set()
    for start in range(0, len(lead_ids), _CHUNK):
        chunk = lead_ids[start : start + _CHUNK]
        query = select(LEADS.c.id).where(LEADS.c.id.in_(chunk), LEADS.c.sms_opt_out.is_(True))
        leads_out.update(connection.execute(query).scalars())
    for row in rows:
        if row["state"] == SmsState.QUEUED.value and (
            row["to_e164"] in opted_out or row["lead_id"] in leads_out
        ):
            row.update(
                state=SmsState.CANCELLED.value,
                reason="opted_out",
                last_error=f"{row['to_e164']} opted out of SMS",
            )


def _stored(connection: Connection, keys: Sequence[str]) -> dict[str, Row[Any]]:
    found: dict[str, Row[Any]] = {}
    for start in range(0, len(keys), _CHUNK):
        query = select(MESSAGES).where(MESSAGES.c.idempotency_key.in_(keys[start : start + _CHUNK]))
        found.update({row.idempotency_key: row for row in connection.execute(query)})
    return found


_CHUNK = 1000


def _row(request: SmsRequest, now: datetime, rules: OutboxRules) -> dict[str, Any]:
    to, reason, error = _problem(request, rules)
    encoding, parts = segments(request.body or " ")
    return {
        "idempotency_key": request.key,
        "to_e164": to,
        "body": request.body,
        "segments": parts,
        "encoding": encoding.value,
        "marketing": request.marketing,
        "campaign_id": request.campaign_id,
        "lead_id": request.lead_id,
        "attempt_id": request.attempt_id,
        "provider": request.provider,
        "state": (SmsState.QUEUED if reason is None else SmsState.FAILED).value,
        "tries": 0,
        "next_try_at": request.due_at or now,
        "reason": reason,
        "last_error": error,
        "created_at": now,
        "sender": request.sender,
        "template_code": request.template_code,
        "params": dict(request.params),
        "sms_campaign_id": request.sms_campaign_id,
        "created_by": request.created_by,
        "preset": request.preset.value if request.preset is not None else None,
    }


def _problem(request: SmsRequest, rules: OutboxRules) -> tuple[str, str | None, str | None]:
    """The recipient's E.164 (or the number as given, cut to fit) and why it cannot be sent, if so."""
    try:
        number = typed_number(request.to, rules.region)
    except UserError as error:
        return request.to[:16], "invalid_number", error.message
    if not number.valid:
        return (
            number.e164,
            "invalid_number",
            f"{number.e164} is not a valid number (a digit too few or many?)",
        )
    if not number.takes_sms:
        return number.e164, "invalid_number", f"{number.e164} is a fixed line: it cannot receive SMS"
    if request.refused is not None:
        return number.e164, *request.refused
    if rules.providers is not None and request.provider not in rules.providers:
        known = ", ".join(sorted(rules.providers)) or "none"
        return (
            number.e164,
            "provider_not_configured",
            f"SMS provider {request.provider!r} is not configured (configured: {known})",
        )
    try:
        check_length(request.body, rules.max_segments)
    except UserError as error:
        return number.e164, "bad_text", error.message
    return number.e164, None, None


def _queued(stored: Row[Any], created: bool) -> QueuedSms:
    return QueuedSms(
        id=stored.id,
        key=stored.idempotency_key,
        to=stored.to_e164,
        state=SmsState(stored.state),
        segments=stored.segments,
        reason=stored.reason,
        error=stored.last_error,
        created=created,
    )


_CLAIM_COLUMNS = (
    MESSAGES.c.id,
    MESSAGES.c.idempotency_key,
    MESSAGES.c.to_e164,
    MESSAGES.c.body,
    MESSAGES.c.segments,
    MESSAGES.c.provider,
    MESSAGES.c.marketing,
    MESSAGES.c.tries,
    MESSAGES.c.sender,
    MESSAGES.c.template_code,
    MESSAGES.c.params,
    MESSAGES.c.preset,
    MESSAGES.c.lead_id,
    MESSAGES.c.campaign_id,
)


def claim_due(
    session: Session, holder: str, now: datetime, limit: int, claim_for: timedelta
) -> list[ClaimedSms]:
    """Up to `limit` due queued messages (the longest due), now `sending` under `holder`, in id order.

    The due messages are picked in a CTE, which PostgreSQL runs once: as an `IN (subquery)` of
    the UPDATE its planner may run the subquery again (the inner side of a join), and each run
    picks `limit` more messages past those the first one locked and updated."""
    due = (
        select(MESSAGES.c.id)
        .where(MESSAGES.c.state == SmsState.QUEUED.value, MESSAGES.c.next_try_at <= now)
        .order_by(MESSAGES.c.next_try_at, MESSAGES.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    claim = (
        update(MESSAGES)
        .where(MESSAGES.c.id.in_(select(due.c.id)))
        .values(
            state=SmsState.SENDING.value,
            claimed_by=holder,
            claimed_until=now + claim_for,
            tries=MESSAGES.c.tries + 1,
        )
        .returning(*_CLAIM_COLUMNS)
    )
    rows = session.connection().execute(claim).all()
    return sorted((_claimed(row) for row in rows), key=lambda message: message.id)


def _claimed(row: Row[Any]) -> ClaimedSms:
    return ClaimedSms(
        id=row.id,
        key=row.idempotency_key,
        to=row.to_e164,
        body=row.body,
        segments=row.segments,
        provider=row.provider,
        marketing=row.marketing,
        tries=row.tries,
        sender=row.sender,
        template_code=row.template_code,
        params=row.params or {},
        preset=CompliancePreset(row.preset) if row.preset else None,
        lead_id=row.lead_id,
        campaign_id=row.campaign_id,
    )


@dataclass(frozen=True, slots=True)
class Recovered:
    requeued: int
    failed: int


def recover_expired(session: Session, now: datetime, idempotent: Collection[str]) -> Recovered:
    """Settle the claims of senders that died (see the module docstring)."""
    expired = and_(MESSAGES.c.state == SmsState.SENDING.value, MESSAGES.c.claimed_until < now)
    locked = select(MESSAGES.c.id).where(expired).with_for_update(skip_locked=True)
    connection = session.connection()
    ids = list(connection.execute(locked).scalars())
    if not ids:
        return Recovered(0, 0)
    mine = MESSAGES.c.id.in_(ids)
    requeued = connection.execute(
        update(MESSAGES)
        .where(mine, MESSAGES.c.provider.in_(list(idempotent)))
        .values(state=SmsState.QUEUED.value, claimed_by=None, claimed_until=None, next_try_at=now)
    ).rowcount
    failed = connection.execute(
        update(MESSAGES)
        .where(mine, MESSAGES.c.state == SmsState.SENDING.value)
        .values(
            state=SmsState.FAILED.value,
            claimed_by=None,
            claimed_until=None,
            reason="unknown_outcome",
            last_error="its sender stopped while sending it; the provider has no idempotency keys,"
            " so it is not sent again (it may or may not have gone)",
        )
    ).rowcount
    return Recovered(requeued, failed)


_FINISH = (
    update(MESSAGES)
    .where(
        MESSAGES.c.id == bindparam("message_id"),
        MESSAGES.c.state == SmsState.SENDING.value,
        MESSAGES.c.claimed_by == bindparam("holder"),
    )
    .values(
        state=bindparam("new_state"),
        reason=bindparam("new_reason"),
        last_error=bindparam("new_error"),
        next_try_at=func.coalesce(
            bindparam("new_next_try_at", type_=MESSAGES.c.next_try_at.type), MESSAGES.c.next_try_at
        ),
        provider_message_id=bindparam("new_provider_message_id"),
        sent_at=bindparam("new_sent_at", type_=MESSAGES.c.sent_at.type),
        tries=MESSAGES.c.tries - bindparam("uncounted"),
        claimed_by=None,
        claimed_until=None,
    )
)


def finish(
    session: Session, holder: str, outcomes: Sequence[Finished], provider_of: Mapping[int, str]
) -> None:
    """Record `outcomes` of messages `holder` claimed, unless its claim was taken over meanwhile (a
    sender too slow for its claim: the new holder decides); then apply receipts waiting for the ids."""
    rows = [
        {
            "holder": holder,
            "message_id": outcome.id,
            "new_state": outcome.state.value,
            "new_reason": outcome.reason,
            "new_error": outcome.error,
            "new_next_try_at": outcome.next_try_at,
            "new_provider_message_id": outcome.provider_message_id,
            "new_sent_at": outcome.sent_at,
            "uncounted": 0 if outcome.count_try else 1,
        }
        for outcome in outcomes
    ]
    if not rows:
        return
    session.connection().execute(_FINISH, rows)
    accepted: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.provider_message_id is not None:
            accepted.setdefault(provider_of[outcome.id], []).append(outcome.provider_message_id)
    for provider, ids in accepted.items():
        receipts.apply_waiting(session, provider, ids)


def due_soon(session: Session, now: datetime) -> datetime | None:
    """When the next queued message falls due (None: nothing queued), so an idle sender can sleep."""
    query = select(func.min(MESSAGES.c.next_try_at)).where(MESSAGES.c.state == SmsState.QUEUED.value)
    return session.connection().execute(query).scalar()
