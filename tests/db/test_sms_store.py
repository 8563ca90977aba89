"""SMS records on SQLite and PostgreSQL: templates (SMS-2), bulk campaigns (SMS-3), consent and opt-outs,
and the facts the send-time rules read about a claimed batch's numbers (`sms.recipients`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.persistence.db import Database
from campaigns.persistence.models import (
    AuditEntry,
    BlocklistEntry,
    Campaign,
    ContactList,
    Lead,
    SmsCampaign,
    SmsConsent,
    SmsMessage,
    SmsOptOut,
    SmsTemplate,
)
from campaigns.persistence.models.enums import (
    BlockKind,
    BlockMatch,
    BlockScope,
    CompliancePreset,
    DialMode,
    SmsState,
)
from campaigns.place_store import PlaceTexts, place_id
from ringcast.errors import UserError
from sms import store
from sms.outbox import ClaimedSms
from sms.receipts import opt_out
from sms.recipients import NumberFacts, facts_for
from sms.store import CampaignOrder
from tests.db.rows import Seed
from tests.db.sms_rows import NOW, RULES, add_lead, add_message, count, messages

LATER = NOW + timedelta(hours=1)
SHANGHAI = (ZoneInfo("Asia/Shanghai"),)


def _audit(database: Database) -> list[tuple[Any, ...]]:
    with database.session() as session:
        return [
            (a.at, a.actor, a.action, a.entity, a.entity_id, a.details)
            for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def _save(database: Database, name: str, body: str, *, marketing: bool = False, **options: Any) -> bool:
    def save(session: Session) -> bool:
        template, created = store.save_template(
            session,
            name,
            body,
            marketing=marketing,
            provider_template_code=options.get("code"),
            actor=options.get("actor", "alice"),
            now=options.get("now", NOW),
            max_segments=RULES.max_segments,
        )
        assert template.id is not None
        return created

    return database.in_transaction(save)


# --- templates ---------------------------------------------------------------------------------------


def test_a_template_with_an_unknown_variable_is_refused_and_nothing_written(database: Database) -> None:
    with pytest.raises(UserError) as raised:
        _save(database, "问候", "{nmae}您好")
    assert raised.value.message == "SMS template: unknown variable {nmae} at character 1"
    assert raised.value.hint is not None and raised.value.hint.startswith("did you mean {name}?")
    assert count(database, SmsTemplate) == 0
    assert count(database, AuditEntry) == 0


def test_a_template_is_created_then_updated_in_one_row_audited_each_time(database: Database) -> None:
    assert _save(database, "周末促销", "{name}您好，周末八折", marketing=True, code="SMS_1") is True
    assert _save(database, "周末促销", "{name|客户}您好，周末七折", actor="bob", now=LATER) is False
    with database.session() as session:
        [template] = session.scalars(select(SmsTemplate)).all()
        row = (
            template.name,
            template.body,
            template.marketing,
            template.provider_template_code,
            template.created_by,
            template.created_at,
            template.updated_at,
        )
    assert row == ("周末促销", "{name|客户}您好，周末七折", False, None, "alice", NOW, LATER)
    assert _audit(database) == [
        (
            NOW,
            "alice",
            "sms_template.create",
            "sms_template",
            "周末促销",
            {"body": "{name}您好，周末八折", "before": None, "marketing": True},
        ),
        (
            LATER,
            "bob",
            "sms_template.update",
            "sms_template",
            "周末促销",
            {"body": "{name|客户}您好，周末七折", "before": "{name}您好，周末八折", "marketing": False},
        ),
    ]


# --- campaigns ---------------------------------------------------------------------------------------

AT = NOW + timedelta(days=1)
PROMOTION = "{name}您好，周末八折"


def _order(**changes: Any) -> CampaignOrder:
    fields: dict[str, Any] = {
        "name": "双十一",
        "list_name": "广州客户 2026-11",
        "template_name": "周末促销",
        "at": AT,
        "preset": CompliancePreset.CN,
        "provider": "aliyun",
        "sender": "华信",
    }
    return CampaignOrder(**(fields | changes))


def _create(database: Database, order: CampaignOrder, actor: str = "carol") -> SmsCampaign:
    return database.in_transaction(store.create_campaign, order, RULES, actor, NOW)


def _list_with_groups(database: Database, seed: Seed) -> dict[str, int]:
    """The seed's list (its lead has no attributes) with grouped leads, and a lead of another list."""
    with database.session() as session:
        other = ContactList(name="其他", source_file="x.csv", imported_at=NOW)
        session.add(other)
        session.flush()
        return {
            "seed": seed.lead_id,
            "vip_named": add_lead(session, seed.list_id, "+8613800138001", {"姓名": "张三", "group": "VIP"}),
            "vip_nameless": add_lead(session, seed.list_id, "+8613800138002", {"分组": "VIP"}),
            "plain": add_lead(session, seed.list_id, "+8613800138003", {"姓名": "李四", "group": "普通"}),
            "vip_latin": add_lead(session, seed.list_id, "+8613800138004", {"name": "Wang", "分组": "VIP"}),
            "elsewhere": add_lead(session, other.id, "+8613800138005", {"姓名": "王五", "group": "VIP"}),
        }


