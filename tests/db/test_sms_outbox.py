"""The SMS outbox (SMS-8) on SQLite and PostgreSQL: queue once, claim due rows, recover claims, finish."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.persistence.db import Database
from campaigns.persistence.models import SmsMessage, SmsReceipt
from campaigns.persistence.models.enums import CompliancePreset, SmsState
from sms import outbox
from sms.outbox import ClaimedSms, Finished, QueuedSms, Recovered
from sms.providers.base import Receipt, ReceiptStatus
from sms.receipts import record_receipts
from tests.db.sms_rows import MOBILE, NOW, RULES, add_message, count, message, messages, request

CLAIM_FOR = timedelta(minutes=2)
LANDLINE_ERROR = "+861012345678 is a fixed line: it cannot receive SMS"


def queued(id: int, key: str, to: str = MOBILE, segments: int = 1, *, created: bool = True) -> QueuedSms:
    return QueuedSms(id, key, to, SmsState.QUEUED, segments, None, None, created)


def failed(
    id: int, key: str, to: str, reason: str, error: str, segments: int = 1, *, created: bool = True
) -> QueuedSms:
    return QueuedSms(id, key, to, SmsState.FAILED, segments, reason, error, created)


# --- queue -------------------------------------------------------------------------------------------


def test_a_chinese_mobile_is_queued_with_its_parts_and_encoding(database: Database) -> None:
    body = "中" * 71  # UCS-2: one part holds 70, so two parts of 67
    answer = database.in_transaction(
        outbox.queue,
        request(
            "otp:1",
            body=body,
            provider="aliyun",
            sender="华信",
            template_code="SMS_1",
            params={"code": "1234"},
            preset=CompliancePreset.CN,
            created_by="alice",
            due_at=NOW + timedelta(hours=1),
        ),
        NOW,
        RULES,
    )
    assert answer == queued(1, "otp:1", segments=2)
    row = message(database, 1)
    assert row._asdict() | {"id": 0} == {
        "id": 0,
        "idempotency_key": "otp:1",
        "to_e164": MOBILE,
        "body": body,
        "segments": 2,
        "encoding": "ucs2",
        "marketing": False,
        "campaign_id": None,
        "lead_id": None,
        "attempt_id": None,
        "provider": "aliyun",
        "state": SmsState.QUEUED,
        "tries": 0,
        "next_try_at": NOW + timedelta(hours=1),
        "provider_message_id": None,
        "last_error": None,
        "created_at": NOW,
        "sent_at": None,
        "delivered_at": None,
        "reason": None,
        "claimed_by": None,
        "claimed_until": None,
        "sender": "华信",
        "template_code": "SMS_1",
        "params": {"code": "1234"},
        "sms_campaign_id": None,
        "created_by": "alice",
        "preset": CompliancePreset.CN,
    }


@pytest.mark.parametrize(
    ("to", "body", "encoding", "parts"),
    [
        ("13812345678", "Your code is 1234", "gsm7", 1),  # national, read in the rules' region (CN)
        ("+86 138 1234 5678", "a" * 160, "gsm7", 1),
        ("138-1234-5678", "a" * 161, "gsm7", 2),
        ("+8613812345678", "中" * 70, "ucs2", 1),
        ("+8613812345678", "中" * 201, "ucs2", 3),  # exactly max_segments (3 x 67)
    ],
)
def test_numbers_are_written_in_e164_and_texts_counted_in_parts(
    database: Database, to: str, body: str, encoding: str, parts: int
) -> None:
    answer = database.in_transaction(outbox.queue, request("k", to=to, body=body), NOW, RULES)
    assert answer == queued(1, "k", segments=parts)
    row = message(database, 1)
    assert (row.to_e164, row.segments, row.encoding, row.next_try_at) == (MOBILE, parts, encoding, NOW)


def test_the_same_key_twice_is_one_message(database: Database) -> None:
    first = database.in_transaction(outbox.queue, request("hangup:7", body="第一次"), NOW, RULES)
    second = database.in_transaction(
        outbox.queue, request("hangup:7", body="第二次", to="+8613900000000"), NOW + timedelta(hours=1), RULES
    )
    assert first == queued(1, "hangup:7")
    assert second == queued(1, "hangup:7", created=False)
    [row] = messages(database)
    assert (row.body, row.to_e164, row.created_at) == ("第一次", MOBILE, NOW)


def test_the_same_key_in_one_session_twice_is_one_message(database: Database) -> None:
    with database.session() as session:
        first = outbox.queue(session, request("k"), NOW, RULES)
        second = outbox.queue(session, request("k", body="again"), NOW, RULES)
    assert (first.created, second.created, first.id, second.id) == (True, False, 1, 1)
    assert count(database, SmsMessage) == 1


def test_a_key_repeated_within_one_batch_is_created_once(database: Database) -> None:
    answers = database.in_transaction(outbox.queue_many, [request("k"), request("k")], NOW, RULES)
    assert [answer.created for answer in answers] == [True, False]


@pytest.mark.parametrize(
    ("to", "stored", "error"),
    [
        (
            "not a phone number at all",
            "not a phone numb",  # the raw text cut to the column's 16 characters
            "number 'not a phone number at all': (1) The string supplied did not seem to be a phone number.",
        ),
        ("+86 1", "+86 1", "number '+86 1': (3) The string supplied is too short to be a phone number."),
        ("+861012345678", "+861012345678", LANDLINE_ERROR),  # 北京 010 landline
        ("010-12345678", "+861012345678", LANDLINE_ERROR),
    ],
)
def test_a_number_that_cannot_take_sms_is_written_failed(
    database: Database, to: str, stored: str, error: str
) -> None:
    answer = database.in_transaction(outbox.queue, request("k", to=to), NOW, RULES)
    assert answer == failed(1, "k", stored, "invalid_number", error)
    row = message(database, 1)
    assert (row.state, row.reason, row.last_error, row.to_e164, row.tries) == (
        SmsState.FAILED,
        "invalid_number",
        error,
        stored,
        0,
    )


def test_a_mobile_one_digit_short_is_an_invalid_number(database: Database) -> None:
    answer = database.in_transaction(outbox.queue, request("k", to="1381234567"), NOW, RULES)
    assert (answer.state, answer.reason) == (SmsState.FAILED, "invalid_number")


@pytest.mark.parametrize(
    ("body", "error", "parts"),
    [
        ("", "SMS text is empty", 1),
        ("  \n ", "SMS text is empty", 1),
        ("中" * 202, "SMS text takes 4 message parts (202 characters, ucs2), more than 3", 4),
        ("a" * 460, "SMS text takes 4 message parts (460 characters, gsm7), more than 3", 4),
    ],
)
def test_an_empty_or_too_long_text_is_written_failed(
    database: Database, body: str, error: str, parts: int
) -> None:
    answer = database.in_transaction(outbox.queue, request("k", body=body), NOW, RULES)
    assert answer == failed(1, "k", MOBILE, "bad_text", error, parts)
    row = message(database, 1)
    assert (row.state, row.body, row.segments) == (SmsState.FAILED, body, parts)


def test_an_unknown_provider_is_written_failed(database: Database) -> None:
    answer = database.in_transaction(outbox.queue, request("k", provider="twillio"), NOW, RULES)
    error = "SMS provider 'twillio' is not configured (configured: aliyun, sim, twilio)"
    assert answer == failed(1, "k", MOBILE, "provider_not_configured", error)
    assert message(database, 1).provider == "twillio"


def test_a_refused_request_is_written_failed_with_its_reason(database: Database) -> None:
    refused = ("template_value_missing", "missing value for {name}")
    answer = database.in_transaction(
        outbox.queue, request("k", body="{name}您好", refused=refused), NOW, RULES
    )
    assert answer == failed(1, "k", MOBILE, "template_value_missing", "missing value for {name}")
    row = message(database, 1)
    assert (row.state, row.reason, row.last_error, row.body) == (
        SmsState.FAILED,
        "template_value_missing",
        "missing value for {name}",
        "{name}您好",
    )


def test_queue_many_keeps_the_order_and_counts_of_thousands(database: Database) -> None:
    keys = [f"bulk:{n:04d}" for n in range(2_500)]
    invalid = set(range(0, 2_500, 500))  # 0, 500, ... 2000: a landline
    before = {7, 1_499, 2_499}  # asked for before, in another transaction
    database.in_transaction(
        outbox.queue_many, [request(keys[n], to=f"+86138{n:08d}") for n in sorted(before)], NOW, RULES
    )
    requests = [
        request(keys[n], to="+861012345678" if n in invalid else f"+86138{n:08d}") for n in range(2_500)
    ]
    answers = database.in_transaction(outbox.queue_many, list(reversed(requests)), NOW, RULES)
    assert [answer.key for answer in answers] == list(reversed(keys))
    answers.reverse()
    assert [n for n, answer in enumerate(answers) if not answer.created] == sorted(before)
    assert [n for n, answer in enumerate(answers) if answer.state is SmsState.FAILED] == sorted(invalid)
    assert [answer.to for answer in answers[:3]] == ["+861012345678", "+8613800000001", "+8613800000002"]
    rows = messages(database)
    assert len(rows) == 2_500
    assert {row.idempotency_key: row.id for row in rows} == {answer.key: answer.id for answer in answers}
    assert sum(row.state is SmsState.QUEUED for row in rows) == 2_495


# --- claim_due ---------------------------------------------------------------------------------------


def test_claim_takes_only_due_queued_messages_oldest_due_first(database: Database) -> None:
    with database.session() as session:
        ten_min = add_message(session, "a", next_try_at=NOW - timedelta(minutes=10), tries=2)
        one_hour = add_message(session, "b", next_try_at=NOW - timedelta(hours=1))
        half_hour = add_message(session, "c", next_try_at=NOW - timedelta(minutes=30), marketing=True)
        right_now = add_message(session, "d", next_try_at=NOW)
        add_message(session, "later", next_try_at=NOW + timedelta(seconds=1))
        for state in (SmsState.FAILED, SmsState.SENT, SmsState.CANCELLED, SmsState.DELIVERED):
            add_message(session, state.value, state=state, next_try_at=NOW - timedelta(days=1))
        add_message(
            session,
            "held",
            state=SmsState.SENDING,
            next_try_at=NOW - timedelta(days=1),
            claimed_by="other",
            claimed_until=NOW + timedelta(minutes=1),
            tries=1,
        )
    first = database.in_transaction(outbox.claim_due, "sender-1", NOW, 2, CLAIM_FOR)
    assert [claimed.id for claimed in first] == [one_hour, half_hour]
    second = database.in_transaction(outbox.claim_due, "sender-2", NOW, 10, CLAIM_FOR)
    assert [claimed.id for claimed in second] == [ten_min, right_now]
    assert database.in_transaction(outbox.claim_due, "sender-3", NOW, 10, CLAIM_FOR) == []
    assert second[0] == ClaimedSms(
        id=ten_min,
        key="a",
        to=MOBILE,
        body="您好",
        segments=1,
        provider="sim",
        marketing=False,
        tries=3,
        sender=None,
        template_code=None,
        params={},
        preset=None,
        lead_id=None,
        campaign_id=None,
    )
    assert first[1].marketing is True
    rows = {row.id: row for row in messages(database)}
    for claimed, holder in [(first, "sender-1"), (second, "sender-2")]:
        for one in claimed:
            row = rows[one.id]
            assert (row.state, row.claimed_by, row.claimed_until) == (
                SmsState.SENDING,
                holder,
                NOW + CLAIM_FOR,
            )
    assert [rows[n].tries for n in (ten_min, one_hour, half_hour, right_now)] == [3, 1, 1, 1]
    assert rows[5].state is SmsState.QUEUED and rows[5].claimed_by is None
    held = rows[10]
    assert (held.claimed_by, held.tries) == ("other", 1)


def test_claim_carries_what_the_sender_needs(database: Database) -> None:
    database.in_transaction(
        outbox.queue,
        request(
            "m",
            body="【华信】周末八折，回复TD退订",
            provider="aliyun",
            marketing=True,
            sender="华信",
            template_code="SMS_9",
            params={"name": "张三"},
            preset=CompliancePreset.UK,
        ),
        NOW - timedelta(seconds=1),
        RULES,
    )
    [claimed] = database.in_transaction(outbox.claim_due, "s", NOW, 5, CLAIM_FOR)
    assert claimed == ClaimedSms(
        id=1,
        key="m",
        to=MOBILE,
        body="【华信】周末八折，回复TD退订",
        segments=1,
        provider="aliyun",
        marketing=True,
        tries=1,
        sender="华信",
        template_code="SMS_9",
        params={"name": "张三"},
        preset=CompliancePreset.UK,
        lead_id=None,
        campaign_id=None,
    )


def test_due_soon_is_the_next_queued_due_time(database: Database) -> None:
    assert database.in_transaction(outbox.due_soon, NOW) is None
    with database.session() as session:
        add_message(session, "a", next_try_at=NOW + timedelta(hours=2))
        add_message(session, "b", next_try_at=NOW + timedelta(minutes=5))
        add_message(session, "c", state=SmsState.FAILED, next_try_at=NOW)
    assert database.in_transaction(outbox.due_soon, NOW) == NOW + timedelta(minutes=5)


def test_two_senders_claiming_at_once_never_share_a_message(database: Database, db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; on SQLite one sender holds the outbox lease")
    with database.session() as session:
        for n in range(10):
            add_message(session, f"k{n}", next_try_at=NOW - timedelta(minutes=n))
    start, claimed = threading.Barrier(2, timeout=20), threading.Barrier(2, timeout=20)

    def claim(session: Session, holder: str) -> list[int]:
        session.connection()  # the transaction is open before the other one claims
        start.wait()
        ids = [message.id for message in outbox.claim_due(session, holder, NOW, 5, CLAIM_FOR)]
        claimed.wait()  # both hold their row locks until both have claimed
        return ids

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(database.in_transaction, claim, f"sender-{n}") for n in (1, 2)]
        first, second = (future.result(timeout=30) for future in futures)
    assert len(first) == len(second) == 5
    assert set(first).isdisjoint(second)
    assert set(first) | set(second) == set(range(1, 11))
    holders = {row.id: row.claimed_by for row in messages(database)}
    assert {holders[n] for n in first} == {"sender-1"}
    assert {holders[n] for n in second} == {"sender-2"}


# --- recover_expired ---------------------------------------------------------------------------------


def test_expired_claims_are_queued_again_or_failed_by_the_provider_s_idempotency(
    database: Database,
) -> None:
    expired = NOW - timedelta(seconds=1)
    with database.session() as session:
        idempotent = add_message(
            session,
            "a",
            state=SmsState.SENDING,
            provider="aliyun",
            claimed_by="dead",
            claimed_until=expired,
            tries=1,
        )
        not_idempotent = add_message(
            session,
            "b",
            state=SmsState.SENDING,
            provider="sim",
            claimed_by="dead",
            claimed_until=expired,
            tries=1,
        )
        unexpired = add_message(
            session,
            "c",
            state=SmsState.SENDING,
            provider="sim",
            claimed_by="alive",
            claimed_until=NOW + timedelta(seconds=1),
            tries=1,
        )
        ends_now = add_message(
            session,
            "d",
            state=SmsState.SENDING,
            provider="sim",
            claimed_by="alive",
            claimed_until=NOW,
            tries=1,
        )
        queued_row = add_message(session, "e", provider="sim", next_try_at=NOW - timedelta(hours=1))
    before = {row.id: row for row in messages(database)}
    answer = database.in_transaction(outbox.recover_expired, NOW, {"aliyun", "twilio"})
    assert answer == Recovered(requeued=1, failed=1)
    after = {row.id: row for row in messages(database)}
    requeued = after[idempotent]
    assert (requeued.state, requeued.next_try_at, requeued.claimed_by, requeued.claimed_until) == (
        SmsState.QUEUED,
        NOW,
        None,
        None,
    )
    assert (requeued.tries, requeued.reason) == (1, None)
    lost = after[not_idempotent]
    assert (lost.state, lost.reason, lost.claimed_by, lost.claimed_until, lost.next_try_at) == (
        SmsState.FAILED,
        "unknown_outcome",
        None,
        None,
        NOW,
    )
    assert lost.last_error.startswith("its sender stopped while sending it")
    for untouched in (unexpired, ends_now, queued_row):
        assert after[untouched] == before[untouched]
    assert database.in_transaction(outbox.recover_expired, NOW, {"aliyun"}) == Recovered(0, 0)


def test_recover_with_no_idempotent_provider_fails_every_expired_claim(database: Database) -> None:
    with database.session() as session:
        for key in ("a", "b"):
            add_message(
                session,
                key,
                state=SmsState.SENDING,
                provider="aliyun",
                claimed_by="dead",
                claimed_until=NOW - timedelta(minutes=5),
            )
    assert database.in_transaction(outbox.recover_expired, NOW, []) == Recovered(0, 2)
    assert {(row.state, row.reason) for row in messages(database)} == {(SmsState.FAILED, "unknown_outcome")}


# --- finish ------------------------------------------------------------------------------------------


def _claim_two(database: Database) -> list[ClaimedSms]:
    with database.session() as session:
        add_message(session, "a", next_try_at=NOW - timedelta(minutes=2))
        add_message(session, "b", next_try_at=NOW - timedelta(minutes=1), provider="aliyun")
    return database.in_transaction(outbox.claim_due, "s", NOW, 10, CLAIM_FOR)


def test_finish_records_a_send_and_a_deferral(database: Database) -> None:
    first, second = _claim_two(database)
    later = NOW + timedelta(hours=8)
    database.in_transaction(
        outbox.finish,
        "s",
        [
            Finished(first.id, SmsState.SENT, provider_message_id="p-1", sent_at=NOW + timedelta(seconds=3)),
            Finished(
                second.id,
                SmsState.QUEUED,
                reason="quiet_hours",
                error="outside sending hours",
                next_try_at=later,
                count_try=False,
            ),
        ],
        {first.id: "sim", second.id: "aliyun"},
    )
    sent, deferred = messages(database)
    assert (
        sent.state,
        sent.provider_message_id,
        sent.sent_at,
        sent.claimed_by,
        sent.claimed_until,
        sent.tries,
        sent.reason,
        sent.next_try_at,
    ) == (SmsState.SENT, "p-1", NOW + timedelta(seconds=3), None, None, 1, None, NOW - timedelta(minutes=2))
    assert (
        deferred.state,
        deferred.next_try_at,
        deferred.reason,
        deferred.last_error,
        deferred.tries,
        deferred.claimed_by,
        deferred.claimed_until,
        deferred.provider_message_id,
        deferred.sent_at,
    ) == (SmsState.QUEUED, later, "quiet_hours", "outside sending hours", 0, None, None, None, None)


def test_finish_counts_a_retry_and_records_failures(database: Database) -> None:
    first, second = _claim_two(database)
    retry_at = NOW + timedelta(seconds=30)
    database.in_transaction(
        outbox.finish,
        "s",
        [
            Finished(first.id, SmsState.QUEUED, reason="retrying", error="HTTP 503", next_try_at=retry_at),
            Finished(second.id, SmsState.FAILED, reason="rejected", error="HTTP 400: bad sign"),
        ],
        {first.id: "sim", second.id: "aliyun"},
    )
    retrying, rejected = messages(database)
    assert (retrying.state, retrying.tries, retrying.next_try_at, retrying.reason, retrying.last_error) == (
        SmsState.QUEUED,
        1,
        retry_at,
        "retrying",
        "HTTP 503",
    )
    assert (rejected.state, rejected.tries, rejected.reason, rejected.last_error, rejected.claimed_by) == (
        SmsState.FAILED,
        1,
        "rejected",
        "HTTP 400: bad sign",
        None,
    )
    # claimed again, the retry is the second try
    [again] = database.in_transaction(outbox.claim_due, "s", retry_at, 10, CLAIM_FOR)
    assert (again.id, again.tries) == (first.id, 2)


def test_finish_changes_only_messages_still_sending(database: Database) -> None:
    first, second = _claim_two(database)
    with database.session() as session:  # cancelled meanwhile (say by hand)
        session.get_one(SmsMessage, second.id).state = SmsState.CANCELLED
    before = message(database, second.id)
    database.in_transaction(
        outbox.finish,
        "s",
        [
            Finished(first.id, SmsState.SENT, provider_message_id="p-1", sent_at=NOW),
            Finished(second.id, SmsState.SENT, provider_message_id="p-2", sent_at=NOW),
        ],
        {first.id: "sim", second.id: "aliyun"},
    )
    assert message(database, second.id) == before
    assert message(database, first.id).state is SmsState.SENT
    database.in_transaction(
        outbox.finish,
        "s",
        [Finished(first.id, SmsState.FAILED, reason="rejected", error="late")],
        {first.id: "sim"},
    )
    assert (message(database, first.id).state, message(database, first.id).provider_message_id) == (
        SmsState.SENT,
        "p-1",
    )
    database.in_transaction(outbox.finish, "s", [], {})  # nothing to record


def test_finish_applies_receipts_that_came_before_the_provider_id(database: Database) -> None:
    first, second = _claim_two(database)
    early = [
        Receipt("p-1", ReceiptStatus.SENT, at=NOW + timedelta(seconds=1)),
        Receipt("p-1", ReceiptStatus.DELIVERED, at=NOW + timedelta(seconds=5)),
        Receipt("p-2", ReceiptStatus.DELIVERED, at=NOW + timedelta(seconds=6)),  # aliyun's p-2, not sim's
    ]
    changed = database.in_transaction(record_receipts, "sim", early, NOW + timedelta(seconds=7))
    assert changed == 0
    database.in_transaction(
        outbox.finish,
        "s",
        [
            Finished(first.id, SmsState.SENT, provider_message_id="p-1", sent_at=NOW),
            Finished(second.id, SmsState.SENT, provider_message_id="p-2", sent_at=NOW),
        ],
        {first.id: "sim", second.id: "aliyun"},
    )
    delivered, sent = messages(database)
    assert (delivered.state, delivered.delivered_at, delivered.sent_at) == (
        SmsState.DELIVERED,
        NOW + timedelta(seconds=5),
        NOW,
    )
    assert (sent.state, sent.delivered_at) == (SmsState.SENT, None)
    with database.session() as session:
        applied = [
            (r.provider_message_id, r.status, r.applied)
            for r in session.scalars(select(SmsReceipt).order_by(SmsReceipt.id))
        ]
    assert applied == [("p-1", "sent", True), ("p-1", "delivered", True), ("p-2", "delivered", False)]
