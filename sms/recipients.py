"""What the send-time rules need to know about a batch of recipients, read in a few queries.

For each number of a claimed batch: whether it opted out of SMS, whether it is blacklisted (a
blacklist entry in force, global or for the message's campaign: 黑名单 blocks SMS as well as calls;
DNC entries are about calls and do not), whether it consented to marketing, its time zones (its
lead's, else phonenumbers' for the number), and when messages of each class (marketing or not)
were last sent to it over the past 7 days, for the frequency caps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.compliance.blocklist_store import entries_for_numbers
from campaigns.numbers import typed_number
from campaigns.persistence.models import Lead, SmsConsent, SmsMessage, SmsOptOut
from campaigns.persistence.models.enums import BlockKind, SmsState
from ringcast.errors import UserError
from sms.outbox import ClaimedSms

CAP_WINDOW = timedelta(days=7)
_SENT = (SmsState.SENDING, SmsState.SENT, SmsState.DELIVERED)


@dataclass(frozen=True, slots=True)
class NumberFacts:
    opted_out: bool
    blacklist: str | None  # the entry that blocks it, described; None: not blacklisted
    consented: bool
    zones: tuple[ZoneInfo, ...]
    recent_sends: dict[bool, list[datetime]]  # marketing? -> sent times over the past 7 days


def facts_for(session: Session, batch: Sequence[ClaimedSms], now: datetime) -> dict[str, NumberFacts]:
    """The facts of every number in `batch`, by E.164."""
    numbers = sorted({message.to for message in batch})
    opted_out = set(session.scalars(select(SmsOptOut.e164).where(SmsOptOut.e164.in_(numbers))))
    consented = set(session.scalars(select(SmsConsent.e164).where(SmsConsent.e164.in_(numbers))))
    lead_zones = _lead_zones(session, {message.lead_id for message in batch if message.lead_id is not None})
    recent = _recent_sends(session, numbers, now, {message.id for message in batch})
    blocks = entries_for_numbers(session.connection(), numbers)
    campaigns_of: dict[str, set[int]] = defaultdict(set)
    zones_of: dict[str, tuple[str, ...]] = {}
    for message in batch:
        if message.campaign_id is not None:
            campaigns_of[message.to].add(message.campaign_id)
        zones = lead_zones.get(message.lead_id) if message.lead_id is not None else None
        if zones:
            zones_of[message.to] = zones
    facts = {}
    for e164 in numbers:
        blocking = [
            entry
            for entry in blocks[e164]
            if entry.kind is BlockKind.BLACKLIST and entry.applies(campaigns_of[e164], now)
        ]
        facts[e164] = NumberFacts(
            opted_out=e164 in opted_out,
            blacklist=blocking[0].describe() if blocking else None,
            consented=e164 in consented,
            zones=tuple(ZoneInfo(name) for name in zones_of.get(e164) or _number_zones(e164)),
            recent_sends=recent[e164],
        )
    return facts


def _lead_zones(session: Session, lead_ids: set[int]) -> dict[int, tuple[str, ...]]:
    if not lead_ids:
        return {}
    rows = session.execute(select(Lead.id, Lead.time_zones).where(Lead.id.in_(lead_ids)))
    return {lead_id: tuple(zones or ()) for lead_id, zones in rows}


def _recent_sends(
    session: Session, numbers: Sequence[str], now: datetime, batch_ids: set[int]
) -> dict[str, dict[bool, list[datetime]]]:
    query = select(SmsMessage.id, SmsMessage.to_e164, SmsMessage.marketing, SmsMessage.sent_at).where(
        SmsMessage.to_e164.in_(numbers),
        SmsMessage.state.in_(_SENT),
        or_(SmsMessage.sent_at >= now - CAP_WINDOW, SmsMessage.state == SmsState.SENDING),
    )
    recent: dict[str, dict[bool, list[datetime]]] = {e164: {True: [], False: []} for e164 in numbers}
    for message_id, e164, marketing, sent_at in session.execute(query):
        if message_id in batch_ids:
            continue  # the batch's own claims are not earlier sends
        at = sent_at or now  # `sending` under another sender's claim: going now
        if at >= now - CAP_WINDOW:
            recent[e164][marketing].append(at)
    return recent


@lru_cache(maxsize=65_536)
def _number_zones(e164: str) -> tuple[str, ...]:
    try:
        return typed_number(e164, "ZZ").zones
    except UserError:
        return ()
