"""SMS records people manage: templates (SMS-2), bulk campaigns (SMS-3), consent and opt-outs (SMS-6).

Every change is written to the audit log with who made it. A template is checked when it is saved
(`sms.templates.parse_template`): an unknown variable never reaches a send. An agent sends an SMS
from the customer record on its screen (`queue_to_customer`, SMS-4). A bulk campaign queues
one message per lead of its list (or of one group of it: leads whose `group` / `分组` column says
so) in the outbox when it is created, each due at the campaign's time, with the idempotency key
`sms-campaign:<campaign>:<lead>`: creating it is one transaction, and the send-time rules (consent,
quiet hours, caps, opt-outs) are applied to each message when it goes.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from campaigns.agent_store import audit
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.models import (
    Attempt,
    ContactList,
    Lead,
    SmsCampaign,
    SmsConsent,
    SmsOptOut,
    SmsTemplate,
)
from campaigns.persistence.models.enums import CompliancePreset
from campaigns.persistence.models.leads import with_number
from campaigns.place_store import place_of
from ringcast.errors import UserError
from sms.compose import compose, need_sender
from sms.outbox import DEFAULT_PROVIDER, OutboxRules, QueuedSms, SmsRequest, queue, queue_many
from sms.policy import marketing_policy
from sms.templates import parse_template, template_values

GROUP_COLUMNS = ("group", "分组", "组")  # the lead attribute a campaign's --group is matched against
_BATCH = 5_000


def save_template(
    session: Session,
    name: str,
    body: str,
    *,
    marketing: bool,
    provider_template_code: str | None,
    actor: str,
    now: datetime,
    max_segments: int,
) -> tuple[SmsTemplate, bool]:
    """Create or replace the template `name`; (it, whether it is new). Checked before anything is written."""
    parse_template(body, max_segments)
    template = session.scalar(select(SmsTemplate).where(SmsTemplate.name == name))
    created = template is None
    if template is None:
        template = SmsTemplate(name=name, created_by=actor, created_at=now)
        session.add(template)
    before = None if created else template.body
    template.body, template.marketing = body, marketing
    template.provider_template_code, template.updated_at = provider_template_code, now
    session.flush()
    action = "sms_template.create" if created else "sms_template.update"
    change = Change(actor, now)
    audit(session, change, action, "sms_template", name, body=body, before=before, marketing=marketing)
    return template, created


def find_template(session: Session, name: str) -> SmsTemplate:
    template = session.scalar(select(SmsTemplate).where(SmsTemplate.name == name))
    if template is None:
        raise UserError(f"no SMS template named {name!r}", hint="see `ringcast sms template list`")
    return template


def list_templates(session: Session) -> list[SmsTemplate]:
    return list(session.scalars(select(SmsTemplate).order_by(SmsTemplate.name)))


@dataclass(frozen=True, slots=True)
class CampaignOrder:
    """`ringcast sms campaign create`: what to send to whom, when, and under which rules."""

    name: str
    list_name: str
    template_name: str
    at: datetime
    preset: CompliancePreset
    provider: str
    sender: str | None
    group: str | None = None
    link: str | None = None
    callback_number: str | None = None


def create_campaign(
    session: Session, order: CampaignOrder, rules: OutboxRules, actor: str, now: datetime
) -> SmsCampaign:
    """The campaign, its messages queued (see the module docstring); `counts` says what became of them."""
    if session.scalar(select(SmsCampaign.id).where(SmsCampaign.name == order.name)) is not None:
        raise UserError(f"an SMS campaign named {order.name!r} exists", hint="choose another name")
    contact_list = session.scalar(select(ContactList).where(ContactList.name == order.list_name))
    if contact_list is None:
        raise UserError(f"no list named {order.list_name!r}", hint="see `ringcast list show`")
    stored = find_template(session, order.template_name)
    template = parse_template(stored.body, rules.max_segments)
    policy = marketing_policy(order.preset) if stored.marketing else None
    if policy is not None:
        need_sender(order.sender)
    campaign = SmsCampaign(
        name=order.name,
        list_id=contact_list.id,
        template_id=stored.id,
        group_name=order.group,
        preset=order.preset,
        sender=order.sender,
        provider=order.provider,
        scheduled_at=order.at,
        counts={},
        created_by=actor,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    counts: Counter[str] = Counter()
    batch: list[SmsRequest] = []
    for lead in _leads(session, contact_list.id, order.group):
        place = place_of(session, lead)
        values = template_values(
            lead.e164,
            lead.attributes,
            city=place.city,
            region=place.region,
            campaign=order.name,
            link=order.link,
            callback_number=order.callback_number,
        )
        composed = compose(template, values, policy, order.sender)
        batch.append(_request(campaign, stored, order, lead, composed.body, composed.refusal, actor))
        if len(batch) >= _BATCH:
            _queue(session, batch, now, rules, counts)
    _queue(session, batch, now, rules, counts)
    if not counts:
        group = f" in group {order.group!r}" if order.group else ""
        raise UserError(f"list {order.list_name!r} has no leads{group}: nothing to send")
    campaign.counts = dict(counts)
    audit(session, Change(actor, now), "sms_campaign.create", "sms_campaign", order.name, counts=dict(counts))
    return campaign


def _leads(session: Session, list_id: int, group: str | None) -> Iterator[Lead]:
    query = select(Lead).where(Lead.list_id == list_id).order_by(Lead.id).execution_options(yield_per=_BATCH)
    for lead in session.scalars(query):
        if group is None or any(str(lead.attributes.get(column, "")) == group for column in GROUP_COLUMNS):
            yield lead


def _request(
    campaign: SmsCampaign,
    template: SmsTemplate,
    order: CampaignOrder,
    lead: Lead,
    body: str,
    refused: tuple[str, str] | None,
    actor: str,
) -> SmsRequest:
    return SmsRequest(
        key=f"sms-campaign:{campaign.id}:{lead.id}",
        to=lead.e164,
        body=body,
        provider=order.provider,
        marketing=template.marketing,
        due_at=order.at,
        sender=order.sender,
        template_code=template.provider_template_code,
        preset=order.preset,
        lead_id=lead.id,
        sms_campaign_id=campaign.id,
        created_by=actor,
        refused=refused,
    )


def _queue(
    session: Session, batch: list[SmsRequest], now: datetime, rules: OutboxRules, counts: Counter[str]
) -> None:
    for queued in queue_many(session, batch, now, rules):
        counts[queued.reason or queued.state.value] += 1
    batch.clear()


def queue_to_customer(
    session: Session,
    attempt_id: int,
    text: str,
    actor: str,
    rules: OutboxRules,
    now: datetime,
    key: str | None = None,
) -> QueuedSms:
    """An SMS to the customer of an attempt: from the customer record on an agent's screen (SMS-4), or
    a survey's follow-up. `key` makes asking twice harmless (None: a new message each time)."""
    attempt = session.get_one(Attempt, attempt_id)
    request = SmsRequest(
        key=key or f"agent-sms:{uuid.uuid4()}",
        to=attempt.e164,
        body=text,
        provider=DEFAULT_PROVIDER,
        campaign_id=attempt.campaign_id,
        lead_id=attempt.lead_id,
        attempt_id=attempt.id,
        created_by=actor,
    )
    return queue(session, request, now, rules)


