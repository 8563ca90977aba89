"""Hang-up SMS rules in the database (SMS-1): kept, listed, switched, and fired from call events.

`fire(session, attempt_id, event, now)` runs in the transaction that records the event (the call's
close, the agent's disposition, the survey's answer), so a message is queued exactly when the
event is stored: never for an event that was rolled back, never twice (its key is
`hangup-sms:<rule>:<attempt>`). An inbound call's end (`fire_inbound`, from
`inbound_store.end_call`) fires its number's rules the same way (key
`hangup-sms:<rule>:inbound:<call>`). The message goes `delay_s` after the event, through the rule's
provider (or the sender's default), rendered from the rule's template with the call's lead,
agent and caller ID (`{callback_number}`), under the transactional policy unless the template is
a marketing one (then the campaign's preset's marketing rules and the rule's sender name apply).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from campaigns.agent_store import audit
from campaigns.compliance.blocklist_store import Change
from campaigns.hopper import latest_lead
from campaigns.persistence.models import Agent, Attempt, Campaign, InboundCall, Lead, SmsRule, SmsTemplate
from campaigns.place_store import place_of
from ringcast.errors import UserError
from sms.compose import Composed, compose
from sms.hangup_rules import CallEvent, InboundEnded, RuleTrigger, Trigger
from sms.outbox import DEFAULT_PROVIDER, E164_RULES, SmsRequest, queue_many
from sms.policy import marketing_policy
from sms.templates import parse_template, template_values

log = logging.getLogger(__name__)


def save_rule(
    session: Session,
    name: str,
    when: RuleTrigger,
    template_name: str,
    *,
    campaign: str | None,
    inbound_number: str | None,
    delay_s: int,
    provider: str | None,
    sender: str | None,
    actor: str,
    now: datetime,
) -> tuple[SmsRule, bool]:
    """Create or replace the rule `name`; (it, whether it is new)."""
    inbound = when.trigger in (Trigger.INBOUND_ANSWERED, Trigger.INBOUND_MISSED)
    if (campaign is None) == (inbound_number is None) or (inbound and campaign is not None):
        raise UserError(
            "a hang-up SMS rule belongs to one campaign (--campaign) or, for inbound triggers, to one"
            " inbound number (--inbound-number)"
        )
    if delay_s < 0:
        raise UserError("--delay must not be negative")
    template = session.scalar(select(SmsTemplate).where(SmsTemplate.name == template_name))
    if template is None:
        raise UserError(f"no SMS template named {template_name!r}", hint="save one with `sms template save`")
    if template.marketing and inbound:
        raise UserError(
            "a hang-up SMS to inbound callers is transactional: give a template that is not marketing",
            hint="marketing SMS follow a campaign's consent rules (`--campaign`)",
        )
    if template.marketing and not sender:
        raise UserError("a marketing template needs the sender's name (签名)", hint="give --sender")
    campaign_id = _campaign_id(session, campaign)
    rule = session.scalar(select(SmsRule).where(SmsRule.name == name))
    created = rule is None
    if rule is None:
        rule = SmsRule(name=name, created_by=actor, created_at=now)
        session.add(rule)
    rule.campaign_id, rule.inbound_number = campaign_id, inbound_number
    rule.trigger, rule.disposition, rule.max_score = when.trigger.value, when.disposition, when.max_score
    rule.template_id, rule.delay_s, rule.provider, rule.sender = template.id, delay_s, provider, sender
    rule.enabled = True
    session.flush()
    _audit_rule(session, rule, "sms_rule.create" if created else "sms_rule.update", actor, now)
    return rule, created


def _campaign_id(session: Session, name: str | None) -> int | None:
    if name is None:
        return None
    campaign_id = session.scalar(select(Campaign.id).where(Campaign.name == name))
    if campaign_id is None:
        raise UserError(f"no campaign named {name!r}", hint="see `ringcast campaign list`")
    return campaign_id


def set_enabled(session: Session, name: str, enabled: bool, actor: str, now: datetime) -> SmsRule:
    rule = session.scalar(select(SmsRule).where(SmsRule.name == name))
    if rule is None:
        raise UserError(f"no hang-up SMS rule named {name!r}", hint="see `ringcast sms rule list`")
    rule.enabled = enabled
    _audit_rule(session, rule, "sms_rule.enable" if enabled else "sms_rule.disable", actor, now)
    return rule


def list_rules(session: Session) -> list[tuple[SmsRule, str, str | None]]:
    """Every rule with its template's name and its campaign's name (None: an inbound number's)."""
    query = (
        select(SmsRule, SmsTemplate.name, Campaign.name)
        .join(SmsTemplate, SmsTemplate.id == SmsRule.template_id)
        .outerjoin(Campaign, Campaign.id == SmsRule.campaign_id)
        .order_by(SmsRule.name)
    )
    return [(rule, template, campaign) for rule, template, campaign in session.execute(query)]


def _audit_rule(session: Session, rule: SmsRule, action: str, actor: str, now: datetime) -> None:
    details = {
        "trigger": rule.trigger,
        "campaign_id": rule.campaign_id,
        "inbound_number": rule.inbound_number,
        "template_id": rule.template_id,
        "delay_s": rule.delay_s,
        "enabled": rule.enabled,
    }
    audit(session, Change(actor, now), action, "sms_rule", rule.name, **details)


def fire(session: Session, attempt_id: int, event: CallEvent, now: datetime) -> int:
    """Queue the messages the campaign's enabled rules want for `event` of this call; how many."""
    attempt = session.get_one(Attempt, attempt_id)
    firing = _firing(session, SmsRule.campaign_id == attempt.campaign_id, event)
    if not firing:
        return 0
    lead = session.get_one(Lead, attempt.lead_id)
    campaign = session.get_one(Campaign, attempt.campaign_id)
    place = place_of(session, lead)
    values = template_values(
        attempt.e164,
        lead.attributes,
        city=place.city,
        region=place.region,
        agent=_agent_name(session, attempt.agent_id),
        callback_number=attempt.caller_id,
        campaign=campaign.name,
    )
    requests = [
        SmsRequest(
            **_request(session, rule, values, now, campaign=campaign),
            key=f"hangup-sms:{rule.id}:{attempt.id}",
            to=attempt.e164,
            lead_id=lead.id,
            attempt_id=attempt.id,
        )
        for rule in firing
    ]
    queued = queue_many(session, requests, now, E164_RULES)
    log.info("attempt %s: %d hang-up SMS queued (%s)", attempt_id, len(queued), type(event).__name__)
    return len(queued)


def fire_inbound(session: Session, call: InboundCall, now: datetime) -> int:
    """Queue the messages the enabled rules of the number called want now that `call` ended (SMS-1,
    `inbound_answered` / `inbound_missed`); how many. The values are the caller's latest lead's."""
    assert call.outcome is not None, "an inbound call fires its rules once it has ended"
    firing = _firing(session, SmsRule.inbound_number == call.did, InboundEnded(call.outcome))
    if not firing:
        return 0
    lead = latest_lead(session, call.caller)
    values = template_values(
        call.caller,
        lead.attributes if lead is not None else {},
        city=place_of(session, lead).city if lead is not None else None,
        region=call.region,
        agent=_agent_name(session, call.agent_id),
        callback_number=call.did,
    )
    requests = [
        SmsRequest(
            **_request(session, rule, values, now, campaign=None),
            key=f"hangup-sms:{rule.id}:inbound:{call.id}",
            to=call.caller,
            lead_id=lead.id if lead is not None else None,
        )
        for rule in firing
    ]
    queued = queue_many(session, requests, now, E164_RULES)
    log.info("inbound call %s: %d hang-up SMS queued (%s)", call.id, len(queued), call.outcome.value)
    return len(queued)


def _firing(session: Session, owner: ColumnElement[bool], event: CallEvent) -> list[SmsRule]:
    """The enabled rules of a campaign or an inbound number (`owner`) that `event` fires."""
    rules = session.scalars(select(SmsRule).where(owner, SmsRule.enabled.is_(True)))
    return [rule for rule in rules if _trigger(rule).fires_on(event)]


def _agent_name(session: Session, agent_id: int | None) -> str | None:
    agent = session.get(Agent, agent_id) if agent_id is not None else None
    return (agent.agent_number or agent.display_name) if agent is not None else None


def _request(
    session: Session,
    rule: SmsRule,
    values: dict[str, str | None],
    now: datetime,
    *,
    campaign: Campaign | None,
) -> dict[str, Any]:
    """What a rule's message is, whoever it goes to: text, provider, time, policy, who asked."""
    template = session.get_one(SmsTemplate, rule.template_id)
    composed = _composed(template, values, campaign, rule)
    return {
        "body": composed.body,
        "provider": rule.provider or DEFAULT_PROVIDER,
        "marketing": template.marketing,
        "due_at": now + timedelta(seconds=rule.delay_s),
        "sender": rule.sender,
        "template_code": template.provider_template_code,
        "preset": campaign.compliance_preset if campaign is not None and template.marketing else None,
        "campaign_id": campaign.id if campaign is not None else None,
        "created_by": f"sms_rule:{rule.name}",
        "refused": composed.refusal,
    }


def _trigger(rule: SmsRule) -> RuleTrigger:
    return RuleTrigger(Trigger(rule.trigger), rule.disposition, rule.max_score)


def _composed(
    template: SmsTemplate, values: dict[str, str | None], campaign: Campaign | None, rule: SmsRule
) -> Composed:
    """The rule's text; a marketing one under its campaign's preset (inbound rules are transactional)."""
    policy = (
        marketing_policy(campaign.compliance_preset) if campaign is not None and template.marketing else None
    )
    try:
        return compose(parse_template(template.body), values, policy, rule.sender)
    except UserError as error:  # a template saved before a stricter check, a sign gone missing
        return Composed(template.body, ("bad_template", error.message))
