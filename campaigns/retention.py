"""Retention of finished leads' personal data, per campaign (CMPL-6): the pure rules.

A campaign's `retention_days` (None: kept forever) says how long the personal data of its
finished leads (states `FINISHED_LEAD_STATES`) is kept after their last activity; then
`ringcast purge` anonymises it (`cli.purge` does the database work with these rules).

Last activity is the latest of the lead's last attempt (else, never dialled, its `updated_at`)
and its latest SMS: a message is a record of a contact too, so it restarts the clock.

Who decides: a lead belongs to one list, which several campaigns may dial, and may have been
dialled by campaigns that have since detached its list. Each of those campaigns must allow the
purge, so a lead's cutoff is the earliest of their cutoffs (`lead_cutoff`), and one campaign
without retention keeps it forever. A lead whose list no campaign attaches is in no campaign's
retention and is kept. A lead with an SMS still to send or a pending callback is not finished
business and is kept too.

The preset's records rule is a floor (`RECORDS_RULES`): a shorter retention is refused, with no
override, because it is the law's (or, where the law gives no figure, ringcast's) record keeping,
not a dialing setting. What "records" means here: the attempts (dial, answer and end times,
outcome, disposition, agent, hang-up cause), survey answers and SMS rows are never deleted by a
purge, so counts and reports stay right forever; the personal parts of them (the number, the
message text) are kept for the retention, which is at least the preset's minimum. Since every
attempt and message of a lead precedes its last activity, each of them is then older than the
minimum. So `us` keeps each call's number and times 24 months (730 days), `cn` keeps numbers and
times (and recordings, once there are any) at least 30 days; `uk` and `custom` give no figure and
get ringcast's floor of 30 days: the longest window its own checks read back (abandonment over 30
days; attempts per number a day or a week; redial 72 h after an abandoned call).

Anonymised means the number is replaced by `purge_token(lead_id)`: "purged:" and the lead id in
hex. It carries nothing of the number (a hash of a phone number, keyed or not, can be reversed by
trying the few billion numbers of a country, by whoever holds the key), it is the same on every
run (so a purge can be repeated and resumed), it is unique per lead (no clash on the leads'
unique (list_id, e164)), it fits the 16-character number columns for lead ids below 16**9, and it
starts with no "+", so no blocklist entry, cap or prefix ever matches it. The same token replaces
the number on the lead's attempts, SMS and `dial.refused` audit rows, so they still belong
together. `cli.purge` lists every column it clears.

Cutoffs are instants: `now - retention_days * 24 h` in UTC, not calendar days in some zone; a lead
is due when its last activity is strictly before the cutoff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.persistence.models.enums import CompliancePreset, LeadState
from ringcast.errors import UserError

FINISHED_LEAD_STATES = (LeadState.DONE, LeadState.EXHAUSTED, LeadState.DNC_BLOCKED)
PURGED_PREFIX = "purged:"
TOKEN_MAX_LENGTH = 16  # leads.e164, attempts.e164, sms_messages.to_e164 are String(16)


@dataclass(frozen=True, slots=True)
class RecordsRule:
    """How long a preset asks call records to be kept, and where the figure comes from."""

    min_days: int
    records: str  # what the preset asks to keep, for the refusal


RECORDS_RULES: Mapping[CompliancePreset, RecordsRule] = {
    CompliancePreset.US: RecordsRule(730, "dialing records 24 months"),
    CompliancePreset.CN: RecordsRule(30, "recordings, numbers, times and consent proof at least 30 days"),
    CompliancePreset.UK: RecordsRule(30, "call records (no figure; ringcast's floor is 30 days)"),
    CompliancePreset.CUSTOM: RecordsRule(30, "call records (ringcast's floor is 30 days)"),
}


def check_retention(preset: CompliancePreset, retention_days: int | None) -> None:
    """Refuse a retention shorter than the preset's records rule (None, kept forever, always passes)."""
    rule = RECORDS_RULES[preset]
    if retention_days is not None and retention_days < rule.min_days:
        raise UserError(
            f"campaign retention_days: the {preset.value} preset keeps {rule.records}:"
            f" give at least {rule.min_days} days (got {retention_days})"
        )


