"""Every closed vocabulary the database stores, as `StrEnum`s (values are what the rows hold).

No SQLAlchemy here: state machines and other pure code compare against these names. Values are
short lower-case strings; a CHECK constraint on each column rejects anything else, so adding a
value needs a migration that rewrites that constraint.
"""

from __future__ import annotations

from enum import StrEnum


class DialMode(StrEnum):
    """How a campaign places calls (DIAL-1, DIAL-3, DIAL-4, DIAL-5)."""

    PREVIEW = "preview"  # the agent sees the lead, then dials
    PROGRESSIVE = "progressive"  # one call per free agent
    RATIO = "ratio"  # a fixed number of calls per free agent
    PREDICTIVE = "predictive"  # dials ahead from live statistics, under the abandon cap
    BROADCAST = "broadcast"  # answered calls go to a message or IVR, no agents


class CampaignState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class CompliancePreset(StrEnum):
    """The rule set a campaign starts from (see the compliance spec)."""

    CN = "cn"
    US = "us"
    UK = "uk"
    CUSTOM = "custom"


class LeadState(StrEnum):
    """Where a lead is in its life (CMP-2). The hopper only picks `new` and `retry` leads.

    new -> queued -> dialing -> one outcome state -> retry | callback | done | exhausted.
    The outcome states (`answered` ... `abandoned`) hold while the call's result waits to be
    applied: an agent's disposition for `answered`, the campaign's retry rules for the others.
    `dnc_blocked` can be entered from any state that is not on a call.
    """

    NEW = "new"  # imported, never dialled; due at next_attempt_at
    QUEUED = "queued"  # picked by the hopper, originate not sent yet
    DIALING = "dialing"  # originate sent, the number is ringing
    ANSWERED = "answered"  # a person answered (with an agent, or in the broadcast/IVR flow)
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # congestion, unreachable, invalid number, trunk error
    MACHINE = "machine"  # answering machine detected
    ABANDONED = "abandoned"  # answered, but no agent was free in time (DIAL-7)
    RETRY = "retry"  # to be dialled again at next_attempt_at (CMP-3)
    CALLBACK = "callback"  # held for a scheduled callback (see `callbacks`)
    DONE = "done"  # a final disposition was given
    EXHAUSTED = "exhausted"  # retry rules or attempt caps allow no further attempt
    DNC_BLOCKED = "dnc_blocked"  # on a DNC list or blacklist (IMP-5, CMPL-1)


DIALABLE_LEAD_STATES = (LeadState.NEW, LeadState.RETRY)


class NumberType(StrEnum):
    """The line type `phonenumbers` reports (IMP-3), lower-cased."""

    FIXED_LINE = "fixed_line"
    MOBILE = "mobile"
    FIXED_LINE_OR_MOBILE = "fixed_line_or_mobile"
    TOLL_FREE = "toll_free"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"
    VOIP = "voip"
    PERSONAL_NUMBER = "personal_number"
    PAGER = "pager"
    UAN = "uan"
    VOICEMAIL = "voicemail"
    UNKNOWN = "unknown"


class CallOutcome(StrEnum):
    """How one dial attempt ended."""

    ANSWERED = "answered"  # a person answered and was served (agent, message or IVR)
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    MACHINE = "machine"
    ABANDONED = "abandoned"
    CANCELLED = "cancelled"  # we hung up before an answer (pacer drop, shutdown)


class AmdResult(StrEnum):
    """Asterisk `AMD()`'s `AMDSTATUS`, lower-cased; `AMDCAUSE` is kept as text beside it."""

    HUMAN = "human"
    MACHINE = "machine"
    NOTSURE = "notsure"
    HANGUP = "hangup"


class AgentState(StrEnum):
    """An agent's availability (AGT-1)."""

    LOGGED_OUT = "logged_out"
    READY = "ready"  # 示闲
    NOT_READY = "not_ready"  # 示忙, with a reason in the state log
    RESERVED = "reserved"  # chosen for a call that is being connected (preview, callbacks)
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"  # after-call work


class BlockKind(StrEnum):
    DNC = "dnc"  # 免打扰: the person asked not to be called
    BLACKLIST = "blacklist"  # 黑名单: the company decided not to call
    WHITELIST = "whitelist"  # 外呼白名单: may be called beyond the campaign's reach (DIAL-8)
    VIP = "vip"  # 贵宾名单: inbound callers served first (ACD-3); nothing to do with calling them


class BlockMatch(StrEnum):
    EXACT = "exact"  # value is an E.164 number
    PREFIX = "prefix"  # value is the start of E.164 numbers, e.g. "+86170"


class BlockScope(StrEnum):
    GLOBAL = "global"
    CAMPAIGN = "campaign"


class CallbackState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


class SmsEncoding(StrEnum):
    GSM7 = "gsm7"  # 160 characters, 153 per part when split
    UCS2 = "ucs2"  # 70 characters, 67 per part (Chinese text)


class SmsState(StrEnum):
    """An outbox message's life (SMS-8): queued -> sending -> sent -> delivered | failed."""

    QUEUED = "queued"  # waiting for next_try_at
    SENDING = "sending"  # handed to a worker; found here after a crash, it is re-checked, not resent blindly
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # a delivery receipt said so
    FAILED = "failed"  # rejected, undeliverable, or out of tries
    CANCELLED = "cancelled"  # withdrawn before sending (opt-out, campaign stopped)


class AnswerResult(StrEnum):
    """How a survey question ended for a respondent (SRV-1)."""

    ANSWERED = "answered"  # a valid key
    INVALID = "invalid"  # only invalid keys, through every retry
    NO_INPUT = "no_input"  # silence, through every retry


class InboundOutcome(StrEnum):
    """How an inbound call ended (issue 9). A short abandon is not an outcome: the queues report
    tells it from the wait and the queue's threshold."""

    ANSWERED = "answered"  # joined an agent
    ABANDONED = "abandoned"  # the caller hung up while waiting in a queue
    OVERFLOWED_NUMBER = "overflowed_number"  # sent on to an external or mobile number
    OVERFLOWED_VOICEMAIL = "overflowed_voicemail"  # sent to a voicemail box from a queue
    REFUSED = "refused"  # blacklisted caller (ACD-10)
    IVR_ONLY = "ivr_only"  # ended in the IVR without queueing (message, voicemail node, hang-up)
    FAILED = "failed"  # lost by the network or the engine (also: found gone at an engine restart)


# A missed inbound call (未接来电): the caller wanted a person and got none. Not a refused
# (blacklisted) caller, one served by the IVR alone, or one forwarded to an external number.
MISSED_INBOUND = frozenset(
    {InboundOutcome.ABANDONED, InboundOutcome.OVERFLOWED_VOICEMAIL, InboundOutcome.FAILED}
)


class QueueResult(StrEnum):
    """How a call's wait in one queue ended (`queue_visits.result`; docs/metrics.md, "Queues")."""

    ANSWERED = "answered"  # an agent took it
    ABANDONED = "abandoned"  # the caller hung up waiting
    OVERFLOWED = "overflowed"  # sent on: another queue, a number or voicemail
    FAILED = "failed"  # the call was lost while waiting (network, engine restart)
