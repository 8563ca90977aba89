"""What providers tell us after sending: delivery receipts (DLR) and customers' replies (MO, SMS-6).

Receipts come late, twice, or out of order ("delivered" before "sent"), and may even arrive before
the sender has recorded the provider's message id. So every receipt is first kept as it came
(`sms_receipts`), then applied to its message when the message is known: a final status
(`delivered`, `failed`) ends a `sent` message (or a `sending` one whose id is known); the first
final status wins and later ones change nothing; `sent` receipts change no state. A receipt whose
message is not known yet stays unapplied until `apply_waiting` is called with its id (the outbox
does that when it records the id).

A reply is kept too; one that says 退订 / TD / STOP (`sms.optout`) puts its number on the SMS
opt-out list at once, marks the number's leads, cancels its queued messages and is written to the
audit log, all in the transaction that stores the reply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.agent_store import audit
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.models import Base, Lead, SmsMessage, SmsOptOut, SmsReceipt, SmsReply
from campaigns.persistence.models.enums import SmsState
from campaigns.persistence.models.leads import with_number
from sms.optout import opt_out_keyword
from sms.providers.base import InboundReply, Receipt, ReceiptStatus

_OPEN = (SmsState.SENDING, SmsState.SENT)  # states a final receipt may end
_FINAL = {ReceiptStatus.DELIVERED: SmsState.DELIVERED, ReceiptStatus.FAILED: SmsState.FAILED}


def record_receipts(session: Session, provider: str, receipts: Iterable[Receipt], now: datetime) -> int:
    """Keep `receipts` and apply those whose message is known; how many changed a message."""
    stored = [
        SmsReceipt(
            provider=provider,
            provider_message_id=receipt.provider_message_id,
            status=receipt.status.value,
            error=receipt.error,
            reported_at=receipt.at,
            received_at=now,
        )
        for receipt in receipts
    ]
    session.add_all(stored)
    session.flush()
    return apply_waiting(session, provider, sorted({receipt.provider_message_id for receipt in stored}))


def apply_waiting(session: Session, provider: str, provider_message_ids: Sequence[str]) -> int:
    """Apply the unapplied receipts of these messages, oldest first; how many changed a message."""
    if not provider_message_ids:
        return 0
    waiting = session.scalars(
        select(SmsReceipt)
        .where(
            SmsReceipt.provider == provider,
            SmsReceipt.provider_message_id.in_(provider_message_ids),
            SmsReceipt.applied.is_(False),
        )
        .order_by(SmsReceipt.id)
    ).all()
    if not waiting:
        return 0
    messages = {
        message.provider_message_id: message
        for message in session.scalars(
            select(SmsMessage).where(
                SmsMessage.provider == provider,
                SmsMessage.provider_message_id.in_({receipt.provider_message_id for receipt in waiting}),
            )
        )
    }
    changed = 0
    for receipt in waiting:
        message = messages.get(receipt.provider_message_id)
        if message is None:
            continue  # its message's id is not recorded yet
        receipt.applied = True
        final = _FINAL.get(ReceiptStatus(receipt.status))
        if final is None or message.state not in _OPEN:
            continue
        message.state = final
        if final is SmsState.DELIVERED:
            message.delivered_at = receipt.reported_at or receipt.received_at
        else:
            message.reason = "undelivered"
            message.last_error = receipt.error or "the provider reports it undelivered"
        changed += 1
    return changed


def apply_all_waiting(session: Session, now: datetime, within: timedelta = timedelta(days=1)) -> int:
    """`apply_waiting` for every receipt of the last `within` still waiting; how many changed a message.

    A receipt and its message's id can be written by two transactions at once (the webhook's and
    the sender's), each blind to the other's row until it commits; the sender sweeps them up so.
    """
    rows = session.execute(
        select(SmsReceipt.provider, SmsReceipt.provider_message_id)
        .where(SmsReceipt.applied.is_(False), SmsReceipt.received_at >= now - within)
        .distinct()
    ).all()
    by_provider: dict[str, list[str]] = {}
    for provider, message_id in rows:
        by_provider.setdefault(provider, []).append(message_id)
    return sum(apply_waiting(session, provider, sorted(ids)) for provider, ids in by_provider.items())


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    from_e164: str
    opt_out_keyword: str | None  # the keyword it matched; None: not an opt-out
    cancelled: int  # queued messages to the number cancelled by it


def record_replies(
    session: Session, provider: str, replies: Iterable[InboundReply], keywords: Sequence[str], now: datetime
) -> list[ReplyOutcome]:
    """Keep `replies`; opt out (at once) the numbers whose reply is an opt-out keyword."""
    outcomes = []
    for reply in replies:
        keyword = opt_out_keyword(reply.text, keywords)
        session.add(
            SmsReply(
                provider=provider,
                from_e164=reply.from_e164,
                to=reply.to,
                text=reply.text,
                opt_out_keyword=keyword,
                provider_message_id=reply.provider_message_id,
                received_at=now,
            )
        )
        cancelled = 0
        if keyword is not None:
            cancelled = opt_out(
                session, reply.from_e164, keyword=keyword, source="sms_reply", actor=provider, now=now
            )
        outcomes.append(ReplyOutcome(reply.from_e164, keyword, cancelled))
    return outcomes


def opt_out(session: Session, e164: str, keyword: str | None, source: str, actor: str, now: datetime) -> int:
    """Put `e164` on the SMS opt-out list (if not there yet) and cancel its queued messages; how many."""
    if session.scalar(select(SmsOptOut.id).where(SmsOptOut.e164 == e164)) is None:
        session.add(SmsOptOut(e164=e164, keyword=keyword, source=source, at=now))
        audit(
            session,
            Change(actor, now),
            "sms_opt_out.add",
            "sms_opt_out",
            e164,
            keyword=keyword,
            source=source,
        )
    session.execute(
        update(Lead).where(with_number(e164), Lead.sms_opt_out.is_(False)).values(sms_opt_out=True)
    )
    result = session.connection().execute(
        update(Base.metadata.tables["sms_messages"])
        .where(SmsMessage.to_e164 == e164, SmsMessage.state == SmsState.QUEUED)
        .values(state=SmsState.CANCELLED, reason="opted_out", last_error=f"{e164} opted out of SMS")
    )
    return result.rowcount