def test_a_group_campaign_queues_the_group_s_leads_signed_and_marked(database: Database, seed: Seed) -> None:
    leads = _list_with_groups(database, seed)
    _save(database, "周末促销", PROMOTION, marketing=True, code="SMS_8")
    campaign = _create(database, _order(group="VIP"))
    assert campaign.counts == {"queued": 2, "template_value_missing": 1}
    rows = {row.lead_id: row for row in messages(database)}
    assert sorted(rows) == sorted([leads["vip_named"], leads["vip_nameless"], leads["vip_latin"]])
    for lead_id, row in rows.items():
        assert (
            row.idempotency_key,
            row.next_try_at,
            row.sms_campaign_id,
            row.marketing,
            row.sender,
            row.template_code,
            row.preset,
            row.provider,
            row.created_by,
            row.created_at,
            row.campaign_id,
        ) == (
            f"sms-campaign:{campaign.id}:{lead_id}",
            AT,
            campaign.id,
            True,
            "华信",
            "SMS_8",
            CompliancePreset.CN,
            "aliyun",
            "carol",
            NOW,
            None,
        )
    named, latin = rows[leads["vip_named"]], rows[leads["vip_latin"]]
    assert (named.state, named.body, named.to_e164) == (
        SmsState.QUEUED,
        "【华信】张三您好，周末八折，回复TD退订",
        "+8613800138001",
    )
    assert (latin.state, latin.body) == (SmsState.QUEUED, "【华信】Wang您好，周末八折，回复TD退订")
    for row in (named, latin):
        assert row.body.startswith("【华信】") and row.body.endswith("回复TD退订")
    missing = rows[leads["vip_nameless"]]
    assert (missing.state, missing.reason, missing.last_error, missing.body) == (
        SmsState.FAILED,
        "template_value_missing",
        "missing value for {name}",
        PROMOTION,
    )
    stored_counts: dict[str, int] = {}
    for row in rows.values():
        what = row.reason or row.state.value
        stored_counts[what] = stored_counts.get(what, 0) + 1
    assert stored_counts == campaign.counts
    with database.session() as session:
        [stored] = session.scalars(select(SmsCampaign)).all()
        assert (stored.name, stored.list_id, stored.group_name, stored.scheduled_at, stored.counts) == (
            "双十一",
            seed.list_id,
            "VIP",
            AT,
            {"queued": 2, "template_value_missing": 1},
        )
        assert (stored.preset, stored.sender, stored.provider, stored.created_by, stored.created_at) == (
            CompliancePreset.CN,
            "华信",
            "aliyun",
            "carol",
            NOW,
        )
    assert _audit(database)[-1] == (
        NOW,
        "carol",
        "sms_campaign.create",
        "sms_campaign",
        "双十一",
        {"counts": {"queued": 2, "template_value_missing": 1}},
    )


def test_a_campaign_without_a_group_takes_the_whole_list_in_batches(
    database: Database, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "_BATCH", 2)  # queue while the leads are still being read
    leads = _list_with_groups(database, seed)
    with database.session() as session:
        landline = add_lead(session, seed.list_id, "+861012345678")
    _save(database, "通知", "您的订单已发货，详询{callback_number|95555}")
    campaign = _create(database, _order(template_name="通知", sender=None, preset=CompliancePreset.US))
    assert campaign.counts == {"queued": 5, "invalid_number": 1}
    rows = messages(database)
    assert [row.lead_id for row in rows] == sorted(set(leads.values()) - {leads["elsewhere"]} | {landline})
    assert {(row.body, row.marketing, row.preset) for row in rows} == {
        ("您的订单已发货，详询95555", False, CompliancePreset.US)
    }
    assert [row.state for row in rows if row.lead_id == landline] == [SmsState.FAILED]


