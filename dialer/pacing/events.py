"""The events the pacer is fed: what happened to calls and agents, each stamped with when it happened.

The live engine builds them from AMI and ACD events, the simulator from its model; the pacer never
reads a clock, so `at` (seconds from any fixed origin) is its only notion of time. Call and agent ids
are opaque to the pacer. A blended campaign's agents also serve inbound queues: `InboundTaken` and
`InboundWaiting` tell what inbound takes of them (see `inbound`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CallId = int | str
AgentId = int | str


class FailResult(StrEnum):
    """Why a dialed call ended without being answered."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    INVALID = "invalid"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PacingEvent:
    at: float


@dataclass(frozen=True, slots=True)
class CallDialed(PacingEvent):
    call_id: CallId


@dataclass(frozen=True, slots=True)
class CallAnswered(PacingEvent):
    """The far end picked up; with AMD on the analysis starts now, else the call waits for an agent."""

    call_id: CallId


@dataclass(frozen=True, slots=True)
class CallFailed(PacingEvent):
    """The call ended without an answer (busy, no answer by the timeout, invalid number, ...)."""

    call_id: CallId
    result: FailResult


@dataclass(frozen=True, slots=True)
class AmdVerdict(PacingEvent):
    """AMD finished: a human verdict makes the call wait for an agent; a machine one ends it."""

    call_id: CallId
    human: bool


@dataclass(frozen=True, slots=True)
class CallBridged(PacingEvent):
    call_id: CallId
    agent_id: AgentId


@dataclass(frozen=True, slots=True)
class CallAbandoned(PacingEvent):
    """A call waiting for an agent was not bridged in time (or hung up while waiting)."""

    call_id: CallId


@dataclass(frozen=True, slots=True)
class TalkEnded(PacingEvent):
    """The agent's call ended; after-call work (wrap-up) starts."""

    agent_id: AgentId


@dataclass(frozen=True, slots=True)
class WrapEnded(PacingEvent):
    """The agent finished wrap-up and is ready for the next call."""

    agent_id: AgentId


@dataclass(frozen=True, slots=True)
class AgentLoggedIn(PacingEvent):
    """The agent joined the campaign, ready. `min_wrap_s` and `max_occupancy` are AGT-7's guard;
    `blended`: the agent also serves inbound queues, which take it first."""

    agent_id: AgentId
    min_wrap_s: float = 0.0
    max_occupancy: float = 1.0
    blended: bool = False


@dataclass(frozen=True, slots=True)
class AgentLoggedOut(PacingEvent):
    agent_id: AgentId


@dataclass(frozen=True, slots=True)
class AgentPaused(PacingEvent):
    """The agent is not ready (break, training, ...) until `AgentResumed`."""

    agent_id: AgentId


@dataclass(frozen=True, slots=True)
class AgentResumed(PacingEvent):
    agent_id: AgentId


@dataclass(frozen=True, slots=True)
class InboundTaken(PacingEvent):
    """The (blended) agent was given an inbound call: away from outbound until its `TalkEnded` and
    then its `WrapEnded`, like an outbound call, but its talk time is not an outbound one."""

    agent_id: AgentId


@dataclass(frozen=True, slots=True)
class InboundWaiting(PacingEvent):
    """Inbound calls now waiting in the queues the campaign's blended agents serve (a level, not a
    change): they take the next blended agents free."""

    calls: int


@dataclass(frozen=True, slots=True)
class LeadsRemaining(PacingEvent):
    """How many leads are left to dial (`None`: unlimited); later dials count down from it."""

    remaining: int | None
