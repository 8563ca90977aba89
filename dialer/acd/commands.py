"""What the ACD's decisions ask the engine to do: frozen commands, by call id and agent id.

`Offer` and `Ring` connect a call (the engine takes it off the board while it does); `Overflow`
moves it out of its queue; `FallBack` makes a direct call its queue's (`calls.fallen_back`);
`SetNotReady` pauses an agent (the engine applies `AgentStatus.pause`); `Announce` tells a waiting
caller where they stand; `Refuse` and `FlagMalicious` come from screening.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialer.acd.queues import OverflowTarget

RING_NO_ANSWER = "ring_no_answer"  # SetNotReady's reason when a ring-mode agent let a call ring out


class Refusal(StrEnum):
    MESSAGE = "message"  # play the configured message, then hang up
    BUSY = "busy"  # answer with busy, never connected


@dataclass(frozen=True, slots=True)
class Offer:
    """Connect `call` to `agent`: at once for an agent on a persistent connection; a ring-mode
    agent's phone rings for the queue's `ring_timeout_s`."""

    call: str
    agent: int


@dataclass(frozen=True, slots=True)
class Ring:
    """Ring every one of `agents` for `call` (ring-all); the first to answer takes it."""

    call: str
    agents: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Overflow:
    call: str
    target: OverflowTarget


@dataclass(frozen=True, slots=True)
class FallBack:
    """The direct call waits for any agent of its queue from now on (`calls.fallen_back`)."""

    call: str


@dataclass(frozen=True, slots=True)
class SetNotReady:
    agent: int
    reason: str


@dataclass(frozen=True, slots=True)
class Announce:
    """Say the caller's `position` (1: next) and estimated wait (None: unknown, nobody staffed)."""

    call: str
    position: int
    ewt_s: float | None


@dataclass(frozen=True, slots=True)
class Refuse:
    call: str
    how: Refusal


@dataclass(frozen=True, slots=True)
class FlagMalicious:
    """Show the call as malicious on the agent's screen pop (恶意电话警示); it is routed as usual."""

    call: str


Command = Offer | Ring | Overflow | FallBack | SetNotReady | Announce | Refuse | FlagMalicious
