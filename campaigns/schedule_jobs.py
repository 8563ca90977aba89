"""The engine's scheduled campaign moves (CB-3, CB-4): start drafts and stop campaigns on their schedule.

`apply_due_moves` is what the engine's timer runs (every `EVERY_S`, and once at start-up, so a
move that fell due while no engine ran is made at the next start). The schedule lives in each
campaign's settings in the database, not in the timer: nothing is lost with a restart. With
several engine processes the job runs in one of them at a time, the holder of the
`campaign-schedules` lease; and each move is `campaign_store.change_state`, a locked, audited
state change that a second attempt finds already made. A start is checked like a manual one:
one that cannot start (no agents, no leads in their hours) is reported and tried again at the
next run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns import campaign_store
from campaigns.campaign_store import CampaignEvent
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence import leases
from campaigns.persistence.db import Database
from ringcast.errors import UserError

log = logging.getLogger(__name__)

EVERY_S = 15.0
LEASE = "campaign-schedules"
ACTOR = "schedule"


@dataclass(frozen=True, slots=True)
class Move:
    campaign: str
    event: CampaignEvent
    done: bool
    problem: str | None = None  # why it could not be made (it is tried again)


def apply_due_moves(database: Database, holder: str, now: datetime, trunks: Sequence[str]) -> list[Move]:
    """Make every state change the campaigns' schedules ask for at `now`, if `holder` runs the job."""
    with database.session() as session:
        if not leases.take(session, LEASE, holder, now, timedelta(seconds=EVERY_S * 4)):
            return []
        due = [
            (config.name, move)
            for config in campaign_store.unfinished_campaigns(session)
            if (move := config.schedule.due_move(config.state, now)) is not None
        ]
    moves = []
    for name, move in due:
        event = CampaignEvent(move.value)
        try:
            campaign_store.change_state(database, name, event, Change(ACTOR, now), trunks=trunks)
        except UserError as error:
            log.warning("campaign %s: its scheduled %s cannot be made: %s", name, event.value, error)
            moves.append(Move(name, event, False, str(error)))
            continue
        log.info("campaign %s: scheduled %s made", name, event.value)
        moves.append(Move(name, event, True))
    return moves
