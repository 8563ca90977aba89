"""One inbound call as the engine follows it, from its FastAGI flow to its hang-up.

An `InboundCall` is kept from the call's record being opened until the caller's channel hangs up.
Its `stage` says where the caller is; should the caller hang up there, the call ends as
`ends_as()` says: in the flow (messages, a flow's hang-up) `ivr_only`; waiting in a queue, while
ring-mode agents' phones ring for it, or on the way to an agent `abandoned`; with an agent
`answered`; sent to a number or, from a queue, to
voicemail, as overflowed; refused (blacklisted) `refused`; and `failed` when the engine could not
carry out where its flow sent it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from campaigns.persistence.models.enums import InboundOutcome
from dialer.acd.calls import WaitingCall

if TYPE_CHECKING:
    from dialer.asterisk.fastagi import AgiCall

VOICEMAIL_DIR = "ringcast-voicemail"  # messages are kept under the pbx's spool directory, one dir a box
_UNSAFE = re.compile(r"[^\w.@-]")


class Stage(StrEnum):
    IVR = "ivr"  # in its flow (FastAGI)
    WAITING = "waiting"  # held in its queue, on the ACD's board
    RINGING = "ringing"  # ring-mode agents reserved, their phones ringing (ACD-6); still in its queue's music
    OFFERED = "offered"  # an agent reserved, the caller on its way into the agent's conference
    TALKING = "talking"  # in the agent's conference
    DIALLED = "dialled"  # sent on to an external number
    VOICEMAIL = "voicemail"  # leaving a message
    REFUSED = "refused"  # blacklisted: hearing the number's message, or busy, before the hang-up
    FAILED = "failed"  # its flow's end is not carried out: hearing the number's message


_ENDS_AS = {
    Stage.IVR: InboundOutcome.IVR_ONLY,
    Stage.WAITING: InboundOutcome.ABANDONED,
    Stage.RINGING: InboundOutcome.ABANDONED,
    Stage.OFFERED: InboundOutcome.ABANDONED,
    Stage.TALKING: InboundOutcome.ANSWERED,
    Stage.DIALLED: InboundOutcome.OVERFLOWED_NUMBER,
    Stage.REFUSED: InboundOutcome.REFUSED,
    Stage.FAILED: InboundOutcome.FAILED,
}


@dataclass
class InboundCall:
    """`waiting` is the call's entry on the board, kept while agents are offered it (should none
    take it, it waits again with its arrival); `queued`: it has been in a queue."""

    call_id: int
    uniqueid: str
    caller: str
    region: str | None
    arrived_at: datetime
    stage: Stage = Stage.IVR
    queued: bool = False
    waiting: WaitingCall | None = None
    agent_id: int | None = None
    voicemail: str | None = None  # the message's file, relative to the pbx's spool directory
    wake: asyncio.TimerHandle | None = None
    flags: tuple[str, ...] = ()  # vip, malicious: shown on the agent's screen (ACD-3, ACD-10)
    session: AgiCall | None = None  # its FastAGI session while its flow queues it: moves go through it
    # the agent who last answered the caller before this call, and when (caller memory), as looked
    # up on its arrival (`inbound_lookup`); None once an agent has let it go on to a queue or a
    # flow (`CallControls.as_inbound`), and for an outbound customer sent on
    last_served: tuple[int, datetime] | None = None

    def ends_as(self) -> InboundOutcome:
        if self.stage is Stage.VOICEMAIL:
            return InboundOutcome.OVERFLOWED_VOICEMAIL if self.queued else InboundOutcome.IVR_ONLY
        return _ENDS_AS[self.stage]

    def leave_message(self, box: str) -> str:
        """Send the caller to voicemail box `box`; the message's file (without extension)."""
        self.stage = Stage.VOICEMAIL
        self.voicemail = f"{VOICEMAIL_DIR}/{_UNSAFE.sub('_', box)}/{self.uniqueid}"
        return self.voicemail