def test_a_campaign_fills_region_and_city_from_each_lead_s_place(database: Database, seed: Seed) -> None:
    guangzhou = PlaceTexts("广东省", "广州市", "中国移动", "Guangdong", "Guangzhou", "China Mobile")
    with database.session() as session:
        placed = add_lead(session, seed.list_id, "+8613800138001")
        session.get_one(Lead, placed).place_id = place_id(session.connection(), guangzhou)
    _save(database, "同城", "{region|中国}{city|本地}门店周末八折")
    _create(database, _order(template_name="同城", sender=None, preset=CompliancePreset.US))
    bodies = {row.lead_id: row.body for row in messages(database)}
    assert bodies == {
        placed: "广东省广州市门店周末八折",
        seed.lead_id: "中国本地门店周末八折",
    }  # the seed: no place


def test_a_group_with_no_leads_is_refused_and_nothing_written(database: Database, seed: Seed) -> None:
    _list_with_groups(database, seed)
    _save(database, "周末促销", PROMOTION, marketing=True)
    with pytest.raises(
        UserError, match="list '广州客户 2026-11' has no leads in group '金卡': nothing to send"
    ):
        _create(database, _order(group="金卡"))
    assert (count(database, SmsCampaign), count(database, SmsMessage)) == (0, 0)


def test_a_marketing_campaign_without_a_sender_is_refused_and_nothing_written(
    database: Database, seed: Seed
) -> None:
    _list_with_groups(database, seed)
    _save(database, "周末促销", PROMOTION, marketing=True)
    audit = _audit(database)
    for sender in (None, "  "):
        with pytest.raises(UserError) as raised:
            _create(database, _order(sender=sender))
        assert raised.value.message == "marketing SMS must carry the sender's name (签名)"
    assert (count(database, SmsCampaign), count(database, SmsMessage)) == (0, 0)
    assert _audit(database) == audit


def test_a_campaign_name_is_taken_once(database: Database, seed: Seed) -> None:
    _list_with_groups(database, seed)
    _save(database, "周末促销", PROMOTION, marketing=True)
    _create(database, _order(group="VIP"))
    before = (messages(database), _audit(database))
    with pytest.raises(UserError) as raised:
        _create(database, _order(at=AT + timedelta(days=1)))
    assert raised.value.message == "an SMS campaign named '双十一' exists"
    assert (messages(database), _audit(database)) == before
    assert count(database, SmsCampaign) == 1


def test_an_unknown_list_or_template_is_refused(database: Database, seed: Seed) -> None:
    _save(database, "周末促销", PROMOTION, marketing=True)
    with pytest.raises(UserError, match="no list named '无此名单'"):
        _create(database, _order(list_name="无此名单"))
    with pytest.raises(UserError, match="no SMS template named '无此模板'"):
        _create(database, _order(template_name="无此模板"))
    assert count(database, SmsCampaign) == 0


# --- consent and opt-outs ----------------------------------------------------------------------------

NUMBER = "+8613800138000"  # the seed's lead


def test_consent_is_recorded_once_and_removed_audited(database: Database) -> None:
    assert database.in_transaction(store.add_consent, NUMBER, "web_form", "form-17", "alice", NOW) is True
    assert database.in_transaction(store.add_consent, NUMBER, "agent", None, "bob", LATER) is False
    with database.session() as session:
        consents = [(c.e164, c.source, c.proof, c.at) for c in session.scalars(select(SmsConsent))]
    assert consents == [(NUMBER, "web_form", "form-17", NOW)]
    assert database.in_transaction(store.remove_consent, NUMBER, "bob", LATER) is True
    assert database.in_transaction(store.remove_consent, NUMBER, "bob", LATER) is False
    assert count(database, SmsConsent) == 0
    assert [(actor, action, entity_id) for _, actor, action, _, entity_id, _ in _audit(database)] == [
        ("alice", "sms_consent.add", NUMBER),
        ("bob", "sms_consent.remove", NUMBER),
    ]


