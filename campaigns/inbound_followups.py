"""What follows the end of an inbound call, in the transaction that records it
(`inbound_store.end_call`): its number's hang-up SMS (SMS-1) and, for a missed call, the call back
its number asks for (CB-2).

A missed call (`MISSED_INBOUND`: the caller hung up waiting, went to voicemail, or the call was
lost) to a number with a `missed_callback_campaign` becomes a callback of that campaign for the
caller, `missed_callback_after_s` after the call ended: on the caller's lead in the campaign's lists,
else a lead of the campaign's own `manual-<campaign>` list (`hopper.lead_of_number`), with the
number's time zones, so the callback is dialled inside the caller's calling hours. An earlier
pending callback of the lead stays earlier; a lead on a call or blocked gets none (the dial-time
checks, DNC included, apply to the callback as to any call). A caller whose number is not a valid
E.164 number (withheld, malformed) cannot be called back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns import campaign_store, dial_store, hopper
from campaigns.number_facts import E164_ONLY, number_facts
from campaigns.persistence.models import Campaign, InboundCall, InboundNumber
from campaigns.persistence.models.enums import MISSED_INBOUND
from sms import hangup

log = logging.getLogger(__name__)
ACTOR = "missed_inbound_call"


def after_inbound_call(session: Session, call: InboundCall, now: datetime) -> None:
    """The call has just ended (its outcome and end are set): SMS, and a callback when missed. In a
    savepoint: a follow-up that fails is logged and undone, never the call's end with it."""
    try:
        with session.begin_nested():
            hangup.fire_inbound(session, call, now)
            if call.outcome in MISSED_INBOUND:
                call_back_missed(session, call, now)
    except Exception:
        log.exception("inbound call %s: its hang-up SMS and callback could not be written", call.id)


def call_back_missed(session: Session, call: InboundCall, now: datetime) -> bool:
    """The callback the number called asks for (see the module docstring); whether one is set."""
    number = session.scalar(select(InboundNumber).where(InboundNumber.did == call.did))
    if number is None or number.missed_callback_campaign_id is None:
        return False
    zones = _time_zones(call.caller)
    if zones is None:
        log.info("inbound call %s: caller %r cannot be called back", call.id, call.caller)
        return False
    row = session.get_one(Campaign, number.missed_callback_campaign_id)
    campaign = campaign_store.config_of(session, row)
    lead = hopper.lead_of_number(session, campaign, call.caller, zones, now)
    due = (call.ended_at or now) + timedelta(seconds=number.missed_callback_after_s)
    return dial_store.call_back_lead(session, campaign, lead, due, now, ACTOR)


def _time_zones(caller: str) -> tuple[str, ...] | None:
    """The zones of a valid E.164 number, None for anything else."""
    facts = number_facts(caller, E164_ONLY)
    return None if facts is None else facts.place.time_zones
