"""Start-up reconciliation: what a previous run (a crash, kill -9) left in the database and in Asterisk.

Before the engine places a call, every attempt still open in the database is matched with the
live channels (`CoreShowChannels`) by its channel id and closed with the outcome the channel
tells (`closing_outcome`, pure); channels the engine created and can no longer follow are hung
up, not orphaned; leads left in the hopper go back; agents left logged in are logged out (their
phone legs were hung up with the rest: they log in again); survey responses left open end as
partial, with the answers they have. Nothing is left in between.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from campaigns import agent_store, campaign_store, dial_store, hopper
from campaigns.dial_store import AttemptResult
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import CallOutcome, LeadState
from campaigns.surveys.responses import close_open_responses
from dialer.asterisk.ami import AmiError, AmiLink, ChannelSnapshot
from dialer.live.channel_ids import ChannelIds
from dialer.live.dbthread import DatabaseThread

log = logging.getLogger(__name__)

RESTART = "engine restart"
_ATTENDED = ("ConfBridge", "AGI", "Playback")  # talking to an agent, in a survey, hearing a message


def closing_outcome(channel: ChannelSnapshot | None) -> tuple[CallOutcome, str]:
    """How an attempt found open at start-up ends, by what its channel is doing (None: gone)."""
    if channel is None:
        return CallOutcome.FAILED, f"{RESTART}: the call ended while the engine was down"
    if channel.state != "Up":
        return CallOutcome.CANCELLED, f"{RESTART}: hung up while ringing"
    if channel.application in _ATTENDED:
        return CallOutcome.ANSWERED, f"{RESTART}: with an agent, a survey or a message, hung up"
    return CallOutcome.ABANDONED, f"{RESTART}: answered, no agent"


async def reconcile_after_restart(database: Database, ami: AmiLink) -> int:
    """Close what a previous run left open; returns how many attempts were closed."""
    db = DatabaseThread(database)
    try:
        alive = {channel.uniqueid: channel for channel in await ami.channels()}
        channel_ids = ChannelIds.for_database(database.masked_url)
        ours = [c for c in alive.values() if channel_ids.ours(c.uniqueid)]
        for channel in ours:
            try:
                await ami.hangup(channel.channel)
            except AmiError as exc:
                log.info("hang-up of %s: %s", channel.channel, exc)
        now = datetime.now(UTC)
        closed = 0
        for attempt in await db.run(dial_store.attempts_in_progress, database):
            outcome, text = closing_outcome(alive.get(attempt.channel_id))
            config = await db.run(campaign_store.load_campaign_by_id, database, attempt.campaign_id)
            result = AttemptResult(attempt.attempt_id, outcome, None, None, now, hangup_cause_text=text[:64])
            closing = database.in_transaction
            if await db.run(closing, dial_store.close_attempt, config, result) is LeadState.ANSWERED:
                await db.run(closing, dial_store.settle_undisposed, config, attempt.attempt_id, now)
            closed += 1
        await db.run(database.in_transaction, close_open_responses, now)
        requeued = await db.run(hopper.requeue_abandoned_hopper, database, now)
        agents = await db.run(agent_store.log_out_all, database, now, RESTART)
        if closed or requeued or agents or ours:
            log.warning(
                "reconciled after a restart: %d attempts closed, %d queued leads given back, "
                "%d agents logged out, %d channels hung up",
                closed,
                requeued,
                agents,
                len(ours),
            )
        return closed
    finally:
        db.close()