def test_removing_an_opt_out_clears_the_number_s_leads(database: Database, seed: Seed) -> None:
    database.in_transaction(opt_out, NUMBER, keyword=None, source="agent", actor="alice", now=NOW)
    with database.session() as session:
        assert session.get_one(Lead, seed.lead_id).sms_opt_out is True
    assert database.in_transaction(store.remove_opt_out, NUMBER, "bob", LATER) is True
    assert database.in_transaction(store.remove_opt_out, NUMBER, "bob", LATER) is False
    with database.session() as session:
        assert session.get_one(Lead, seed.lead_id).sms_opt_out is False
    assert database.in_transaction(store.opt_outs) == []
    assert [(actor, action) for _, actor, action, *_ in _audit(database)] == [
        ("alice", "sms_opt_out.add"),
        ("bob", "sms_opt_out.remove"),
    ]


# --- facts_for (sms.recipients) ----------------------------------------------------------------------


def claimed(
    id: int, to: str, *, marketing: bool = True, lead_id: int | None = None, campaign_id: int | None = None
) -> ClaimedSms:
    return ClaimedSms(
        id=id,
        key=f"k{id}",
        to=to,
        body="您好",
        segments=1,
        provider="sim",
        marketing=marketing,
        tries=1,
        sender=None,
        template_code=None,
        params={},
        preset=None,
        lead_id=lead_id,
        campaign_id=campaign_id,
    )


def _facts(database: Database, batch: list[ClaimedSms]) -> dict[str, NumberFacts]:
    return database.in_transaction(facts_for, batch, NOW)


def _block(
    session: Session,
    value: str,
    *,
    kind: BlockKind = BlockKind.BLACKLIST,
    match: BlockMatch = BlockMatch.EXACT,
    campaign_id: int | None = None,
    **columns: Any,
) -> None:
    session.add(
        BlocklistEntry(
            kind=kind,
            value=value,
            match=match,
            scope=BlockScope.GLOBAL if campaign_id is None else BlockScope.CAMPAIGN,
            campaign_id=campaign_id,
            added_by="alice",
            added_at=NOW - timedelta(days=30),
            **columns,
        )
    )


def test_facts_say_who_opted_out_and_who_consented(database: Database) -> None:
    with database.session() as session:
        session.add(SmsOptOut(e164="+8613800138001", keyword="TD", source="sms_reply", at=NOW))
        session.add(SmsConsent(e164="+8613800138001", source="web_form", at=NOW))
        session.add(SmsConsent(e164="+8613800138002", source="web_form", at=NOW))
    facts = _facts(database, [claimed(n, f"+861380013800{n}") for n in (1, 2, 3)])
    assert {e164: (f.opted_out, f.consented, f.blacklist) for e164, f in facts.items()} == {
        "+8613800138001": (True, True, None),
        "+8613800138002": (False, True, None),
        "+8613800138003": (False, False, None),
    }


def test_blacklist_entries_in_force_block_sms_and_dnc_entries_do_not(database: Database, seed: Seed) -> None:
    with database.session() as session:
        other = Campaign(
            name="其他活动", dial_mode=DialMode.PROGRESSIVE, compliance_preset=CompliancePreset.CN
        )
        session.add(other)
        session.flush()
        other_id = other.id
        _block(session, "+8613800138001", reason="投诉")
        _block(session, "+86139", match=BlockMatch.PREFIX, source="import:bl.csv")
        _block(session, "+8613800138003", campaign_id=seed.campaign_id)
        _block(session, "+8613800138004", campaign_id=other_id)
        _block(session, "+8613800138005", kind=BlockKind.DNC)
        _block(session, "+8613800138006", expires_at=NOW - timedelta(seconds=1))
        _block(session, "+8613800138007", expires_at=NOW)
        _block(session, "+8613800138008", expires_at=NOW + timedelta(days=1))
        _block(session, "+8613800138009", kind=BlockKind.WHITELIST)
        _block(session, "+86138001380", match=BlockMatch.PREFIX, kind=BlockKind.DNC)
        _block(session, "+8613700137000", campaign_id=seed.campaign_id)
    batch = [
        claimed(1, "+8613800138001"),
        claimed(2, "+8613912345678", marketing=False),
        claimed(3, "+8613800138003", campaign_id=seed.campaign_id),
        claimed(4, "+8613800138004", campaign_id=seed.campaign_id),
        claimed(5, "+8613800138005"),
        claimed(6, "+8613800138006"),
        claimed(7, "+8613800138007"),
        claimed(8, "+8613800138008"),
        claimed(9, "+8613800138009"),
        claimed(10, "+8613700137000"),  # its entry is for a campaign; the message has none
    ]
    facts = _facts(database, batch)
    until = (NOW + timedelta(days=1)).isoformat(timespec="seconds")
    assert {e164: f.blacklist for e164, f in facts.items()} == {
        "+8613800138001": "blacklist, exact +8613800138001, global, reason: 投诉",
        "+8613912345678": "blacklist, prefix +86139, global, source: import:bl.csv",
        "+8613800138003": f"blacklist, exact +8613800138003, campaign {seed.campaign_id}",
        "+8613800138004": None,
        "+8613800138005": None,
        "+8613800138006": None,
        "+8613800138007": None,
        "+8613800138008": f"blacklist, exact +8613800138008, global, until {until}",
        "+8613800138009": None,
        "+8613700137000": None,
    }
    # the other campaign's entry blocks that campaign's messages to the number
    other_batch = [claimed(11, "+8613800138004", campaign_id=other_id)]
    assert _facts(database, other_batch)["+8613800138004"].blacklist == (
        f"blacklist, exact +8613800138004, campaign {other_id}"
    )


