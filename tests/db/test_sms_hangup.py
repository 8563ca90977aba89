"""Hang-up SMS rules (SMS-1) fired from the dialer's records, on SQLite and PostgreSQL.

A campaign with rules on every outbound trigger; calls are opened and closed through
`dial_store` as the live dialer does, dispositions given, survey answers recorded: the outbox then
holds exactly the messages the rules asked for, rendered, due after each rule's delay, one per
rule and call however often the event is stored.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns import dial_store
from campaigns.config import CampaignConfig
from campaigns.dial_store import AttemptResult
from campaigns.persistence.db import Database
from campaigns.persistence.models import Lead, SmsMessage, SmsRule
from campaigns.persistence.models.enums import CallOutcome, SmsState
from campaigns.place_store import PlaceTexts, place_id
from ringcast.errors import UserError
from sms import hangup, store
from sms.hangup_rules import RuleTrigger, SurveyScored, Trigger
from sms.outbox import OutboxRules
from tests.db.test_dial_store import LATER, NOW, add_list, create, dial, number, row

pytestmark = pytest.mark.db


def template(database: Database, name: str, body: str, *, marketing: bool = False) -> None:
    database.in_transaction(
        store.save_template,
        name,
        body,
        marketing=marketing,
        provider_template_code=None,
        actor="li.wei",
        now=NOW,
        max_segments=10,
    )


def rule(
    database: Database, name: str, when: RuleTrigger, template_name: str, delay_s: int = 0, **given: str
) -> None:
    database.in_transaction(
        hangup.save_rule,
        name,
        when,
        template_name,
        campaign=given.get("campaign", "秋季回访"),
        inbound_number=None,
        delay_s=delay_s,
        provider=None,
        sender=given.get("sender"),
        actor="li.wei",
        now=NOW,
    )


def campaign_with_rules(database: Database) -> CampaignConfig:
    add_list(database, "leads", row(1, attributes={"姓名": "王芳"}))
    campaign = create(database, dispositions=["sale:final"])
    template(database, "thanks", "{name|您好}，感谢接听，如有疑问请回拨{callback_number}")
    template(database, "missed", "抱歉未能联系到您，请回拨{callback_number}")
    template(database, "sold", "订单已确认，客服工号{agent|}")
    template(database, "sorry", "很抱歉给您不好的体验")
    rule(database, "answered", RuleTrigger(Trigger.OUTBOUND_ANSWERED), "thanks", delay_s=30)
    rule(database, "unanswered", RuleTrigger(Trigger.OUTBOUND_UNANSWERED), "missed")
    rule(database, "sale", RuleTrigger(Trigger.DISPOSITION, disposition="sale"), "sold")
    rule(database, "low-score", RuleTrigger(Trigger.SURVEY_SCORE, max_score=2), "sorry")
    return campaign


def outbox(database: Database) -> list[tuple[str, str, str, SmsState]]:
    with database.session() as session:
        query = select(SmsMessage).order_by(SmsMessage.id)
        return [(m.idempotency_key.split(":")[1], m.to_e164, m.body, m.state) for m in session.scalars(query)]


def test_an_answered_call_gets_its_rule_s_message_once_after_the_delay(database: Database) -> None:
    campaign = campaign_with_rules(database)
    (opened,) = dial(database, campaign)
    result = AttemptResult(opened.attempt_id, CallOutcome.ANSWERED, NOW, NOW, LATER)
    database.in_transaction(dial_store.close_attempt, campaign, result)
    database.in_transaction(dial_store.close_attempt, campaign, result)  # told twice: still one message
    with database.session() as session:
        (message,) = session.scalars(select(SmsMessage)).all()
        answered = session.scalar(select(SmsRule.id).where(SmsRule.name == "answered"))
        assert message.idempotency_key == f"hangup-sms:{answered}:{opened.attempt_id}"
        assert (message.to_e164, message.body) == (number(1), "王芳，感谢接听，如有疑问请回拨+862088881234")
        assert (message.state, message.next_try_at, message.attempt_id) == (
            SmsState.QUEUED,
            LATER + timedelta(seconds=30),
            opened.attempt_id,
        )
        assert (message.marketing, message.provider, message.created_by) == (
            False,
            "default",
            "sms_rule:answered",
        )


@pytest.mark.parametrize(
    "outcome", [CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.MACHINE, CallOutcome.ABANDONED]
)
def test_a_call_nobody_was_served_on_gets_the_unanswered_message(
    database: Database, outcome: CallOutcome
) -> None:
    campaign = campaign_with_rules(database)
    (opened,) = dial(database, campaign)
    database.in_transaction(
        dial_store.close_attempt, campaign, AttemptResult(opened.attempt_id, outcome, None, None, LATER)
    )
    assert outbox(database) == [
        (
            _rule_id(database, "unanswered"),
            number(1),
            "抱歉未能联系到您，请回拨+862088881234",
            SmsState.QUEUED,
        )
    ]


def test_a_message_names_the_city_of_the_lead_s_place(database: Database) -> None:
    campaign = campaign_with_rules(database)
    template(database, "local", "{city|}门店欢迎您")
    rule(database, "local", RuleTrigger(Trigger.OUTBOUND_UNANSWERED), "local")
    shenzhen = PlaceTexts("广东省", "深圳市", "中国移动", "Guangdong", "Shenzhen", "China Mobile")
    with database.session() as session:
        session.scalars(select(Lead)).one().place_id = place_id(session.connection(), shenzhen)
    (opened,) = dial(database, campaign)
    missed = AttemptResult(opened.attempt_id, CallOutcome.NO_ANSWER, None, None, LATER)
    database.in_transaction(dial_store.close_attempt, campaign, missed)
    assert sorted(body for _, _, body, _ in outbox(database)) == [
        "抱歉未能联系到您，请回拨+862088881234",
        "深圳市门店欢迎您",
    ]


def test_a_call_we_hung_up_before_an_answer_fires_nothing(database: Database) -> None:
    campaign = campaign_with_rules(database)
    (opened,) = dial(database, campaign)
    cancelled = AttemptResult(opened.attempt_id, CallOutcome.CANCELLED, None, None, LATER)
    database.in_transaction(dial_store.close_attempt, campaign, cancelled)
    assert outbox(database) == []


def test_a_disposition_rule_fires_on_its_code_only(database: Database) -> None:
    campaign = campaign_with_rules(database)
    (opened,) = dial(database, campaign)
    result = AttemptResult(opened.attempt_id, CallOutcome.ANSWERED, NOW, NOW, LATER)
    database.in_transaction(dial_store.close_attempt, campaign, result)
    dial_store.dispose_attempt(database, campaign, opened.attempt_id, "sale", LATER)
    keys = [key for key, *_ in outbox(database)]
    assert keys == [_rule_id(database, "answered"), _rule_id(database, "sale")]
    assert outbox(database)[1][2] == "订单已确认，客服工号"  # no agent on this call: the default, empty


def test_a_disabled_rule_fires_nothing_and_a_rule_needs_a_known_campaign_and_template(
    database: Database,
) -> None:
    campaign = campaign_with_rules(database)
    database.in_transaction(hangup.set_enabled, "answered", False, "li.wei", NOW)
    (opened,) = dial(database, campaign)
    result = AttemptResult(opened.attempt_id, CallOutcome.ANSWERED, NOW, NOW, LATER)
    database.in_transaction(dial_store.close_attempt, campaign, result)
    assert outbox(database) == []
    with pytest.raises(UserError, match="no SMS template named 'nope'"):
        rule(database, "x", RuleTrigger(Trigger.OUTBOUND_ANSWERED), "nope")
    with pytest.raises(UserError, match="no campaign named 'nope'"):
        rule(database, "x", RuleTrigger(Trigger.OUTBOUND_ANSWERED), "thanks", campaign="nope")
    with pytest.raises(UserError, match="disposition code exactly"):
        RuleTrigger(Trigger.OUTBOUND_ANSWERED, disposition="sale")
    template(database, "promo", "周末八折", marketing=True)
    with pytest.raises(UserError, match="needs the sender's name"):
        rule(database, "x", RuleTrigger(Trigger.OUTBOUND_ANSWERED), "promo")


def test_a_marketing_hang_up_template_carries_the_preset_s_marks(database: Database) -> None:
    campaign = campaign_with_rules(database)
    database.in_transaction(hangup.set_enabled, "answered", False, "li.wei", NOW)
    template(database, "promo", "周末八折", marketing=True)
    rule(database, "promo", RuleTrigger(Trigger.OUTBOUND_ANSWERED), "promo", sender="华信")
    (opened,) = dial(database, campaign)
    result = AttemptResult(opened.attempt_id, CallOutcome.ANSWERED, NOW, NOW, LATER)
    database.in_transaction(dial_store.close_attempt, campaign, result)
    with database.session() as session:
        message = session.scalars(select(SmsMessage)).one()
        assert (message.body, message.marketing, message.sender) == (
            "【华信】周末八折，回复TD退订",
            True,
            "华信",
        )


def _rule_id(database: Database, name: str) -> str:
    with database.session() as session:
        return str(session.scalar(select(SmsRule.id).where(SmsRule.name == name)))


def test_a_survey_score_at_or_below_the_rule_s_fires_once_per_call(database: Database) -> None:
    campaign = campaign_with_rules(database)
    database.in_transaction(hangup.set_enabled, "answered", False, "li.wei", NOW)
    (opened,) = dial(database, campaign)
    assert database.in_transaction(hangup.fire, opened.attempt_id, SurveyScored(3), LATER) == 0
    assert database.in_transaction(hangup.fire, opened.attempt_id, SurveyScored(2), LATER) == 1
    assert (
        database.in_transaction(hangup.fire, opened.attempt_id, SurveyScored(1), LATER) == 1
    )  # the same one
    assert outbox(database) == [
        (_rule_id(database, "low-score"), number(1), "很抱歉给您不好的体验", SmsState.QUEUED)
    ]


def test_an_agent_s_sms_from_the_customer_record_goes_to_the_call_s_number(database: Database) -> None:
    campaign = campaign_with_rules(database)
    (opened,) = dial(database, campaign)
    rules = OutboxRules("CN", ("default",), 10)
    queued = database.in_transaction(
        store.queue_to_customer, opened.attempt_id, "资料已发您邮箱", "agent:li", rules, NOW
    )
    with database.session() as session:
        message = session.get_one(SmsMessage, queued.id)
        assert (message.to_e164, message.body, message.attempt_id, message.lead_id, message.created_by) == (
            number(1),
            "资料已发您邮箱",
            opened.attempt_id,
            opened.lead.lead_id,
            "agent:li",
        )
        assert (message.campaign_id, message.state, message.marketing) == (
            campaign.id,
            SmsState.QUEUED,
            False,
        )