def cutoff(retention_days: int | None, now: datetime) -> datetime | None:
    """Leads last active before this are due; None: kept forever."""
    return None if retention_days is None else now - timedelta(days=retention_days)


@dataclass(frozen=True, slots=True)
class CampaignRetention:
    """What the rules need of one campaign: its retention and the lists it dials."""

    campaign_id: int
    name: str
    preset: CompliancePreset
    retention_days: int | None
    list_ids: frozenset[int]


def list_cutoffs(campaigns: Iterable[CampaignRetention], now: datetime) -> dict[int, datetime | None]:
    """Per attached list, the earliest cutoff of the campaigns dialling it (None if one keeps forever)."""
    cutoffs: dict[int, list[datetime | None]] = {}
    for campaign in campaigns:
        for list_id in campaign.list_ids:
            cutoffs.setdefault(list_id, []).append(cutoff(campaign.retention_days, now))
    return {list_id: lead_cutoff(found) for list_id, found in cutoffs.items()}


def lead_cutoff(cutoffs: Iterable[datetime | None]) -> datetime | None:
    """The earliest of the cutoffs; None (kept forever) if any is None or there is none."""
    found = list(cutoffs)
    if not found or any(moment is None for moment in found):
        return None
    return min(moment for moment in found if moment is not None)


def lists_to_purge(
    campaigns: Sequence[CampaignRetention], scope: Iterable[int]
) -> dict[int, tuple[int, ...]]:
    """Which campaign of `scope` (ids) purges which list: each list once, by the first campaign (lowest
    id) attaching it; a campaign without retention purges none. Whether a lead is due does not
    depend on who purges it, so this only says under which campaign it is counted and audited."""
    wanted = set(scope)
    taken: set[int] = set()
    assigned: dict[int, tuple[int, ...]] = {}
    for campaign in sorted(campaigns, key=lambda found: found.campaign_id):
        if campaign.campaign_id not in wanted or campaign.retention_days is None:
            continue
        mine = tuple(sorted(campaign.list_ids - taken))
        taken.update(mine)
        assigned[campaign.campaign_id] = mine
    return assigned


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What decides whether one finished, not yet anonymised lead is due."""

    lead_id: int
    list_id: int
    last_attempt_at: datetime | None
    updated_at: datetime
    last_message_at: datetime | None = None
    attempt_campaigns: frozenset[int] = frozenset()  # campaigns that dialled it
    open_business: bool = False  # an SMS still to send, or a pending callback

    @property
    def last_activity(self) -> datetime:
        dialled = self.last_attempt_at or self.updated_at
        return max(dialled, self.last_message_at) if self.last_message_at else dialled


def is_due(
    lead: LeadFacts,
    lists: Mapping[int, datetime | None],
    campaigns: Mapping[int, datetime | None],
) -> bool:
    """Whether every campaign concerned (those attaching its list, those that dialled it) lets it go.

    `lists` holds `list_cutoffs`; `campaigns` the cutoff of every campaign by id (a campaign not
    in it is taken to keep its leads forever)."""
    if lead.open_business or lead.list_id not in lists:
        return False
    concerned = [lists[lead.list_id], *(campaigns.get(found) for found in lead.attempt_campaigns)]
    limit = lead_cutoff(concerned)
    return limit is not None and lead.last_activity < limit


def purge_token(lead_id: int) -> str:
    """The lead's number once anonymised (see the module docstring)."""
    token = f"{PURGED_PREFIX}{lead_id:x}"
    if lead_id < 0 or len(token) > TOKEN_MAX_LENGTH:
        raise ValueError(f"lead id {lead_id} has no purge token of at most {TOKEN_MAX_LENGTH} characters")
    return token


def is_purged(e164: str) -> bool:
    return e164.startswith(PURGED_PREFIX)
