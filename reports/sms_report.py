"""The `sms` report (RPT-5): what became of the messages asked for in the period, per provider.

Counted over messages created in the period (`created_at` in [from, to)), by provider (the
sender's default shown as `default`) and, with `--by`, by the bucket they were created in.
Definitions (docs/metrics.md, "SMS"):

- messages: all of them, whatever their state;
- accepted: the provider took them (they have its message id): `sent`, `delivered`, and `failed`
  with reason `undelivered` (a receipt said so);
- delivered: a delivery receipt said so; delivery rate = delivered / accepted;
- undelivered: accepted, then a receipt said failed;
- not sent: `failed` before the provider took them (invalid number, bad text, rejected, out of
  tries, unknown outcome, no provider), by reason;
- held back: `cancelled` by the send-time rules (opted out, blacklisted, no consent, caps);
- open: still `queued` or `sending` (due later, deferred by quiet hours, or in flight);
- parts: message parts (segments) of the accepted messages: what the provider bills.

`--campaign` keeps the messages of that campaign's calls (hang-up SMS, survey follow-ups, agents'
messages). Aggregated in SQL by provider, state, reason and quarter hour.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import Campaign, SmsMessage
from campaigns.persistence.models.enums import SmsState
from reports.buckets import quarter_hour, start_of
from reports.query import ReportQuery
from reports.tables import Column, Kind, Report, ratio

_ACCEPTED = (SmsState.SENT, SmsState.DELIVERED)
_OPEN = (SmsState.QUEUED, SmsState.SENDING)
COLUMNS = (
    Column("messages"),
    Column("accepted"),
    Column("delivered"),
    Column("undelivered"),
    Column("delivery rate", Kind.RATE),
    Column("not sent"),
    Column("held back"),
    Column("open"),
    Column("parts"),
    Column("reasons", Kind.TEXT),
)


@dataclass
class _Tally:
    states: Counter[SmsState] = field(default_factory=Counter)
    undelivered: int = 0
    parts: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, state: SmsState, reason: str | None, count: int, parts: int) -> None:
        self.states[state] += count
        undelivered = state is SmsState.FAILED and reason == "undelivered"
        if state in _ACCEPTED or undelivered:
            self.parts += parts
        if undelivered:
            self.undelivered += count
        elif reason is not None and state in (SmsState.FAILED, SmsState.CANCELLED):
            self.reasons[reason] += count

    def cells(self) -> list[Any]:
        accepted = sum(self.states[state] for state in _ACCEPTED) + self.undelivered
        delivered = self.states[SmsState.DELIVERED]
        by_count = sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))
        return [
            sum(self.states.values()),
            accepted,
            delivered,
            self.undelivered,
            ratio(delivered, accepted),
            self.states[SmsState.FAILED] - self.undelivered,
            self.states[SmsState.CANCELLED],
            sum(self.states[state] for state in _OPEN),
            self.parts,
            ", ".join(f"{reason} {n}" for reason, n in by_count),
        ]


def sms_report(database: Database, query: ReportQuery) -> Report:
    """The report (see the module docstring) for `query`."""
    with database.session() as session:
        dialect = session.get_bind().dialect.name
        bucket = quarter_hour(SmsMessage.created_at, dialect) if query.by is not None else None
        keys = [SmsMessage.provider] + ([bucket] if bucket is not None else [])
        grouped = (
            select(*keys, SmsMessage.state, SmsMessage.reason, func.count(), func.sum(SmsMessage.segments))
            .where(SmsMessage.created_at >= query.since, SmsMessage.created_at < query.until)
            .group_by(*keys, SmsMessage.state, SmsMessage.reason)
        )
        if query.campaign is not None:
            grouped = grouped.join(Campaign, Campaign.id == SmsMessage.campaign_id).where(
                Campaign.name == query.campaign
            )
        tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
        for row in session.execute(grouped):
            values: list[Any] = list(row)
            label = query.bucket_of(start_of(values[1])) if bucket is not None else ""
            state, reason, count, parts = values[-4:]
            tallies[(label, values[0])].add(SmsState(state), reason, count, parts or 0)
    head = [Column("bucket", Kind.TEXT)] if query.by is not None else []
    rows = [
        ([label] if query.by is not None else []) + [provider, *tally.cells()]
        for (label, provider), tally in sorted(tallies.items())
    ]
    notes = ["messages created in the period; definitions: docs/metrics.md (SMS)"]
    return Report("sms", [*head, Column("provider", Kind.TEXT), *COLUMNS], rows, notes)
