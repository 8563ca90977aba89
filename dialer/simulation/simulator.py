"""Discrete-event simulation of a campaign (../shared/scenarios/README.md), driving a real `Pacer`.

The pacer sees only what the live engine would show it: the events (dialed, answered, failed,
AMD verdict, bridged, abandoned, talk and wrap ended), never the scenario's probabilities or
distributions; its configuration holds campaign settings only (cap, grace, AMD on/off, max lines).
It is consulted at t = 0, 0.25, 0.5, ... while t < duration.

Choices where the README leaves room, made once here:
* Randomness: one `random.Random(seed)` stream and exactly six draws per dialed call, taken when it
  is dialed, in dial order (outcome, time to result, AMD time, AMD verdict, talk, wrap). The k-th
  call dialed therefore behaves the same whatever pacer dialed it and whenever (only the outcome
  schedule, by dial time, changes the probabilities its outcome draw is read against).
* Equal times: agents freeing and calls becoming ready are handled before deadlines (a bridge at the
  very deadline is in time), and the pacer is consulted after everything else at that instant.
* Ready means answered (AMD off) or given a human verdict by AMD, humans and machines alike: a
  machine taken for a human waits, is bridged (machine talk) or dropped at its deadline, but only
  humans count as abandoned. Humans hung up on by AMD are `amd_false_positives`, and abandoned too
  when the scenario says they count.
* Nothing is dialed, answered or bridged after `duration_s`: a call answered by then but not bridged
  by then is abandoned at its deadline; a call bridged by then counts its whole talk and wrap.
* Agent limits (AGT-7, optional, not part of the scenario format): wrap lasts at least `min_wrap_s`,
  and ready agents the pacer lists as resting are not given calls.
* Inbound (optional, see `inbound`): callers arrive until `duration_s` and have priority. A caller
  takes a ready blended agent at once (one the pacer keeps free for inbound if any, else the one
  ready longest), or waits in line, first come first served, until a blended agent frees (before
  any outbound call waiting) or its patience runs out. Agents kept free for inbound get no outbound
  call. The pacer is told what the live ACD would tell it: `InboundTaken`, `InboundWaiting`.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from dialer.pacing.events import (
    AgentLoggedIn,
    AmdVerdict,
    CallAbandoned,
    CallAnswered,
    CallBridged,
    CallDialed,
    CallFailed,
    FailResult,
    InboundTaken,
    InboundWaiting,
    LeadsRemaining,
    TalkEnded,
    WrapEnded,
)
from dialer.pacing.pacer import Mode, Pacer, PacerConfig
from dialer.simulation.inbound import Caller, Callers
from dialer.simulation.metrics import InboundTally, Metrics, Tally
from dialer.simulation.scenario import Scenario

TICK_S = 0.25
AMD_FALSE_POSITIVE_ESTIMATE = 0.02  # a typical vendor figure for humans taken for machines
# event kinds, in the order they are handled at equal times
_TALK_END, _WRAP_END, _ARRIVAL, _ANSWER, _FAIL, _AMD, _DEADLINE, _GIVE_UP, _TICK = range(9)
_HUMAN, _MACHINE, _BUSY, _NO_ANSWER, _INVALID = range(5)


class _Queued(Protocol):
    waiting: bool  # still waiting for an agent


_Waiting = TypeVar("_Waiting", bound=_Queued)


@dataclass(frozen=True, slots=True)
class AgentLimits:
    """Per-agent occupancy guard (AGT-7), the same for every agent of the simulated team."""

    min_wrap_s: float = 0.0
    max_occupancy: float = 1.0


class _Call:
    __slots__ = ("id", "outcome", "u_detect", "u_talk", "u_verdict", "u_wrap", "waiting")

    def __init__(self, call_id: int, outcome: int, draws: tuple[float, float, float, float]) -> None:
        self.id = call_id
        self.outcome = outcome
        self.u_detect, self.u_verdict, self.u_talk, self.u_wrap = draws
        self.waiting = False


def campaign_config(
    scenario: Scenario, mode: Mode | str = Mode.PREDICTIVE, ratio: float = 2.0
) -> PacerConfig:
    """The pacer settings a campaign like this one would have: its settings, not its statistics.

    When AMD false positives count as abandoned, the operator's estimate of their share is the
    generic `AMD_FALSE_POSITIVE_ESTIMATE`, not the scenario's `human_as_machine`.
    """
    counted = scenario.amd.enabled and scenario.amd_false_positive_counts
    return PacerConfig(
        mode=Mode(mode),
        abandon_cap=scenario.abandon_cap,
        amd_false_positive_share=AMD_FALSE_POSITIVE_ESTIMATE if counted else 0.0,
        connect_within_s=scenario.connect_within_s,
        amd=scenario.amd.enabled,
        max_lines=scenario.max_lines,
        ends_at=scenario.duration_s,
        ratio=ratio,
        inbound_reserve=scenario.inbound.reserve if scenario.inbound else 0,
    )


def simulate(scenario: Scenario, pacer: Pacer, seed: int = 1, limits: AgentLimits | None = None) -> Metrics:
    """Run `scenario` once with `pacer` (fresh, configured for it) and return the metrics."""
    return _Run(scenario, pacer, seed, limits or AgentLimits()).run()


class _Run:
    def __init__(self, scenario: Scenario, pacer: Pacer, seed: int, limits: AgentLimits) -> None:
        self.s = scenario
        self.pacer = pacer
        self.rng = random.Random(seed)
        self.limits = limits
        self.tally = Tally()
        self.heap: list[tuple[float, int, int, Any]] = []
        self.seq = 0
        self.lines = 0
        self.leads = scenario.leads
        self.idle: deque[int] = deque(range(scenario.agents))  # longest ready first
        self.ready_since = [0.0] * scenario.agents
        self.wrap_after = [0.0] * scenario.agents  # of each agent's current call
        self.queue: deque[_Call] = deque()  # waiting calls, earliest deadline first
        self.resting: frozenset[int | str] = frozenset()
        self.kept: frozenset[int | str] = frozenset()  # ready agents kept free for inbound
        self.withheld = self.resting  # from outbound calls: resting or kept
        inbound = scenario.inbound
        self.callers = Callers(inbound, seed) if inbound else None
        self.blended = inbound.agents if inbound else 0  # agents 0 .. blended - 1
        self.line: deque[Caller] = deque()  # inbound callers waiting, first come first served
        if inbound:
            self.tally.inbound = InboundTally()
        self.handlers: tuple[Callable[[float, Any], None], ...] = (
            self._talk_end,
            self._wrap_end,
            self._arrival,
            self._answer,
            self._fail,
            self._amd,
            self._deadline,
            self._give_up,
        )

    def _push(self, at: float, kind: int, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, kind, self.seq, payload))

    def run(self) -> Metrics:
        s = self.s
        limits = self.limits
        for agent in range(s.agents):
            blended = agent < self.blended
            self.pacer.observe(AgentLoggedIn(0.0, agent, limits.min_wrap_s, limits.max_occupancy, blended))
        if s.leads is not None:
            self.pacer.observe(LeadsRemaining(0.0, s.leads))
        if self.callers is not None:
            self._expect_caller(self.callers.first_arrival())
        self._push(0.0, _TICK, 0)
        heap, handlers, pop = self.heap, self.handlers, heapq.heappop
        while heap:
            at, kind, _, payload = pop(heap)
            if kind == _TICK:
                self._tick(at, payload)
            else:
                handlers[kind](at, payload)
        return self.tally.metrics(s.agents, s.duration_s)

    # -- the pacer and dialing
    def _tick(self, at: float, index: int) -> None:
        decision = self.pacer.decide(at)
        resting, kept = frozenset(decision.resting), frozenset(decision.kept_for_inbound)
        if resting != self.resting or kept != self.kept:
            self.resting, self.kept, self.withheld = resting, kept, resting | kept
            self._serve_queue(at)
        launch = min(decision.launch, self.s.max_lines - self.lines)
        if self.leads is not None:
            launch = min(launch, self.leads)
            self.leads -= max(launch, 0)
        for _ in range(launch):
            self._dial(at)
        following = (index + 1) * TICK_S
        if following < self.s.duration_s:
            self._push(following, _TICK, index + 1)

    def _dial(self, at: float) -> None:
        s, draw = self.s, self.rng.random
        u_outcome, u_time = draw(), draw()
        call = _Call(self.tally.calls_dialed, 0, (draw(), draw(), draw(), draw()))
        self.tally.calls_dialed += 1
        self.lines += 1
        self.pacer.observe(CallDialed(at, call.id))
        outcome = _INVALID
        for index, bound in enumerate(s.outcomes_at(at).thresholds()):
            if u_outcome < bound:
                outcome = index
                break
        call.outcome = outcome
        if outcome <= _MACHINE:
            ring = s.ring_to_answer_s.sample(u_time)
            if ring < s.no_answer_timeout_s:
                self._push(at + ring, _ANSWER, call)
            else:
                self._push(at + s.no_answer_timeout_s, _FAIL, (call, FailResult.NO_ANSWER))
        elif outcome == _BUSY:
            self._push(at + s.busy_after_s.sample(u_time), _FAIL, (call, FailResult.BUSY))
        elif outcome == _NO_ANSWER:
            self._push(at + s.no_answer_timeout_s, _FAIL, (call, FailResult.NO_ANSWER))
        else:
            self._push(at + s.invalid_after_s.sample(u_time), _FAIL, (call, FailResult.INVALID))

    # -- calls
    def _fail(self, at: float, payload: tuple[_Call, FailResult]) -> None:
        if at > self.s.duration_s:
            return
        call, result = payload
        self.lines -= 1
        self.pacer.observe(CallFailed(at, call.id, result))

    def _answer(self, at: float, call: _Call) -> None:
        if at > self.s.duration_s:
            return
        if call.outcome == _HUMAN:
            self.tally.human_answers += 1
        self.pacer.observe(CallAnswered(at, call.id))
        amd = self.s.amd
        if amd.enabled and amd.detect_s is not None:
            self._push(at + amd.detect_s.sample(call.u_detect), _AMD, call)
        else:
            self._ready(at, call)

    def _amd(self, at: float, call: _Call) -> None:
        amd = self.s.amd
        if call.outcome == _HUMAN:
            human = call.u_verdict >= amd.human_as_machine
            if not human:
                self.tally.amd_false_positives += 1
                self.tally.abandoned += self.s.amd_false_positive_counts
        else:
            human = call.u_verdict < amd.machine_as_human
        if at <= self.s.duration_s:
            self.pacer.observe(AmdVerdict(at, call.id, human))
        if human:
            self._ready(at, call)
        else:
            self.lines -= 1

    def _ready(self, at: float, call: _Call) -> None:
        if at <= self.s.duration_s:
            agent = self._take_idle()
            if agent is not None:
                self._bridge(at, call, agent)
                return
        call.waiting = True
        self.queue.append(call)
        self._push(at + self.s.connect_within_s, _DEADLINE, call)

    def _deadline(self, at: float, call: _Call) -> None:
        if not call.waiting:
            return
        call.waiting = False
        if self.queue[0] is call:
            self.queue.popleft()
        else:
            self.queue.remove(call)
        self.lines -= 1
        self.tally.abandoned += call.outcome == _HUMAN
        if at <= self.s.duration_s:
            self.pacer.observe(CallAbandoned(at, call.id))

    # -- inbound callers
    def _expect_caller(self, at: float) -> None:
        if at < self.s.duration_s:
            self._push(at, _ARRIVAL, None)

    def _arrival(self, at: float, _: None) -> None:
        assert self.callers is not None and self.tally.inbound is not None
        caller, following = self.callers.arrive(at)
        self._expect_caller(following)
        self.tally.inbound.offered += 1
        agent = self._take_for_inbound()
        if agent is not None:
            self._take_caller(at, caller, agent)
            return
        caller.waiting = True
        self.line.append(caller)
        self._push(at + caller.patience_s, _GIVE_UP, caller)
        self.pacer.observe(InboundWaiting(at, len(self.line)))

    def _give_up(self, at: float, caller: Caller) -> None:
        if not caller.waiting:
            return
        assert self.tally.inbound is not None and self.s.inbound is not None
        caller.waiting = False
        self.line.remove(caller)
        self.tally.inbound.abandoned += 1
        self.tally.inbound.short_abandons += caller.patience_s < self.s.inbound.short_abandon_s  # its wait
        if at <= self.s.duration_s:
            self.pacer.observe(InboundWaiting(at, len(self.line)))

    def _take_caller(self, at: float, caller: Caller, agent: int) -> None:
        inbound = self.tally.inbound
        assert inbound is not None and self.s.inbound is not None
        waited = at - caller.arrived_at
        inbound.answered += 1
        inbound.wait_s += waited
        inbound.answered_in_time += waited <= self.s.inbound.service_level_s
        inbound.talk_s += caller.talk_s
        self.wrap_after[agent] = max(caller.wrap_s, self.limits.min_wrap_s)
        self.pacer.observe(InboundTaken(at, agent))
        self._push(at + caller.talk_s, _TALK_END, agent)

    # -- agents
    def _take_idle(self) -> int | None:
        """The agent ready longest, for an outbound call: not resting, not kept free for inbound."""
        if not self.withheld:
            return self.idle.popleft() if self.idle else None
        for agent in self.idle:
            if agent not in self.withheld:
                self.idle.remove(agent)
                return agent
        return None

    def _take_for_inbound(self) -> int | None:
        """A ready blended agent for a caller: one kept free for inbound, else the one ready longest."""
        chosen = None
        for agent in self.idle:
            if agent in self.kept:
                chosen = agent
                break
            if chosen is None and agent < self.blended and agent not in self.resting:
                chosen = agent
        if chosen is not None:
            self.idle.remove(chosen)
        return chosen

    def _serve_queue(self, at: float) -> None:
        """Give ready agents the calls waiting: inbound callers first, then outbound answers."""
        line = len(self.line)
        self._hand_out(at, self.line, self._take_for_inbound, self._take_caller)
        if len(self.line) != line:
            self.pacer.observe(InboundWaiting(at, len(self.line)))
        self._hand_out(at, self.queue, self._take_idle, self._bridge)

    def _hand_out(
        self,
        at: float,
        waiting: deque[_Waiting],
        take_agent: Callable[[], int | None],
        connect: Callable[[float, _Waiting, int], None],
    ) -> None:
        """Connect the calls `waiting`, in order, to the agents `take_agent` gives, while it gives one."""
        while waiting and at <= self.s.duration_s:
            agent = take_agent()
            if agent is None:
                return
            call = waiting.popleft()
            call.waiting = False
            connect(at, call, agent)

    def _bridge(self, at: float, call: _Call, agent: int) -> None:
        s, tally = self.s, self.tally
        self.lines -= 1
        tally.bridges += 1
        tally.agent_wait_s += at - self.ready_since[agent]
        if call.outcome == _HUMAN:
            tally.connects += 1
            talk = s.talk_s.sample(call.u_talk)
            tally.human_talk_s += talk
        else:
            talk = s.machine_talk_s.sample(call.u_talk)
            tally.machine_talk_s += talk
        self.wrap_after[agent] = max(s.wrap_s.sample(call.u_wrap), self.limits.min_wrap_s)
        self.pacer.observe(CallBridged(at, call.id, agent))
        self._push(at + talk, _TALK_END, agent)

    def _talk_end(self, at: float, agent: int) -> None:
        wrap = self.wrap_after[agent]
        self.tally.wrap_s += wrap
        if at <= self.s.duration_s:
            self.pacer.observe(TalkEnded(at, agent))
        self._push(at + wrap, _WRAP_END, agent)

    def _wrap_end(self, at: float, agent: int) -> None:
        self.ready_since[agent] = at
        if at > self.s.duration_s:
            return
        self.pacer.observe(WrapEnded(at, agent))
        self.idle.append(agent)
        self._serve_queue(at)