def test_recent_sends_are_those_of_the_past_7_days_by_class(database: Database) -> None:
    to, elsewhere = "+8613800138001", "+8613800138002"
    created = NOW - timedelta(days=9)
    with database.session() as session:

        def add(key: str, state: SmsState, sent_at: Any, marketing: bool = True, **columns: Any) -> int:
            return add_message(
                session,
                key,
                to=to,
                state=state,
                sent_at=sent_at,
                marketing=marketing,
                created_at=created,
                **columns,
            )

        add("m6d", SmsState.DELIVERED, NOW - timedelta(days=6))
        add("m1h", SmsState.SENT, NOW - timedelta(hours=1), provider_message_id="p-1")
        add("m8d", SmsState.DELIVERED, NOW - timedelta(days=8))
        add("t1d", SmsState.DELIVERED, NOW - timedelta(days=1), marketing=False)
        add("mfailed", SmsState.FAILED, NOW - timedelta(days=1))
        add("mcancelled", SmsState.CANCELLED, None)
        add("mqueued", SmsState.QUEUED, None)
        add("msending", SmsState.SENDING, None, claimed_by="other")  # another sender's: going now
        mine = add("mine", SmsState.SENDING, None, claimed_by="me")
        add_message(session, "x", to=elsewhere, state=SmsState.SENT, sent_at=NOW, marketing=True)
    facts = _facts(database, [claimed(mine, to), claimed(99, elsewhere, marketing=False)])
    recent = {e164: {kind: sorted(at) for kind, at in f.recent_sends.items()} for e164, f in facts.items()}
    assert recent == {
        to: {
            True: [NOW - timedelta(days=6), NOW - timedelta(hours=1), NOW],
            False: [NOW - timedelta(days=1)],
        },
        elsewhere: {True: [NOW], False: []},
    }


def test_a_send_counts_by_when_it_was_sent_not_when_it_was_queued(database: Database) -> None:
    with database.session() as session:
        add_message(
            session,
            "scheduled-long-ago",
            state=SmsState.SENT,
            marketing=True,
            created_at=NOW - timedelta(days=40),
            sent_at=NOW - timedelta(hours=1),
        )
    facts = _facts(database, [claimed(99, "+8613812345678")])
    assert facts["+8613812345678"].recent_sends == {True: [NOW - timedelta(hours=1)], False: []}


def test_zones_are_the_lead_s_else_the_number_s(database: Database, seed: Seed) -> None:
    with database.session() as session:
        urumqi = add_lead(session, seed.list_id, "+8613800138001", time_zones=["Asia/Urumqi"])
        zoneless = add_lead(session, seed.list_id, "+8613800138002")
    batch = [
        claimed(1, "+8613800138001", lead_id=urumqi),
        claimed(2, "+8613800138002", lead_id=zoneless),
        claimed(3, "+8613800138003"),
        claimed(4, "+12125550123"),
    ]
    facts = _facts(database, batch)
    assert {e164: f.zones for e164, f in facts.items()} == {
        "+8613800138001": (ZoneInfo("Asia/Urumqi"),),
        "+8613800138002": SHANGHAI,
        "+8613800138003": SHANGHAI,
        "+12125550123": (ZoneInfo("America/New_York"),),
    }