def find_campaign(session: Session, name: str) -> SmsCampaign:
    campaign = session.scalar(select(SmsCampaign).where(SmsCampaign.name == name))
    if campaign is None:
        raise UserError(f"no SMS campaign named {name!r}", hint="see `ringcast sms campaign list`")
    return campaign


def list_campaigns(session: Session) -> list[SmsCampaign]:
    return list(session.scalars(select(SmsCampaign).order_by(SmsCampaign.created_at, SmsCampaign.id)))


def add_consent(
    session: Session, e164: str, source: str, proof: str | None, actor: str, now: datetime
) -> bool:
    """Record that `e164` agreed to marketing SMS; False when it already had."""
    if session.scalar(select(SmsConsent.id).where(SmsConsent.e164 == e164)) is not None:
        return False
    session.add(SmsConsent(e164=e164, source=source, proof=proof, at=now))
    audit(session, Change(actor, now), "sms_consent.add", "sms_consent", e164, source=source, proof=proof)
    return True


def remove_consent(session: Session, e164: str, actor: str, now: datetime) -> bool:
    gone = session.connection().execute(delete(SmsConsent).where(SmsConsent.e164 == e164)).rowcount
    if gone:
        audit(session, Change(actor, now), "sms_consent.remove", "sms_consent", e164)
    return bool(gone)


def remove_opt_out(session: Session, e164: str, actor: str, now: datetime) -> bool:
    """Take `e164` off the SMS opt-out list (the customer asked to be back); audited."""
    gone = session.connection().execute(delete(SmsOptOut).where(SmsOptOut.e164 == e164)).rowcount
    if gone:
        session.execute(update(Lead).where(with_number(e164)).values(sms_opt_out=False))
        audit(session, Change(actor, now), "sms_opt_out.remove", "sms_opt_out", e164)
    return bool(gone)


def opt_outs(session: Session) -> list[SmsOptOut]:
    return list(session.scalars(select(SmsOptOut).order_by(SmsOptOut.at, SmsOptOut.id)))
