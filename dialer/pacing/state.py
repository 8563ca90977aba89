"""The pacer's picture of the floor: each agent's state and since when, each call in flight.

`Floor.apply` turns a `PacingEvent` into state changes and feeds the estimators with what it just
learned (a ring time, a talk time, an answer or a failure, ...). Calls still ringing are also counted
per dial second, so that a decision costs one step per second of ring time, not one per call.
Agents with a maximum occupancy (AGT-7) carry an `OccupancyMeter`. Blended agents (who also serve
inbound queues) can be taken by inbound calls; they are counted as they change state, and the ready
ones kept in the order they became ready, so that `inbound_claim` (what inbound takes of them) costs
what the reserve and the resting agents number, not what the floor does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import IntEnum

from dialer.pacing.estimators import Estimates
from dialer.pacing.events import (
    AgentId,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentResumed,
    AmdVerdict,
    CallAbandoned,
    CallAnswered,
    CallBridged,
    CallDialed,
    CallFailed,
    CallId,
    InboundTaken,
    InboundWaiting,
    LeadsRemaining,
    PacingEvent,
    TalkEnded,
    WrapEnded,
)
from dialer.pacing.inbound import InboundClaim


class AgentState(IntEnum):
    """From `NOT_READY` on, agents are away from outbound: the forecast does not count them freeing."""

    READY = 0
    TALK = 1
    WRAP = 2
    NOT_READY = 3
    INBOUND = 4  # on an inbound call


_BUSY = (AgentState.TALK, AgentState.WRAP, AgentState.INBOUND)


class CallState(IntEnum):
    RINGING = 0
    SCREENING = 1  # answered, AMD analysing
    WAITING = 2  # ready for an agent


class OccupancyMeter:
    """Share of recent time an agent was busy, over an exponential window of `window_s`.

    A fresh agent starts as if idle for a long time, so the guard bites only after real work.
    """

    __slots__ = ("_at", "_busy", "_busy_weight", "_window")

    def __init__(self, at: float, window_s: float) -> None:
        self._at = at
        self._window = window_s
        self._busy = False
        self._busy_weight = 0.0

    def _advanced(self, at: float) -> float:
        decay = math.exp(-max(at - self._at, 0.0) / self._window)
        gained = self._window * (1.0 - decay) if self._busy else 0.0
        return self._busy_weight * decay + gained

    def set_busy(self, at: float, busy: bool) -> None:
        self._busy_weight = self._advanced(at)
        self._at = max(at, self._at)
        self._busy = busy

    def occupancy(self, now: float) -> float:
        return self._advanced(now) / self._window


class Agent:
    __slots__ = ("blended", "id", "max_occupancy", "meter", "min_wrap", "resting", "since", "state")

    def __init__(self, event: AgentLoggedIn, window_s: float) -> None:
        self.id = event.agent_id
        self.state = AgentState.READY
        self.since = event.at
        self.min_wrap = event.min_wrap_s
        self.max_occupancy = event.max_occupancy
        self.meter = OccupancyMeter(event.at, window_s) if event.max_occupancy < 1.0 else None
        self.resting = False
        self.blended = False  # see `Floor._join_blend`


class Call:
    __slots__ = ("dialed_at", "since", "state")

    def __init__(self, at: float) -> None:
        self.state = CallState.RINGING
        self.dialed_at = at
        self.since = at


class Floor:
    """Agents and calls in flight as the events tell them; feeds `Estimates` on every transition."""

    def __init__(
        self,
        estimates: Estimates,
        *,
        amd: bool,
        occupancy_window_s: float,
        on_waiting_resolved: Callable[[bool], None],
    ) -> None:
        self.estimates = estimates
        self.amd = amd
        self.occupancy_window_s = occupancy_window_s
        self.on_waiting_resolved = on_waiting_resolved
        self.agents: dict[AgentId, Agent] = {}
        self.guarded: dict[AgentId, Agent] = {}  # agents with a maximum occupancy
        self.ready = 0  # agents ready, resting ones included
        self.calls: dict[CallId, Call] = {}
        self.ringing: dict[int, int] = {}  # dial second -> calls dialed then, still ringing
        self.screening: dict[CallId, float] = {}  # call -> answered at
        self.waiting = 0
        self.blended = 0  # blended agents logged in
        self.blended_on_duty = 0  # of them ready, talking or wrapping up
        self.ready_blended: dict[AgentId, Agent] = {}  # in the order they became ready
        self.inbound_waiting = 0  # inbound calls waiting for the blended agents
        self.leads_remaining: int | None = None
        self._handlers: dict[type, Callable] = {
            CallDialed: self._dialed,
            CallAnswered: self._answered,
            CallFailed: self._failed,
            AmdVerdict: self._verdict,
            CallBridged: self._bridged,
            CallAbandoned: self._abandoned,
            TalkEnded: self._talk_ended,
            WrapEnded: self._wrap_ended,
            AgentLoggedIn: self._logged_in,
            AgentLoggedOut: self._logged_out,
            AgentPaused: self._paused,
            AgentResumed: self._resumed,
            InboundTaken: self._inbound_taken,
            InboundWaiting: self._inbound_waiting,
            LeadsRemaining: self._leads,
        }

    def apply(self, event: PacingEvent) -> None:
        self._handlers[type(event)](event)

    # -- views used by decisions
    @property
    def lines(self) -> int:
        """Calls in progress: dialing/ringing, AMD analysing, waiting for an agent."""
        return len(self.calls)

    def update_resting(self, now: float) -> list[AgentId]:
        """Flag agents over their maximum occupancy (AGT-7); return those ready but held back."""
        held: list[AgentId] = []
        for agent_id, agent in self.guarded.items():
            assert agent.meter is not None
            agent.resting = agent.meter.occupancy(now) >= agent.max_occupancy
            if agent.resting and agent.state == AgentState.READY:
                held.append(agent_id)
        return held

    def inbound_claim(self, reserve: int, per_second: float) -> InboundClaim:
        """What inbound takes of the agents (see `inbound`); the ready blended agents kept free are
        the `reserve` that became ready last, resting ones aside. Call after `update_resting`."""
        resting = [
            a for a in self.guarded.values() if a.blended and a.resting and a.state < AgentState.NOT_READY
        ]
        kept: list[AgentId] = []
        for agent_id, agent in reversed(self.ready_blended.items()):
            if len(kept) == reserve:
                break
            if not agent.resting:
                kept.append(agent_id)
        return InboundClaim(
            kept=tuple(kept),
            held=reserve + self.inbound_waiting,
            per_second=per_second,
            ready=len(self.ready_blended) - sum(a.state == AgentState.READY for a in resting),
            claimable=self.blended_on_duty - len(resting),
        )

    def elapsed(self, state: AgentState, now: float) -> list[float]:
        return [now - a.since for a in self.agents.values() if a.state == state]

    # -- calls
    def _forget(self, call_id: CallId) -> Call | None:
        call = self.calls.pop(call_id, None)
        if call is None:
            return None
        if call.state == CallState.RINGING:
            self._unring(call)
        elif call.state == CallState.SCREENING:
            self.screening.pop(call_id, None)
        else:
            self.waiting -= 1
        return call

    def _unring(self, call: Call) -> None:
        second = int(call.dialed_at)
        left = self.ringing[second] - 1
        if left:
            self.ringing[second] = left
        else:
            del self.ringing[second]

    def _dialed(self, event: CallDialed) -> None:
        self.calls[event.call_id] = Call(event.at)
        second = int(event.at)
        self.ringing[second] = self.ringing.get(second, 0) + 1
        if self.leads_remaining is not None:
            self.leads_remaining = max(self.leads_remaining - 1, 0)

    def _answered(self, event: CallAnswered) -> None:
        call = self.calls.get(event.call_id)
        if call is None or call.state != CallState.RINGING:
            return
        self._unring(call)
        self.estimates.ring.observe(event.at - call.dialed_at)
        self.estimates.answer.observe(True, event.at)
        call.since = event.at
        if self.amd:
            call.state = CallState.SCREENING
            self.screening[event.call_id] = event.at
        else:
            call.state = CallState.WAITING
            self.waiting += 1

    def _failed(self, event: CallFailed) -> None:
        call = self._forget(event.call_id)
        if call is not None and call.state == CallState.RINGING:
            self.estimates.fail.observe(event.at - call.dialed_at)
            self.estimates.answer.observe(False, event.at)

    def _verdict(self, event: AmdVerdict) -> None:
        call = self.calls.get(event.call_id)
        if call is None or call.state != CallState.SCREENING:
            return
        self.estimates.verdict.observe(event.at - call.since)
        self.estimates.human.observe(event.human, event.at)
        if event.human:
            self.screening.pop(event.call_id, None)
            call.state = CallState.WAITING
            call.since = event.at
            self.waiting += 1
        else:
            self._forget(event.call_id)

    def _bridged(self, event: CallBridged) -> None:
        call = self._forget(event.call_id)
        if call is not None and call.state == CallState.WAITING:
            self.on_waiting_resolved(False)
        agent = self.agents.get(event.agent_id)
        if agent is not None:
            self._set(agent, AgentState.TALK, event.at)

    def _abandoned(self, event: CallAbandoned) -> None:
        call = self._forget(event.call_id)
        if call is not None and call.state == CallState.WAITING:
            self.on_waiting_resolved(True)

    # -- agents
    def _set(self, agent: Agent, state: AgentState, at: float) -> None:
        self.ready += (state == AgentState.READY) - (agent.state == AgentState.READY)
        if agent.blended:
            self._leave_blend(agent)
            agent.state = state
            self._join_blend(agent)
        agent.state = state
        agent.since = at
        if agent.meter is not None:
            agent.meter.set_busy(at, state in _BUSY)

    def _talk_ended(self, event: TalkEnded) -> None:
        agent = self.agents.get(event.agent_id)
        if agent is None:
            return
        if agent.state == AgentState.TALK:
            self.estimates.talk.observe(event.at - agent.since)
        if agent.state in (AgentState.TALK, AgentState.INBOUND):
            self._set(agent, AgentState.WRAP, event.at)

    def _wrap_ended(self, event: WrapEnded) -> None:
        agent = self.agents.get(event.agent_id)
        if agent is not None and agent.state == AgentState.WRAP:
            self.estimates.wrap.observe(event.at - agent.since)
            self._set(agent, AgentState.READY, event.at)

    def _logged_in(self, event: AgentLoggedIn) -> None:
        self._logged_out(event)
        agent = Agent(event, self.occupancy_window_s)
        self.agents[event.agent_id] = agent
        self.ready += 1
        if event.blended:
            self._join_blend(agent)
        if agent.meter is not None:
            self.guarded[event.agent_id] = agent

    def _logged_out(self, event: AgentLoggedIn | AgentLoggedOut) -> None:
        agent = self.agents.pop(event.agent_id, None)
        self.guarded.pop(event.agent_id, None)
        if agent is not None:
            self.ready -= agent.state == AgentState.READY
            if agent.blended:
                self._leave_blend(agent)

    def _join_blend(self, agent: Agent) -> None:
        """Count `agent` as blended, in its present state."""
        agent.blended = True
        self.blended += 1
        self.blended_on_duty += agent.state < AgentState.NOT_READY
        if agent.state == AgentState.READY:
            self.ready_blended[agent.id] = agent

    def _leave_blend(self, agent: Agent) -> None:
        """Stop counting `agent` as blended (it logs out, or `_set` counts it again in a new state)."""
        agent.blended = False
        self.blended -= 1
        self.blended_on_duty -= agent.state < AgentState.NOT_READY
        self.ready_blended.pop(agent.id, None)

    def _paused(self, event: AgentPaused) -> None:
        agent = self.agents.get(event.agent_id)
        if agent is not None:
            self._set(agent, AgentState.NOT_READY, event.at)

    def _resumed(self, event: AgentResumed) -> None:
        agent = self.agents.get(event.agent_id)
        if agent is not None and agent.state == AgentState.NOT_READY:
            self._set(agent, AgentState.READY, event.at)

    def _inbound_taken(self, event: InboundTaken) -> None:
        """An agent inbound takes is blended, whether or not its login said so."""
        agent = self.agents.get(event.agent_id)
        if agent is None:
            return
        if not agent.blended:
            self._join_blend(agent)
        self.estimates.inbound_takes.observe(event.at)
        self._set(agent, AgentState.INBOUND, event.at)

    def _inbound_waiting(self, event: InboundWaiting) -> None:
        self.inbound_waiting = max(event.calls, 0)

    def _leads(self, event: LeadsRemaining) -> None:
        self.leads_remaining = event.remaining
