"""Delivery receipts and replies (SMS-6) on SQLite and PostgreSQL: applied once, opt-outs at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from campaigns.persistence.db import Database
from campaigns.persistence.models import AuditEntry, ContactList, Lead, SmsOptOut, SmsReceipt, SmsReply
from campaigns.persistence.models.enums import SmsState
from sms.optout import DEFAULT_OPT_OUT_KEYWORDS
from sms.providers.base import InboundReply, Receipt, ReceiptStatus
from sms.receipts import ReplyOutcome, record_receipts, record_replies
from tests.db.rows import Seed
from tests.db.sms_rows import NOW, add_lead, add_message, count, message, messages

T1, T2, T3 = (NOW + timedelta(seconds=n) for n in (10, 20, 30))
RECEIVED = NOW + timedelta(minutes=1)


def _sent(database: Database, provider_message_id: str = "p-1", provider: str = "sim") -> int:
    with database.session() as session:
        return add_message(
            session,
            f"k-{provider}-{provider_message_id}",
            state=SmsState.SENT,
            provider=provider,
            provider_message_id=provider_message_id,
            sent_at=NOW,
            tries=1,
        )


def _receive(database: Database, *receipts: Receipt, provider: str = "sim") -> int:
    return database.in_transaction(record_receipts, provider, list(receipts), RECEIVED)


def _kept(database: Database) -> list[tuple[Any, ...]]:
    with database.session() as session:
        return [
            (r.provider, r.provider_message_id, r.status, r.error, r.reported_at, r.received_at, r.applied)
            for r in session.scalars(select(SmsReceipt).order_by(SmsReceipt.id))
        ]


# --- receipts ----------------------------------------------------------------------------------------


def test_delivered_ends_a_sent_message_at_the_reported_time(database: Database) -> None:
    sent = _sent(database)
    assert _receive(database, Receipt("p-1", ReceiptStatus.DELIVERED, at=T1)) == 1
    row = message(database, sent)
    assert (row.state, row.delivered_at, row.reason, row.last_error, row.sent_at) == (
        SmsState.DELIVERED,
        T1,
        None,
        None,
        NOW,
    )
    assert _kept(database) == [("sim", "p-1", "delivered", None, T1, RECEIVED, True)]


def test_a_receipt_without_a_time_delivers_at_its_arrival(database: Database) -> None:
    sent = _sent(database)
    assert _receive(database, Receipt("p-1", ReceiptStatus.DELIVERED)) == 1
    assert message(database, sent).delivered_at == RECEIVED


def test_duplicate_delivered_receipts_change_nothing_more(database: Database) -> None:
    sent = _sent(database)
    assert _receive(database, Receipt("p-1", ReceiptStatus.DELIVERED, at=T1)) == 1
    before = message(database, sent)
    assert _receive(database, Receipt("p-1", ReceiptStatus.DELIVERED, at=T2)) == 0
    assert (
        _receive(
            database,
            Receipt("p-1", ReceiptStatus.DELIVERED, at=T3),
            Receipt("p-1", ReceiptStatus.DELIVERED, at=T3),
        )
        == 0
    )
    assert message(database, sent) == before
    assert [(status, at, applied) for _, _, status, _, at, _, applied in _kept(database)] == [
        ("delivered", T1, True),
        ("delivered", T2, True),
        ("delivered", T3, True),
        ("delivered", T3, True),
    ]


def test_sent_after_delivered_stays_delivered(database: Database) -> None:
    first, second = _sent(database, "p-1"), _sent(database, "p-2")
    assert _receive(database, Receipt("p-1", ReceiptStatus.DELIVERED, at=T2)) == 1
    assert _receive(database, Receipt("p-1", ReceiptStatus.SENT, at=T1)) == 0
    # the same, out of order within one call
    assert (
        _receive(
            database,
            Receipt("p-2", ReceiptStatus.DELIVERED, at=T2),
            Receipt("p-2", ReceiptStatus.SENT, at=T1),
        )
        == 1
    )
    for sent in (first, second):
        row = message(database, sent)
        assert (row.state, row.delivered_at) == (SmsState.DELIVERED, T2)
    assert [applied for *_, applied in _kept(database)] == [True, True, True, True]


def test_a_sent_receipt_changes_no_state(database: Database) -> None:
    sent = _sent(database)
    assert _receive(database, Receipt("p-1", ReceiptStatus.SENT, at=T1)) == 0
    assert (message(database, sent).state, message(database, sent).delivered_at) == (SmsState.SENT, None)
    assert _kept(database) == [("sim", "p-1", "sent", None, T1, RECEIVED, True)]


def test_the_first_final_status_wins(database: Database) -> None:
    delivered_first, failed_first = _sent(database, "p-1"), _sent(database, "p-2")
    assert _receive(database, Receipt("p-1", ReceiptStatus.DELIVERED, at=T1)) == 1
    assert _receive(database, Receipt("p-1", ReceiptStatus.FAILED, error="UNDELIV", at=T2)) == 0
    assert (
        _receive(
            database,
            Receipt("p-2", ReceiptStatus.FAILED, error="EXPIRED", at=T1),
            Receipt("p-2", ReceiptStatus.DELIVERED, at=T2),
        )
        == 1
    )
    one, two = message(database, delivered_first), message(database, failed_first)
    assert (one.state, one.delivered_at, one.reason, one.last_error) == (SmsState.DELIVERED, T1, None, None)
    assert (two.state, two.delivered_at, two.reason, two.last_error) == (
        SmsState.FAILED,
        None,
        "undelivered",
        "EXPIRED",
    )


def test_failed_ends_a_sent_message_undelivered_with_the_error(database: Database) -> None:
    with_error, without_error = _sent(database, "p-1"), _sent(database, "p-2")
    changed = _receive(
        database,
        Receipt("p-1", ReceiptStatus.FAILED, error="MK:0001 用户关机", at=T1),
        Receipt("p-2", ReceiptStatus.FAILED, at=T1),
    )
    assert changed == 2
    one, two = message(database, with_error), message(database, without_error)
    assert (one.state, one.reason, one.last_error, one.delivered_at) == (
        SmsState.FAILED,
        "undelivered",
        "MK:0001 用户关机",
        None,
    )
    assert (two.state, two.reason, two.last_error) == (
        SmsState.FAILED,
        "undelivered",
        "the provider reports it undelivered",
    )
    assert _kept(database) == [
        ("sim", "p-1", "failed", "MK:0001 用户关机", T1, RECEIVED, True),
        ("sim", "p-2", "failed", None, T1, RECEIVED, True),
    ]


def test_a_receipt_for_an_unknown_message_is_kept_unapplied(database: Database) -> None:
    sent = _sent(database, "p-1", provider="aliyun")
    assert _receive(database, Receipt("p-1", ReceiptStatus.DELIVERED, at=T1), provider="sim") == 0
    assert _receive(database, Receipt("p-404", ReceiptStatus.DELIVERED, at=T1), provider="aliyun") == 0
    assert message(database, sent).state is SmsState.SENT  # another provider's p-1
    assert [(provider, pid, applied) for provider, pid, *_, applied in _kept(database)] == [
        ("sim", "p-1", False),
        ("aliyun", "p-404", False),
    ]
    # a later receipt of the known message applies, and leaves the others waiting
    assert _receive(database, Receipt("p-1", ReceiptStatus.DELIVERED, at=T2), provider="aliyun") == 1
    assert [applied for *_, applied in _kept(database)] == [False, False, True]


def test_receipts_do_not_end_messages_that_are_not_open(database: Database) -> None:
    with database.session() as session:
        cancelled = add_message(session, "c", state=SmsState.CANCELLED, provider_message_id="p-1")
        failed = add_message(
            session, "f", state=SmsState.FAILED, provider_message_id="p-2", reason="rejected"
        )
    assert (
        _receive(
            database,
            Receipt("p-1", ReceiptStatus.DELIVERED, at=T1),
            Receipt("p-2", ReceiptStatus.DELIVERED, at=T1),
        )
        == 0
    )
    assert message(database, cancelled).state is SmsState.CANCELLED
    assert (message(database, failed).state, message(database, failed).delivered_at) == (
        SmsState.FAILED,
        None,
    )
    assert [applied for *_, applied in _kept(database)] == [True, True]


# --- replies -----------------------------------------------------------------------------------------

CUSTOMER = "+8613800138000"  # the seed's lead
OTHER = "+8613900139000"


def _numbers_messages(database: Database, seed: Seed) -> dict[str, int]:
    """Messages to the customer and to another number, in every state that matters; ids by key."""
    with database.session() as session:
        add_lead(session, seed.list_id, "+8613800138001")
        other_list = ContactList(name="另一个名单", source_file="b.csv", imported_at=NOW)
        session.add(other_list)
        session.flush()
        session.add(Lead(list_id=other_list.id, e164=CUSTOMER, raw_input=CUSTOMER, next_attempt_at=NOW))
        session.flush()
        ids = {
            "marketing": add_message(session, "marketing", to=CUSTOMER, marketing=True),
            "hangup": add_message(session, "hangup", to=CUSTOMER, next_try_at=NOW + timedelta(hours=1)),
            "sent": add_message(
                session, "sent", to=CUSTOMER, state=SmsState.SENT, provider_message_id="p-1", sent_at=NOW
            ),
            "sending": add_message(
                session, "sending", to=CUSTOMER, state=SmsState.SENDING, claimed_by="s", tries=1
            ),
            "other": add_message(session, "other", to=OTHER),
        }
    return ids


@pytest.mark.parametrize(("text", "keyword"), [("退订", "退订"), (" td ", "TD"), ("请帮我退订", "退订")])
def test_an_opt_out_reply_opts_the_number_out_at_once(
    database: Database, seed: Seed, text: str, keyword: str
) -> None:
    ids = _numbers_messages(database, seed)
    before = {row.id: row for row in messages(database)}
    reply = InboundReply(CUSTOMER, text, to="106900001234", provider_message_id="mo-1", at=NOW)
    outcomes = database.in_transaction(record_replies, "sim", [reply], DEFAULT_OPT_OUT_KEYWORDS, RECEIVED)
    assert outcomes == [ReplyOutcome(CUSTOMER, keyword, 2)]
    with database.session() as session:
        opt_outs = [(o.e164, o.keyword, o.source, o.at) for o in session.scalars(select(SmsOptOut))]
        leads = {(lead.e164, lead.list_id): lead.sms_opt_out for lead in session.scalars(select(Lead))}
        replies = [
            (r.provider, r.from_e164, r.to, r.text, r.opt_out_keyword, r.provider_message_id, r.received_at)
            for r in session.scalars(select(SmsReply))
        ]
        audit = [
            (a.at, a.actor, a.action, a.entity, a.entity_id, a.details)
            for a in session.scalars(select(AuditEntry))
        ]
    assert opt_outs == [(CUSTOMER, keyword, "sms_reply", RECEIVED)]
    assert leads == {
        (CUSTOMER, seed.list_id): True,
        (CUSTOMER, seed.list_id + 1): True,
        ("+8613800138001", seed.list_id): False,
    }
    assert replies == [("sim", CUSTOMER, "106900001234", text, keyword, "mo-1", RECEIVED)]
    assert audit == [
        (
            RECEIVED,
            "sim",
            "sms_opt_out.add",
            "sms_opt_out",
            CUSTOMER,
            {"keyword": keyword, "source": "sms_reply"},
        )
    ]
    after = {row.id: row for row in messages(database)}
    for key in ("marketing", "hangup"):
        row = after[ids[key]]
        assert (row.state, row.reason, row.last_error) == (
            SmsState.CANCELLED,
            "opted_out",
            f"{CUSTOMER} opted out of SMS",
        )
    for key in ("sent", "sending", "other"):
        assert after[ids[key]] == before[ids[key]]


def test_a_second_opt_out_reply_does_not_duplicate_the_opt_out(database: Database, seed: Seed) -> None:
    first = InboundReply(CUSTOMER, "TD")
    outcomes = database.in_transaction(
        record_replies, "sim", [first, InboundReply(CUSTOMER, "退订")], DEFAULT_OPT_OUT_KEYWORDS, NOW
    )
    assert outcomes == [ReplyOutcome(CUSTOMER, "TD", 0), ReplyOutcome(CUSTOMER, "退订", 0)]
    with database.session() as session:  # queued after the opt-out (say by a hang-up rule)
        late = add_message(session, "late", to=CUSTOMER)
    outcomes = database.in_transaction(
        record_replies, "aliyun", [InboundReply(CUSTOMER, "STOP")], DEFAULT_OPT_OUT_KEYWORDS, RECEIVED
    )
    assert outcomes == [ReplyOutcome(CUSTOMER, "STOP", 1)]
    assert message(database, late).state is SmsState.CANCELLED
    with database.session() as session:
        opt_outs = [(o.e164, o.keyword, o.at) for o in session.scalars(select(SmsOptOut))]
        keywords = [r.opt_out_keyword for r in session.scalars(select(SmsReply).order_by(SmsReply.id))]
    assert opt_outs == [(CUSTOMER, "TD", NOW)]
    assert keywords == ["TD", "退订", "STOP"]
    assert count(database, AuditEntry) == 1


def test_a_reply_that_is_no_opt_out_is_only_kept(database: Database, seed: Seed) -> None:
    _numbers_messages(database, seed)
    before = messages(database)
    outcomes = database.in_transaction(
        record_replies, "sim", [InboundReply(CUSTOMER, "谢谢")], DEFAULT_OPT_OUT_KEYWORDS, RECEIVED
    )
    assert outcomes == [ReplyOutcome(CUSTOMER, None, 0)]
    with database.session() as session:
        replies = [(r.from_e164, r.text, r.opt_out_keyword) for r in session.scalars(select(SmsReply))]
        opted_out_leads = session.scalars(select(Lead.id).where(Lead.sms_opt_out.is_(True))).all()
    assert replies == [(CUSTOMER, "谢谢", None)]
    assert opted_out_leads == []
    assert count(database, SmsOptOut) == 0
    assert count(database, AuditEntry) == 0
    assert messages(database) == before
