"""What waiting inbound callers are told of their place and wait (ACD-8), set on their channels.

For a queue with `announce_every_s`, each waiting caller's position and estimated wait
(`dialer.acd.announcements`; the handle time is the queue's average talk over the last day,
`InboundAcd.handle_times`) are worked out again whenever the board's order or staffing can have
changed (`changed`); only when what the caller is to hear changes are its sentences rendered (once
per sentence, TTS, by the engine's one `RenderOnce`) and set on its channel (AMI Setvar); the hold loop
(`ringcast-queue-hold`) says them every `announce_every_s`.

The hold loop reads the interval only as it starts a pause of music, which lasts up to
PARK_WAIT_S while nothing is to be said: a caller told for the first time (it waited before its
queue turned announcements on, overflowed into an announcing queue, or was taken back after a
restart), or given another interval, is Redirected to the loop's `announce` extension once its
variables are set (`announcements.restarts`): it hears the announcement at once, then at the new
interval.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from campaigns.surveys.document import Prompt
from dialer.acd.announcements import Telling, announce, announcement, phrases, restarts
from dialer.asterisk.ami import AmiError
from dialer.asterisk.confgen import (
    ANNOUNCE_AGAIN_EXTEN,
    ANNOUNCE_EVERY_VAR,
    ANNOUNCEMENT_VAR,
    POSITION_VAR,
    QUEUE_HOLD_CONTEXT,
    WAIT_MIN_VAR,
)
from dialer.asterisk.prompts import Message

if TYPE_CHECKING:
    from dialer.live.inbound_acd import InboundAcd

log = logging.getLogger(__name__)


class Announcements:
    def __init__(self, acd: InboundAcd) -> None:
        self.acd = acd
        self._told: dict[str, Telling] = {}  # by caller: what its channel is to say, how often
        self._looping: dict[str, int] = {}  # by caller: the interval its hold loop was restarted with

    def changed(self) -> None:
        """Tell each waiting caller of an announcing queue what it is to hear, when that changed."""
        board = self.acd.board
        for call_id, waiting in board.calls.items():
            config = board.queues[waiting.queue]
            if config.announce_every_s is None:
                continue
            command = announce(board, call_id, self.acd.handle_times.get(waiting.queue))
            told = Telling(announcement(command, config.announced), round(config.announce_every_s))
            if told != self._told.get(call_id):
                self._told[call_id] = told
                self.acd.dialer.in_background(self._tell(call_id, told, config.announce_language))

    def forget(self, call_id: str) -> None:
        self._told.pop(call_id, None)
        self._looping.pop(call_id, None)

    async def _tell(self, call_id: str, told: Telling, language: str) -> None:
        """Set what the caller's channel says once its sentences exist, restarting its hold loop
        when it must read the interval again."""
        said = told.said
        sounds = await self._sounds(phrases(said, language), language)
        if sounds is None or self._told.get(call_id) != told:
            return  # no prompt library, or superseded meanwhile
        restart = restarts(self._looping.get(call_id), told)
        variables = {ANNOUNCE_EVERY_VAR: str(told.every_s)} if restart else {}
        variables |= {
            POSITION_VAR: "" if said.position is None else str(said.position),
            WAIT_MIN_VAR: "" if said.wait_min is None else str(said.wait_min),
            ANNOUNCEMENT_VAR: "&".join(sounds),  # last: the dialplan reads the others with it
        }
        if not await self._set(call_id, variables):
            return
        log.debug("inbound call %s told %s", call_id, said)
        if restart and call_id in self.acd.board.calls:  # still in its hold loop
            self._looping[call_id] = told.every_s
            try:
                channel = self.acd.dialer.channel_name(call_id)
                await self.acd.dialer.ami.redirect(channel, QUEUE_HOLD_CONTEXT, ANNOUNCE_AGAIN_EXTEN)
            except AmiError as exc:
                log.warning("could not restart the announcements of %s: %s", call_id, exc)

    async def _sounds(self, sentences: tuple[str, ...], language: str) -> list[str] | None:
        """The sound of each sentence, rendered first if this run has not yet; None without a library."""
        rendered = self.acd.rendered
        if rendered is None:
            log.warning("no prompt library: waiting callers are not told their position")
            return None
        messages = [Message(Prompt(text=sentence), language) for sentence in sentences]
        for message in messages:
            await rendered.ready(("message", message), message)
        return [rendered.library.sound(message.prompt, language) for message in messages]

    async def _set(self, call_id: str, variables: dict[str, str]) -> bool:
        """Set the variables on the caller's channel; whether it is still followed and they were."""
        if self.acd.calls.get(call_id) is None:
            return False  # hung up meanwhile
        channel = self.acd.dialer.channel_name(call_id)
        try:
            for name, value in variables.items():
                await self.acd.dialer.ami.set_var(channel, name, value)
        except AmiError as exc:
            log.warning("could not update the announcement of %s: %s", call_id, exc)
            return False
        return True
