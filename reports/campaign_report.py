"""The `campaign` report (RPT-4): what a campaign's dialling achieved, per campaign and time bucket.

Counted over attempts that ended in the period (`ended_at` in [from, to)), cancelled ones left out
(we hung up before anyone answered: no call reached anybody). A call spanning midnight counts on
the day, hour or week it ended. Definitions (docs/metrics.md, "Campaign"):

- attempts: those calls;
- answered (接通): a person or a machine picked up: outcomes `answered`, `abandoned`, `machine`;
  answer rate = answered / attempts;
- human answers: `answered` + `abandoned`; machine answers: `machine` (AMD's verdict);
- contacts: `answered` (a person was served: by an agent, a survey or a recorded message);
- abandoned: a person answered and no agent joined within the preset's time (DIAL-7); abandon rate
  = abandoned / human answers, as the compliance presets count it (live-answered calls); the
  cap is the campaign's; the rolling window the preset measures it over is the compliance report's;
- dispositions: the codes agents gave the contacts, counted;
- conversion = contacts whose disposition is one of the success codes (`--success`, default
  `sale`) / contacts;
- attempts per lead = attempts / distinct leads attempted (over the whole period only: a lead's
  attempts in several buckets cannot be told apart without reading every call);
- list penetration = leads of the campaign's lists that are finished (done, exhausted or blocked)
  / all their leads, as of now (lead states are not kept per day).

Aggregated in SQL: one GROUP BY over the period's attempts by campaign, quarter hour (when
bucketed), outcome and disposition code; rows come back per group, not per call.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from campaigns import campaign_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, Campaign, CampaignList, Disposition, Lead
from campaigns.persistence.models.enums import CallOutcome, LeadState
from reports.buckets import quarter_hour, start_of
from reports.query import ReportQuery
from reports.scope import campaign_ids, ended_in
from reports.tables import Column, Kind, Report, ratio

_ANSWERED = (CallOutcome.ANSWERED, CallOutcome.ABANDONED, CallOutcome.MACHINE)
_HUMAN = (CallOutcome.ANSWERED, CallOutcome.ABANDONED)
_FINISHED = (LeadState.DONE, LeadState.EXHAUSTED, LeadState.DNC_BLOCKED)
DEFAULT_SUCCESS = ("sale",)
COLUMNS = (
    Column("attempts"),
    Column("answered"),
    Column("answer rate", Kind.RATE),
    Column("human"),
    Column("machine"),
    Column("contacts"),
    Column("abandoned"),
    Column("abandon rate", Kind.RATE),
    Column("abandon cap", Kind.RATE),
    Column("conversions"),
    Column("conversion", Kind.RATE),
    Column("attempts per lead"),
    Column("list penetration", Kind.RATE),
    Column("dispositions", Kind.TEXT),
)


@dataclass
class _Tally:
    outcomes: Counter[CallOutcome] = field(default_factory=Counter)
    dispositions: Counter[str] = field(default_factory=Counter)
    leads: int = 0

    def add(self, outcome: CallOutcome, code: str | None, count: int) -> None:
        self.outcomes[outcome] += count
        if code is not None:
            self.dispositions[code] += count

    def cells(self, cap: float, success: Collection[str], penetration: float | None) -> list[Any]:
        attempts = sum(self.outcomes.values())
        answered = sum(self.outcomes[o] for o in _ANSWERED)
        human = sum(self.outcomes[o] for o in _HUMAN)
        contacts = self.outcomes[CallOutcome.ANSWERED]
        abandoned = self.outcomes[CallOutcome.ABANDONED]
        conversions = sum(self.dispositions[code] for code in success)
        per_lead = round(attempts / self.leads, 2) if self.leads else None
        codes = ", ".join(
            f"{code} {n}" for code, n in sorted(self.dispositions.items(), key=lambda i: (-i[1], i[0]))
        )
        return [
            attempts,
            answered,
            ratio(answered, attempts),
            human,
            self.outcomes[CallOutcome.MACHINE],
            contacts,
            abandoned,
            ratio(abandoned, human),
            cap,
            conversions,
            ratio(conversions, contacts),
            per_lead,
            penetration,
            codes,
        ]


def campaign_report(
    database: Database, query: ReportQuery, success: Collection[str] = DEFAULT_SUCCESS
) -> Report:
    """The report (see the module docstring) for `query`'s campaign, or every campaign with calls."""
    with database.session() as session:
        dialect = session.get_bind().dialect.name
        bucket = quarter_hour(Attempt.ended_at, dialect) if query.by is not None else None
        ids = campaign_ids(session, query.campaign)
        known = {
            row.id: campaign_store.config_of(session, row)
            for row in session.scalars(select(Campaign).where(Campaign.id.in_(ids)))
        }
        period = (*ended_in(query, ids), Attempt.outcome != CallOutcome.CANCELLED)
        keys = [Attempt.campaign_id] + ([bucket] if bucket is not None else [])
        grouped = (
            select(*keys, Attempt.outcome, Disposition.code, func.count())
            .outerjoin(Disposition, Disposition.id == Attempt.disposition_id)
            .where(*period)
            .group_by(*keys, Attempt.outcome, Disposition.code)
        )
        tallies: dict[tuple[int, str], _Tally] = defaultdict(_Tally)
        for row in session.execute(grouped):
            label = query.bucket_of(start_of(row[1])) if bucket is not None else ""
            outcome, code, count = row[-3:]
            tallies[(row[0], label)].add(
                CallOutcome(str(outcome)), None if code is None else str(code), int(count)
            )
        if bucket is None:
            leads = select(Attempt.campaign_id, func.count(func.distinct(Attempt.lead_id)))
            for campaign_id, count in session.execute(leads.where(*period).group_by(Attempt.campaign_id)):
                tallies[(campaign_id, "")].leads = count
        penetration = _penetration(session, list(known))
    rows = []
    for (campaign_id, label), tally in sorted(
        tallies.items(), key=lambda item: (item[0][1], known[item[0][0]].name)
    ):
        campaign = known[campaign_id]
        cap = campaign.compliance.abandon_cap
        head = [label, campaign.name] if query.by is not None else [campaign.name]
        rows.append(head + tally.cells(cap, success, penetration.get(campaign_id)))
    head_columns = [Column("bucket", Kind.TEXT)] if query.by is not None else []
    notes = [
        "attempts ended in the period, cancelled ones left out; definitions: docs/metrics.md (Campaign)",
        f"conversion: dispositions {', '.join(success)}; list penetration as of now",
    ]
    return Report("campaign", [*head_columns, Column("campaign", Kind.TEXT), *COLUMNS], rows, notes)


def _penetration(session: Session, campaign_ids: list[int]) -> dict[int, float | None]:
    finished = func.sum(case((Lead.state.in_(_FINISHED), 1), else_=0))
    query = (
        select(CampaignList.campaign_id, func.count(), finished)
        .join(Lead, Lead.list_id == CampaignList.list_id)
        .where(CampaignList.campaign_id.in_(campaign_ids))
        .group_by(CampaignList.campaign_id)
    )
    return {campaign_id: ratio(int(done or 0), total) for campaign_id, total, done in session.execute(query)}
