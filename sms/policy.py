"""Send-time SMS rules (SMS-6, SMS-7): the policy a message goes under, its presets, and `decide` (pure).

Two classes of message have a policy each: marketing messages follow the campaign's compliance
preset (`marketing_policy`), transactional ones sent after a call (hang-up SMS) follow
`TRANSACTIONAL_POLICY`. A campaign may `customise_policy` either one: tightening is free,
loosening needs an `SmsOverride` naming the setting and comes back as an `AuditNote` (the one of
`campaigns.compliance.presets`) for the audit log. `presets.Override` cannot be reused as it is:
it only accepts the dialer's setting names, so `SmsOverride` is its twin for SMS settings.

`decide(policy, recipient, now)` answers for one message, checking in this order:

1. opt-out (when the policy honours it) -> Cancel "opted_out": it is permanent, checked first;
2. consent (when the policy needs it) -> Cancel "no_consent";
3. sending hours, open in every zone of the number -> the instant the message would go: `now`, or
   the next opening (`CallingHours.next_open`); none within the coming week -> Cancel
   "no_sending_window" (e.g. two zones whose hours never overlap);
4. frequency caps at that instant -> Cancel "frequency_cap". A capped message is cancelled rather
   than deferred: a marketing message piled up for later would arrive in a burst with the next
   ones, and a hang-up SMS is stale by then. Checking the caps at the instant the message would
   go means a message deferred overnight counts against tomorrow's cap, not today's.

Otherwise Send (open now) or Defer(until, "quiet_hours").

`per_day` counts the number's messages of the same class on the calendar day of that instant in
the recipient's local time. A number in several zones must be under the cap on its local day in
each of them (the strictest reading, as the dialer's attempt cap does). `per_week` counts any
rolling 7 x 24 h ending at that instant. A number with no known zone is judged in the policy's
`fallback_zone` (Asia/Shanghai for `cn`, Europe/London for `uk`); without one, in UTC: a campaign
sets its own zone there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from campaigns.compliance.abandonment import local_midnight
from campaigns.compliance.hours import CallingHours
from campaigns.compliance.presets import PRESETS, AuditNote
from campaigns.persistence.models.enums import CompliancePreset
from ringcast.errors import UserError
from sms.templates import SignatureStyle

WEEK = timedelta(days=7)
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class SmsPolicy:
    """What a message must respect when it is sent (see the module docstring for how it is applied).

    - `sending_hours` in the recipient's local time; None: any time.
    - `per_day`, `per_week`: messages of this class to one number per local calendar day and per
      rolling 7 x 24 h; None: no cap.
    - `needs_consent`: only to numbers with recorded consent; `honours_opt_out`: never to numbers
      on the SMS opt-out list.
    - `opt_out_text` ends every message ("回复TD退订"); None: none is added.
    - `signature`: how the sender's name signs a message (`sms.templates.marketing_text`).
    - `fallback_zone` for numbers whose zone is unknown; None: UTC.
    """

    sending_hours: CallingHours | None = None
    per_day: int | None = None
    per_week: int | None = None
    needs_consent: bool = False
    honours_opt_out: bool = True
    opt_out_text: str | None = None
    signature: SignatureStyle = SignatureStyle.CJK
    fallback_zone: ZoneInfo | None = None

    def __post_init__(self) -> None:
        for name in ("per_day", "per_week"):
            cap = getattr(self, name)
            if cap is not None and cap < 1:
                raise UserError(f"SMS policy {name}: must be at least 1 (got {cap})", hint="None for no cap")
        if self.opt_out_text is not None and not self.opt_out_text.strip():
            raise UserError("SMS policy opt_out_text is blank", hint="write one, e.g. 回复TD退订, or None")
        if self.opt_out_text is not None and not self.honours_opt_out:
            raise UserError(
                "SMS policy: the opt-out text offers an opt-out the policy does not honour",
                hint="honour opt-outs or drop the text",
            )


def marketing_policy(preset: CompliancePreset) -> SmsPolicy:
    """The marketing SMS policy of `preset`. Sending hours are the preset's calling hours (cn 09-21 is
    industry practice, us 08-21 the TCPA's, uk 08-21 practice); 1 a day and 3 a week are ringcast's
    defaults, not law; consent is required everywhere (compliance spec, marketing SMS)."""
    base = SmsPolicy(
        sending_hours=PRESETS[preset].calling_hours,
        per_day=1,
        per_week=3,
        needs_consent=True,
        opt_out_text="Reply STOP to opt out",
        signature=SignatureStyle.LATIN,
    )
    if preset is CompliancePreset.CN:
        return replace(
            base,
            opt_out_text="回复TD退订",
            signature=SignatureStyle.CJK,
            fallback_zone=ZoneInfo("Asia/Shanghai"),
        )
    if preset is CompliancePreset.UK:
        return replace(base, fallback_zone=ZoneInfo("Europe/London"))
    return base


TRANSACTIONAL_POLICY = SmsPolicy(per_day=3)
"""Hang-up and after-call messages: no consent needed and no quiet hours (they follow a call the
customer just had), opt-outs honoured, and at most 3 a day to one number against floods (a number
called again and again, or a hang-up rule gone wrong)."""


def _lower(old: Any, new: Any) -> bool:
    """Tighter when lower; None is no limit at all."""
    return new is not None and (old is None or new <= old)


def _kept(old: Any, new: Any) -> bool:
    """Any value is as strict, except dropping one that was there."""
    return new is not None or old is None


_TIGHTER: dict[str, Callable[[Any, Any], bool]] = {
    "sending_hours": lambda old, new: new is not None and (old is None or old.covers(new)),
    "per_day": _lower,
    "per_week": _lower,
    "needs_consent": lambda old, new: new >= old,
    "honours_opt_out": lambda old, new: new >= old,
    "opt_out_text": _kept,
    "signature": lambda old, new: True,
    "fallback_zone": lambda old, new: True,
}


@dataclass(frozen=True, slots=True)
class SmsOverride:
    """Leave to loosen SMS policy `settings` (field names of `SmsPolicy`): who decided, and why."""

    actor: str
    reason: str
    settings: frozenset[str]

    def __post_init__(self) -> None:
        if not self.actor.strip() or not self.reason.strip():
            raise UserError("SMS policy override: say who decides it and why")
        unknown = sorted(self.settings - _TIGHTER.keys())
        if unknown:
            raise UserError(f"SMS policy override: no setting named {', '.join(unknown)}")


@dataclass(frozen=True, slots=True)
class CustomisedPolicy:
    policy: SmsPolicy
    audit: tuple[AuditNote, ...] = ()


def customise_policy(
    preset: CompliancePreset,
    changes: Mapping[str, Any],
    override: SmsOverride | None = None,
    *,
    marketing: bool = True,
) -> CustomisedPolicy:
    """The base policy (`marketing_policy(preset)`, or `TRANSACTIONAL_POLICY`) with `changes` applied.

    Judged against the base, like `presets.customise`: pass all of a campaign's changes every time.
    A loosened setting needs `override` to name it and comes back as an `AuditNote` whose setting
    reads "sms_marketing.per_day" (or "sms_transactional.…").
    """
    unknown = sorted(changes.keys() - _TIGHTER.keys())
    if unknown:
        raise UserError(
            f"SMS policy: no setting named {', '.join(unknown)}", hint=f"known: {', '.join(_TIGHTER)}"
        )
    base = marketing_policy(preset) if marketing else TRANSACTIONAL_POLICY
    policy = replace(base, **changes)
    kind = "sms_marketing" if marketing else "sms_transactional"
    base_name = f"{preset.value} marketing policy" if marketing else "transactional policy"
    notes = []
    for name in changes:
        old, new = getattr(base, name), getattr(policy, name)
        if new == old or _TIGHTER[name](old, new):
            continue
        if override is None or name not in override.settings:
            raise UserError(
                f"{kind} {name}: {new} is looser than {old} of the {base_name}",
                hint="loosening needs an override saying who and why",
            )
        notes.append(AuditNote(override.actor, override.reason, preset, f"{kind}.{name}", str(old), str(new)))
    return CustomisedPolicy(policy, tuple(notes))


class Reason(StrEnum):
    """Why a message is not sent now (the outbox's `reason` column)."""

    OPTED_OUT = "opted_out"
    NO_CONSENT = "no_consent"
    NO_SENDING_WINDOW = "no_sending_window"
    FREQUENCY_CAP = "frequency_cap"
    QUIET_HOURS = "quiet_hours"


@dataclass(frozen=True, slots=True)
class Recipient:
    """What the policy looks at about the number a message goes to.

    `recent_sends`: when messages of the same class to this number were sent or are being sent,
    over the last 7 days at least (aware datetimes), not counting the message being decided.
    """

    opted_out: bool
    consented: bool
    zones: tuple[ZoneInfo, ...] = ()
    recent_sends: Sequence[datetime] = ()


@dataclass(frozen=True, slots=True)
class Send:
    """Send it now."""


@dataclass(frozen=True, slots=True)
class Defer:
    """Not before `until` (aware, in `now`'s zone), when sending opens in every zone of the number."""

    until: datetime
    detail: str
    reason: Reason = Reason.QUIET_HOURS


@dataclass(frozen=True, slots=True)
class Cancel:
    """Never send it: `reason` a short code, `detail` one line for people."""

    reason: Reason
    detail: str


Decision = Send | Defer | Cancel


def decide(policy: SmsPolicy, recipient: Recipient, now: datetime) -> Decision:
    """Whether a message to `recipient` goes at `now` (aware); see the module docstring for the order."""
    if now.utcoffset() is None:
        raise ValueError(f"decide needs an aware datetime, got {now}")
    if policy.honours_opt_out and recipient.opted_out:
        return Cancel(Reason.OPTED_OUT, "the number opted out of SMS")
    if policy.needs_consent and not recipient.consented:
        return Cancel(Reason.NO_CONSENT, "no consent to marketing SMS is recorded for the number")
    zones = recipient.zones or (policy.fallback_zone or UTC_ZONE,)
    hours = policy.sending_hours
    at = now if hours is None else hours.next_open(zones, now)
    where = ", ".join(map(str, zones))
    if at is None:
        return Cancel(Reason.NO_SENDING_WINDOW, f"sending hours {hours} never open at once in {where}")
    capped = _frequency_cap(policy, zones, recipient.recent_sends, at)
    if capped is not None:
        return Cancel(Reason.FREQUENCY_CAP, capped)
    return Send() if at == now else Defer(at, f"outside sending hours {hours} in {where}")


def _frequency_cap(
    policy: SmsPolicy, zones: tuple[ZoneInfo, ...], sends: Sequence[datetime], at: datetime
) -> str | None:
    """Why a message at `at` would exceed a cap (see the module docstring), or None."""
    if policy.per_day is not None:
        for zone in zones:
            start, end = (local_midnight(at, zone, days).astimezone(UTC) for days in (0, 1))
            today = sum(start <= sent < end for sent in sends)
            if today >= policy.per_day:
                day = at.astimezone(zone).date()
                return f"{today} sent to the number on {day} in {zone}, at most {policy.per_day} a day"
    if policy.per_week is not None:
        week = sum(at - WEEK < sent <= at for sent in sends)
        if week >= policy.per_week:
            return f"{week} sent to the number in the 7 days to {at.isoformat()}, at most {policy.per_week}"
    return None
