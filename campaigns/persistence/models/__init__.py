"""The ORM models, one module per area; importing this package registers every table on `Base.metadata`."""

from __future__ import annotations

from campaigns.persistence.models.agents import Agent, AgentGroup, AgentGroupMember, AgentStateLog
from campaigns.persistence.models.audit import AuditEntry
from campaigns.persistence.models.base import Base
from campaigns.persistence.models.call_controls import CallControl
from campaigns.persistence.models.calls import Attempt, Callback
from campaigns.persistence.models.campaigns import (
    Campaign,
    CampaignList,
    ContactList,
    Disposition,
    ListImport,
)
from campaigns.persistence.models.compliance import BlocklistEntry, SmsOptOut
from campaigns.persistence.models.inbound import CallQueue, InboundCall, QueueMembership, QueueVisit
from campaigns.persistence.models.ivr import InboundNumber, IvrFlow
from campaigns.persistence.models.leads import Lead
from campaigns.persistence.models.places import NumberPlace
from campaigns.persistence.models.screen import ScreenEventRow
from campaigns.persistence.models.sms import (
    JobLease,
    SmsCampaign,
    SmsConsent,
    SmsMessage,
    SmsReceipt,
    SmsReply,
    SmsRule,
    SmsTemplate,
)
from campaigns.persistence.models.surveys import Survey, SurveyAnswer, SurveyResponse
from campaigns.persistence.models.voicemail import VoicemailBox, VoicemailHeard, VoicemailMessage

__all__ = [
    "Agent",
    "AgentGroup",
    "AgentGroupMember",
    "AgentStateLog",
    "Attempt",
    "AuditEntry",
    "Base",
    "BlocklistEntry",
    "CallControl",
    "CallQueue",
    "Callback",
    "Campaign",
    "CampaignList",
    "ContactList",
    "Disposition",
    "InboundCall",
    "InboundNumber",
    "IvrFlow",
    "JobLease",
    "Lead",
    "ListImport",
    "NumberPlace",
    "QueueMembership",
    "QueueVisit",
    "ScreenEventRow",
    "SmsCampaign",
    "SmsConsent",
    "SmsMessage",
    "SmsOptOut",
    "SmsReceipt",
    "SmsReply",
    "SmsRule",
    "SmsTemplate",
    "Survey",
    "SurveyAnswer",
    "SurveyResponse",
    "VoicemailBox",
    "VoicemailHeard",
    "VoicemailMessage",
]
