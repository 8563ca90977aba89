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
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from campaigns import inbound_store
from dialer.acd.restart import taken_back
from dialer.asterisk.confgen import QUEUE_HOLD_CONTEXT
from dialer.asterisk.events import ChannelHungUp

if TYPE_CHECKING:
    from dialer.live.inbound_acd import InboundAcd
    from dialer.live.inbound_call import InboundCall

log = logging.getLogger(__name__)


async def take_back(acd: InboundAcd) -> None:
    """Take back the callers left waiting; close the other calls left open.

    Only calls that arrived before this run are looked at: FastAGI serves new callers while the
    engine starts. Every caller taken back is followed before the first await after the channel
    list (a hang-up then is not missed); a caller gone between the listing and then is found by a
    second listing and ends as hung up."""
    dialer = acd.dialer
    records = await dialer.db.run(inbound_store.left_open, dialer.database)
    left = [
        record
        for record in records
        if record.arrived_at < acd.created_at and not acd.follows(record.uniqueid)
    ]
    if not left:
        return
    alive = {channel.uniqueid: channel for channel in await dialer.ami.channels()}
    now = datetime.now(UTC)
    taken: list[InboundCall] = []
    lost: list[int] = []
    hang_up: list[str] = []
    for record in left:  # no await here
        channel = alive.get(record.uniqueid)
        on_hold = channel is not None and channel.context == QUEUE_HOLD_CONTEXT
        waiting = taken_back(record, on_hold, acd.board.queues, now)
        if channel is not None and waiting is not None:
            taken.append(acd.wait_again(record, waiting, channel.channel))
            log.info(
                "inbound call %s from %s: taken back, waiting in %s",
                record.call_id,
                record.caller,
                waiting.queue,
            )
            continue
        if channel is not None:
            hang_up.append(channel.channel)
        lost.append(record.call_id)
    for call in taken:
        await acd.back_in_line(call)
    for name in hang_up:
        await dialer.hangup_channel_named(name)
    closed = await dialer.db.run(inbound_store.close_stale, dialer.database, now, lost) if lost else 0
    log.warning("inbound calls a previous run left open: %d taken back, %d closed", len(taken), closed)
    if taken:
        await _gone_meanwhile(acd, taken)


async def _gone_meanwhile(acd: InboundAcd, taken: list[InboundCall]) -> None:
    """End the taken-back callers who hung up before they were followed (their hang-up was not
    read): no longer in the pbx's channel list."""
    still = {channel.uniqueid for channel in await acd.dialer.ami.channels()}
    for call in taken:
        if acd.calls.get(call.uniqueid) is call and call.uniqueid not in still:
            log.info("inbound call %s from %s: gone while it was taken back", call.call_id, call.caller)
            gone = ChannelHungUp(time.time(), call.uniqueid, call.uniqueid, "", 16, "Normal Clearing")
            await acd.hung_up(gone)
