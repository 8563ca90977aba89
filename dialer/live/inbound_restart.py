"""A restarted engine's inbound calls: the callers a previous run left waiting are taken back.

At start (`InboundAcd.start`, once the queues are read), every inbound call the records show open
(`inbound_store.left_open`) is looked up in the pbx's own channel list (AMI CoreShowChannels):

- its caller still in the queue hold loop (`ringcast-queue-hold`, which keeps the caller for
  PARK_WAIT_S without the engine) with its wait open in a queue that still exists: the call waits
  again as it was (`dialer.acd.restart.taken_back`) and is served as usual; its open queue visit
  ends answered, abandoned or overflowed as the call goes on, so the queue counts it offered once;
- anything else cannot be resumed (its flow's FastAGI session, its agent's session, its ring-mode
  phones died with the previous run; or it was leaving a message, dialled out): its channel, if
  the pbx still has it, is hung up, and the call is closed (`inbound_store.close_stale`): `answered`
  when an agent had answered it, `failed` when it was lost in a queue, `ivr_only` before any queue.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from campaigns import inbound_store
from dialer.acd.restart import taken_back
from dialer.asterisk.confgen import QUEUE_HOLD_CONTEXT

if TYPE_CHECKING:
    from dialer.live.inbound_acd import InboundAcd

log = logging.getLogger(__name__)


async def take_back(acd: InboundAcd) -> None:
    """Take back the callers left waiting; close the other calls left open."""
    dialer = acd.dialer
    left = await dialer.db.run(inbound_store.left_open, dialer.database)
    if not left:
        return
    alive = {channel.uniqueid: channel for channel in await dialer.ami.channels()}
    now = datetime.now(UTC)
    lost: list[int] = []
    for record in left:
        channel = alive.get(record.uniqueid)
        on_hold = channel is not None and channel.context == QUEUE_HOLD_CONTEXT
        waiting = taken_back(record, on_hold, acd.board.queues, now)
        if channel is not None and waiting is not None:
            await acd.wait_again(record, waiting, channel.channel)
            log.info(
                "inbound call %s from %s: taken back, waiting in %s",
                record.call_id,
                record.caller,
                waiting.queue,
            )
            continue
        if channel is not None:
            await dialer.hangup_channel_named(channel.channel)
        lost.append(record.call_id)
    closed = await dialer.db.run(inbound_store.close_stale, dialer.database, now, lost) if lost else 0
    log.warning(
        "inbound calls a previous run left open: %d taken back, %d closed", len(left) - len(lost), closed
    )
