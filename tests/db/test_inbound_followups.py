"""What follows an inbound call's end (SMS-1 and CB-2 for inbound), on SQLite and PostgreSQL: the
hang-up SMS of the number called and, for a missed call, the callback its number asks for, written
in the transaction that ends the call, once, and never for a caller who was served."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns import inbound_store, ivr_store
from campaigns.compliance.blocklist_store import Change
from campaigns.inbound_store import InboundOutcome
from campaigns.persistence.db import Database
from campaigns.persistence.models import Callback, ContactList, InboundCall, Lead, SmsMessage
from campaigns.persistence.models.enums import CallbackState, LeadState, SmsEncoding, SmsState
from dialer.ivr.did_plan import DidPlan
from ringcast.errors import UserError
from sms import hangup
from sms.hangup_rules import RuleTrigger, Trigger
from tests.db.test_dial_store import NOW, add_list, create, number, row
from tests.db.test_sms_hangup import template

pytestmark = pytest.mark.db

HOTLINE = "+864001234567"
CHANGE = Change("li.wei", NOW)


def inbound_rule(database: Database, name: str, trigger: Trigger, template_name: str) -> None:
    database.in_transaction(
        hangup.save_rule,
        name,
        RuleTrigger(trigger),
        template_name,
        campaign=None,
        inbound_number=HOTLINE,
        delay_s=60,
        provider=None,
        sender=None,
        actor="li.wei",
        now=NOW,
    )


@pytest.fixture
def hotline(database: Database) -> None:
    """Lead 1 in the callback campaign's list; the hotline's missed calls are called back 5 min
    after by that campaign; an SMS rule for answered and one for missed calls."""
    add_list(database, "leads", row(1, state=LeadState.DONE, due=None))
    create(database, "回拨")
    callback = ivr_store.MissedCallback("回拨", 300)
    ivr_store.set_number(database, HOTLINE, DidPlan(), CHANGE, missed_callback=callback)
    template(database, "thanks", "感谢来电，客服工号{agent|}")
    template(database, "missed", "抱歉错过您的来电，我们将尽快回电，或请拨{callback_number}")
    inbound_rule(database, "in-answered", Trigger.INBOUND_ANSWERED, "thanks")
    inbound_rule(database, "in-missed", Trigger.INBOUND_MISSED, "missed")


def call(database: Database, caller: str, outcome: InboundOutcome, uniqueid: str = "1700000000.1") -> int:
    """An inbound call to the hotline from `caller`, ended 2 minutes after NOW with `outcome`."""
    call_id = inbound_store.open_call(
        database, uniqueid=uniqueid, linkedid=None, did=HOTLINE, caller=caller, region="广东", arrived_at=NOW
    )
    inbound_store.end_call(database, call_id, NOW + timedelta(minutes=2), outcome)
    return call_id


def outbox(database: Database) -> list[tuple[str, str, str, SmsState]]:
    with database.session() as session:
        found = session.scalars(select(SmsMessage).order_by(SmsMessage.id))
        return [(m.idempotency_key, m.to_e164, m.body, m.state) for m in found]


def callbacks(database: Database) -> list[tuple[str, str, LeadState, CallbackState, object]]:
    """(list, number, lead state, callback state, due) of every callback."""
    with database.session() as session:
        rows = session.execute(
            select(ContactList.name, Lead.e164, Lead.state, Callback.state, Callback.due_at)
            .join(Lead, Lead.id == Callback.lead_id)
            .join(ContactList, ContactList.id == Lead.list_id)
            .order_by(Callback.id)
        )
        return [tuple(found) for found in rows]


def test_a_missed_call_from_a_new_number_is_called_back_and_gets_its_sms(
    database: Database, hotline: None
) -> None:
    caller = number(7)
    missed = call(database, caller, InboundOutcome.ABANDONED)
    due = NOW + timedelta(minutes=2) + timedelta(seconds=300)
    assert callbacks(database) == [("manual-回拨", caller, LeadState.CALLBACK, CallbackState.PENDING, due)]
    with database.session() as session:
        lead = session.scalars(select(Lead).where(Lead.e164 == caller)).one()
        assert lead.time_zones == ["Asia/Shanghai"]  # dialled inside the caller's calling hours
    (message,) = outbox(database)
    assert message == (
        f"hangup-sms:{_rule_id(database, 'in-missed')}:inbound:{missed}",
        caller,
        f"抱歉错过您的来电，我们将尽快回电，或请拨{HOTLINE}",
        SmsState.QUEUED,
    )
    inbound_store.end_call(database, missed, NOW + timedelta(minutes=9), InboundOutcome.FAILED)
    assert len(outbox(database)) == 1 and len(callbacks(database)) == 1  # ended once, followed up once


def test_a_known_caller_is_called_back_on_its_own_lead_and_voicemail_counts_as_missed(
    database: Database, hotline: None
) -> None:
    call(database, number(1), InboundOutcome.OVERFLOWED_VOICEMAIL)
    due = NOW + timedelta(minutes=7)
    assert callbacks(database) == [("leads", number(1), LeadState.CALLBACK, CallbackState.PENDING, due)]


def test_served_refused_and_self_service_calls_are_not_missed(database: Database, hotline: None) -> None:
    answered = call(database, number(2), InboundOutcome.ANSWERED, "1.1")
    call(database, number(3), InboundOutcome.REFUSED, "1.2")  # blacklisted: never texted or called
    call(database, number(4), InboundOutcome.IVR_ONLY, "1.3")
    call(database, number(5), InboundOutcome.OVERFLOWED_NUMBER, "1.4")
    assert callbacks(database) == []
    assert outbox(database) == [
        (
            f"hangup-sms:{_rule_id(database, 'in-answered')}:inbound:{answered}",
            number(2),
            "感谢来电，客服工号",
            SmsState.QUEUED,
        )
    ]


def test_a_withheld_number_or_a_number_without_the_setting_gets_no_callback(
    database: Database, hotline: None
) -> None:
    call(database, "anonymous", InboundOutcome.ABANDONED, "1.1")
    assert callbacks(database) == []
    (message,) = outbox(database)
    assert (message[1], message[3]) == ("anonymous", SmsState.FAILED)  # never a silent drop
    ivr_store.set_number(database, HOTLINE, DidPlan(), CHANGE, missed_callback=None)
    assert ivr_store.get_number(database, HOTLINE).missed_callback is None  # type: ignore[union-attr]
    call(database, number(8), InboundOutcome.ABANDONED, "1.2")
    assert callbacks(database) == []


def test_an_inbound_rule_refuses_a_marketing_template(database: Database, hotline: None) -> None:
    template(database, "promo", "双十二大促", marketing=True)
    with pytest.raises(UserError, match="transactional"):
        inbound_rule(database, "promo", Trigger.INBOUND_MISSED, "promo")


def _rule_id(database: Database, name: str) -> int:
    return next(rule.id for rule, _, _ in database.in_transaction(hangup.list_rules) if rule.name == name)


def test_a_failing_follow_up_is_undone_alone_never_the_calls_end(
    database: Database, hotline: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[int] = []

    def broken(*args: object) -> bool:
        raise RuntimeError("the callback campaign's settings cannot be read")

    def half_written(session: Session, call: InboundCall, now: object) -> int:
        message = SmsMessage(idempotency_key="half", to_e164=call.caller, body="x", provider="default")
        message.segments, message.encoding = 1, SmsEncoding.GSM7
        session.add(message)
        session.flush()  # written, then undone with the savepoint
        flushed.append(call.id)
        return 1

    monkeypatch.setattr(hangup, "fire_inbound", half_written)
    monkeypatch.setattr("campaigns.inbound_followups.call_back_missed", broken)
    missed = call(database, number(7), InboundOutcome.ABANDONED)
    assert flushed == [missed]
    with database.session() as session:
        row = session.get_one(InboundCall, missed)
        assert (row.outcome, row.ended_at) == (InboundOutcome.ABANDONED, NOW + timedelta(minutes=2))
    assert outbox(database) == [] and callbacks(database) == []  # the half-written follow-up is gone
