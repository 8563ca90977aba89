"""Which calls a report reads: the period's attempts of the campaigns in scope, by the instant they
ended or were dialled, filtered the way the covering indexes serve them.

Both indexes (`ix_attempts_campaign_ended`, `ix_attempts_campaign_dialed`, see
`campaigns/persistence/models/calls.py`) lead with the campaign, then the instant: a filter on the
campaign ids and the instant's range is a seek per campaign, and every column a report reads is in
the index, so the table itself is never read. Without the campaign filter the databases would scan
the whole index or the table. `--campaign` narrows the ids to one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from campaigns.agent_store import named
from campaigns.persistence.models import Attempt, Campaign
from reports.query import ReportQuery


def campaign_ids(session: Session, name: str | None) -> list[int]:
    """The campaign called `name` (one clear error when there is none), or every campaign."""
    if name is not None:
        return [named(session, Campaign, name).id]
    return list(session.scalars(select(Campaign.id).order_by(Campaign.id)))


def ended_in(query: ReportQuery, campaigns: list[int]) -> tuple[ColumnElement[bool], ...]:
    """Calls of `campaigns` that ended in the query's period."""
    return (
        Attempt.campaign_id.in_(campaigns),
        Attempt.ended_at >= query.since,
        Attempt.ended_at < query.until,
    )


def dialled_in(
    query: ReportQuery, campaigns: list[int], slack: timedelta = timedelta(0)
) -> tuple[ColumnElement[bool], ...]:
    """Calls of `campaigns` dialled in the query's period, widened by `slack` on both sides."""
    return (
        Attempt.campaign_id.in_(campaigns),
        Attempt.dialed_at >= query.since - slack,
        Attempt.dialed_at < query.until + slack,
    )
