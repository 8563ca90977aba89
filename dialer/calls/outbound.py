"""One outbound call's life, from the originate to the hang-up, as a pure state machine (DIAL-7).

    dialing --answered--> detecting (AMD on) | waiting (a human, AMD off)
                        | connecting (an agent was reserved before the dial: preview, click-to-call)
                        | in_ivr (a broadcast call: a human, AMD off)
    detecting --verdict(human)--> waiting | in_ivr (broadcast); --verdict(machine)--> dropping
    waiting --reserve(agent)--> connecting --joined--> bridged
    waiting --abandon--> abandoning (the abandon message plays, then the call is hung up)
    bridged --surveyed--> in_ivr (the agent left, the customer went on to the post-call survey)
    any state --hung_up--> ended, with the outcome that state implies

A broadcast campaign's call (`ivr`) never waits for an agent: its human goes to the survey or
the recorded message (`in_ivr`) and is never abandoned.

A human is "known" at the answer (AMD off) or at the human verdict; from then the call may wait
for an agent `connect_within` (2 s by law); after that the engine abandons it. `connect_ms` is the
time from the human being known to the customer joining the agent's conference. The machine
values are frozen; each event returns the new value, the engine carries out the rest (Redirect,
Hangup) and feeds the pacer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from enum import StrEnum

from campaigns.persistence.models.enums import AmdResult, CallOutcome
from dialer.outcomes import DialOutcome
from ringcast.transitions import transition

log = logging.getLogger(__name__)
_LOG_LEVEL = logging.DEBUG


class CallState(StrEnum):
    DIALING = "dialing"
    DETECTING = "detecting"  # answered, AMD listening
    WAITING = "waiting"  # a human, waiting for an agent
    CONNECTING = "connecting"  # an agent is reserved, the customer is being moved to its conference
    BRIDGED = "bridged"
    ABANDONING = "abandoning"  # no agent in time: the abandon message plays
    DROPPING = "dropping"  # a machine: being hung up (or left a message)
    IN_IVR = "in_ivr"  # in the survey or the broadcast message, no agent
    ENDED = "ended"


C = CallState
_UNANSWERED = {
    DialOutcome.BUSY: CallOutcome.BUSY,
    DialOutcome.NO_ANSWER: CallOutcome.NO_ANSWER,
}
# What a hang-up in each state means for the attempt.
_HUNG_UP_OUTCOME = {
    C.DETECTING: CallOutcome.NO_ANSWER,  # gone before AMD could tell: nobody engaged, try again later
    C.WAITING: CallOutcome.ABANDONED,  # a human left (or was left) without an agent
    C.CONNECTING: CallOutcome.ABANDONED,
    C.ABANDONING: CallOutcome.ABANDONED,
    C.BRIDGED: CallOutcome.ANSWERED,
    C.DROPPING: CallOutcome.MACHINE,
    C.IN_IVR: CallOutcome.ANSWERED,
}


@dataclass(frozen=True, slots=True)
class OutboundCall:
    """An attempt's call; times are epoch seconds from the events."""

    attempt_id: int
    lead_id: int
    campaign_id: int
    channel_id: str
    dialed_at: float
    state: CallState = C.DIALING
    amd: bool = False
    ivr: bool = False  # a broadcast call: its human goes to the survey or message
    answered_at: float | None = None
    human_at: float | None = None  # when the engine knew a person was there
    amd_result: AmdResult | None = None
    amd_cause: str | None = None
    agent_id: int | None = None
    bridged_at: float | None = None
    ended_at: float | None = None
    outcome: CallOutcome | None = None
    hangup_cause: int | None = None

    @property
    def subject(self) -> str:
        return f"call {self.channel_id}"

    @property
    def connect_ms(self) -> int | None:
        if self.human_at is None or self.bridged_at is None:
            return None
        return max(round((self.bridged_at - self.human_at) * 1000), 0)

    def waited(self, now: float) -> float:
        """How long a known human has waited for an agent."""
        return 0.0 if self.human_at is None else now - self.human_at

    @transition(log, _LOG_LEVEL, C.DIALING)
    def answered(self, at: float) -> OutboundCall:
        if self.agent_id is not None:  # reserved at the dial: straight to its agent, no AMD
            return replace(self, state=C.CONNECTING, answered_at=at, human_at=at)
        if self.amd:
            return replace(self, state=C.DETECTING, answered_at=at)
        return replace(self, state=C.IN_IVR if self.ivr else C.WAITING, answered_at=at, human_at=at)

    @transition(log, _LOG_LEVEL, C.DETECTING)
    def verdict(self, at: float, result: AmdResult, cause: str) -> OutboundCall:
        """AMD's verdict: `notsure` is treated as a human (an abandoned human is worse than a machine)."""
        human = C.IN_IVR if self.ivr else C.WAITING
        state, human_at = (C.DROPPING, None) if result is AmdResult.MACHINE else (human, at)
        return replace(self, state=state, human_at=human_at, amd_result=result, amd_cause=cause)

    @transition(log, _LOG_LEVEL, C.WAITING)
    def reserve(self, agent_id: int) -> OutboundCall:
        return replace(self, state=C.CONNECTING, agent_id=agent_id)

    @transition(log, _LOG_LEVEL, C.CONNECTING)
    def unreserve(self) -> OutboundCall:
        """The move to the agent failed (the agent's leg went away): wait for another agent."""
        return replace(self, state=C.WAITING, agent_id=None)

    @transition(log, _LOG_LEVEL, C.CONNECTING)
    def joined(self, at: float) -> OutboundCall:
        return replace(self, state=C.BRIDGED, bridged_at=at)

    @transition(log, _LOG_LEVEL, C.BRIDGED)
    def surveyed(self) -> OutboundCall:
        """The agent left; the customer stays on for the post-call survey (SRV-2)."""
        return replace(self, state=C.IN_IVR)

    @transition(log, _LOG_LEVEL, C.WAITING)
    def abandon(self, at: float) -> OutboundCall:
        return replace(self, state=C.ABANDONING, outcome=CallOutcome.ABANDONED)

    @transition(log, _LOG_LEVEL, *(state for state in C if state is not C.ENDED))
    def hung_up(self, at: float, cause: int | None, unanswered: DialOutcome | None = None) -> OutboundCall:
        """The customer's channel is gone; `unanswered` is how a dial that never answered ended."""
        if self.state is C.DIALING:
            outcome = _UNANSWERED.get(unanswered or DialOutcome.FAILED, CallOutcome.FAILED)
        else:
            outcome = _HUNG_UP_OUTCOME[self.state]
        return replace(self, state=C.ENDED, ended_at=at, outcome=outcome, hangup_cause=cause)
