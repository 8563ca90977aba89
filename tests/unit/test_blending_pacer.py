"""Blending in the pacer: agents taken by inbound, inbound calls waiting, the reserve, the learned rate."""

from __future__ import annotations

import random

import pytest

from dialer.pacing import Mode, Pacer, PacerConfig
from dialer.pacing.estimators import EventRate
from dialer.pacing.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentResumed,
    CallAnswered,
    CallBridged,
    CallDialed,
    CallFailed,
    FailResult,
    InboundTaken,
    InboundWaiting,
    PacingEvent,
    TalkEnded,
    WrapEnded,
)
from dialer.pacing.inbound import InboundClaim
from dialer.pacing.state import AgentState
from ringcast.errors import UserError


def blended_pacer(mode: Mode, blended: int, outbound_only: int = 0, **settings: object) -> Pacer:
    """Blended agents 0 .. blended - 1 log in at 0, 1, 2, ...; then the outbound-only ones."""
    p = Pacer(PacerConfig(mode=mode, **settings))  # type: ignore[arg-type]
    for agent in range(blended + outbound_only):
        p.observe(AgentLoggedIn(float(agent), agent, blended=agent < blended))
    return p


def test_the_reserve_is_not_dialed_for_and_the_most_recently_ready_are_kept_free() -> None:
    decision = blended_pacer(Mode.PROGRESSIVE, blended=4, inbound_reserve=1).decide(10.0)
    assert (decision.launch, decision.ready_agents, decision.held_for_inbound) == (3, 4, 1)
    assert decision.kept_for_inbound == (3,)  # ready since 3 s, the latest
    assert "1 held for inbound (1 kept free)" in decision.explain()
    ratio = blended_pacer(Mode.RATIO, blended=4, inbound_reserve=2, ratio=2.0).decide(10.0)
    assert (ratio.launch, ratio.kept_for_inbound) == (4, (3, 2))


def test_inbound_calls_waiting_hold_the_blended_agents_they_need_and_no_others() -> None:
    p = blended_pacer(Mode.PROGRESSIVE, blended=2, outbound_only=2)
    p.observe(InboundWaiting(5.0, 1))
    assert (p.decide(5.0).launch, p.decide(5.0).held_for_inbound) == (3, 1)
    p.observe(InboundWaiting(6.0, 5))  # more than the blended agents: the outbound-only are dialed for
    assert (p.decide(6.0).launch, p.decide(6.0).held_for_inbound) == (2, 2)
    p.observe(InboundWaiting(7.0, 0))
    assert p.decide(7.0).launch == 4


def test_the_reserve_comes_only_from_blended_agents_on_duty() -> None:
    p = blended_pacer(Mode.PROGRESSIVE, blended=2, outbound_only=2, inbound_reserve=3)
    decision = p.decide(10.0)
    assert (decision.launch, set(decision.kept_for_inbound)) == (2, {0, 1})
    p.observe(AgentPaused(11.0, 1))
    decision = p.decide(12.0)
    assert (decision.launch, decision.kept_for_inbound, decision.ready_agents) == (2, (0,), 3)


def test_an_agent_on_an_inbound_call_is_busy_until_its_wrap_up_ends_and_its_talk_is_not_learned() -> None:
    p = blended_pacer(Mode.PROGRESSIVE, blended=0, outbound_only=2)
    p.observe(InboundTaken(5.0, 0))  # not flagged at login: the take says it is blended
    agent = p.floor.agents[0]
    assert (agent.state, agent.blended, p.floor.blended) == (AgentState.INBOUND, True, 1)
    assert p.decide(6.0).launch == 1
    p.observe(TalkEnded(100.0, 0))
    assert (agent.state, p.estimates.talk.observed) == (AgentState.WRAP, 0)
    assert p.decide(101.0).launch == 1
    p.observe(WrapEnded(110.0, 0))
    assert (p.estimates.wrap.observed, p.decide(110.0).launch) == (1, 2)


def test_the_learned_rate_of_inbound_takes_holds_agents_and_is_forgotten() -> None:
    p = blended_pacer(Mode.PROGRESSIVE, blended=10)
    for second in range(60):  # one inbound call a second, each 0.5 s of talk and 0.4 s of wrap-up
        agent = second % 5
        p.observe(InboundTaken(second, agent))
        p.observe(TalkEnded(second + 0.5, agent))
        p.observe(WrapEnded(second + 0.9, agent))
    busy = p.decide(60.0)  # about 0.5 a second (60 over the first two minutes' window) over ~12 s
    assert busy.held_for_inbound >= 4
    assert busy.launch + busy.held_for_inbound == 10
    assert busy.kept_for_inbound == ()  # no reserve configured
    assert p.decide(60.0 + 3600.0).held_for_inbound == 0  # an hour without: e^-4 of it left


def test_the_blended_counts_follow_every_transition() -> None:
    draw = random.Random(5)
    p = Pacer(PacerConfig(mode=Mode.PROGRESSIVE))
    floor = p.floor
    for step in range(3000):
        at, agent = float(step), draw.randrange(8)
        events: list[PacingEvent] = [
            AgentLoggedIn(at, agent, blended=draw.random() < 0.5),
            AgentLoggedOut(at, agent),
            AgentPaused(at, agent),
            AgentResumed(at, agent),
            InboundTaken(at, agent),
            CallBridged(at, step, agent),
            TalkEnded(at, agent),
            WrapEnded(at, agent),
        ]
        p.observe(draw.choice(events))
        blended = [a for a in floor.agents.values() if a.blended]
        ready = [a.id for a in blended if a.state == AgentState.READY]
        assert floor.blended == len(blended)
        assert floor.blended_on_duty == sum(a.state < AgentState.NOT_READY for a in blended)
        assert list(floor.ready_blended) == sorted(ready, key=lambda a: floor.agents[a].since)  # ready order


def test_predictive_counts_the_claim_in_its_forecast() -> None:
    plain = blended_pacer(Mode.PREDICTIVE, blended=10).decide(10.0)
    reserved = blended_pacer(Mode.PREDICTIVE, blended=10, inbound_reserve=2).decide(10.0)
    assert plain.reasoning is not None and reserved.reasoning is not None
    assert plain.reasoning.expected_free_agents == pytest.approx(10.0)
    assert reserved.reasoning.expected_free_agents == pytest.approx(8.0)
    assert reserved.launch < plain.launch
    assert len(reserved.kept_for_inbound) == 2


def test_predictive_leaves_the_agents_waiting_inbound_calls_need() -> None:
    p = blended_pacer(Mode.PREDICTIVE, blended=4)
    p.observe(InboundWaiting(5.0, 4))
    decision = p.decide(5.0)
    assert (decision.launch, decision.held_for_inbound) == (0, 4)
    assert decision.reasoning is not None and decision.reasoning.expected_free_agents == 0.0


def test_blended_agents_without_inbound_change_no_decision() -> None:
    pacers = [blended_pacer(Mode.PREDICTIVE, blended=0, outbound_only=6), blended_pacer(Mode.PREDICTIVE, 6)]
    decisions: list[list[object]] = [[], []]
    for call in range(300):
        t = 2.0 * call
        agent = call % 6
        for p, seen in zip(pacers, decisions, strict=True):
            p.observe(CallDialed(t, call))
            if call % 3:
                p.observe(CallFailed(t + 20.0, call, FailResult.NO_ANSWER))
            else:
                p.observe(CallAnswered(t + 6.0, call))
                p.observe(CallBridged(t + 6.0, call, agent))
                p.observe(TalkEnded(t + 9.0, agent))
                p.observe(WrapEnded(t + 11.0, agent))
            seen.append(p.decide(t + 11.0))
    assert decisions[0] == decisions[1]


def test_the_claim_arithmetic() -> None:
    claim = InboundClaim(kept=(), held=1, per_second=0.1, ready=3, claimable=5)
    assert claim.of_ready(10.0) == 2  # 1 + 1 arrivals expected
    assert claim.of_ready(100.0) == 3  # never more than the blended agents ready
    assert claim.ahead(10.0) == pytest.approx((2.0, 1.0))  # Poisson arrivals: variance = mean
    assert claim.ahead(100.0) == (5.0, 0.0)  # all the blended agents there are


def test_an_event_rate_reads_a_constant_rate_from_the_start() -> None:
    rate = EventRate(memory_s=900.0, min_window_s=120.0)
    assert rate.per_second(10.0, since=0.0) == 0.0
    rate.observe(5.0)
    assert rate.per_second(5.0, since=0.0) == pytest.approx(1 / 120)  # not one per 5 s
    steady = EventRate(memory_s=900.0, min_window_s=120.0)
    for event in range(360):
        steady.observe(10.0 * event + 10.0)
    assert steady.per_second(3600.0, since=0.0) == pytest.approx(0.1, rel=0.02)


def test_a_negative_reserve_is_refused() -> None:
    with pytest.raises(UserError, match=r"^pacer setting inbound_reserve: must not be negative"):
        PacerConfig(inbound_reserve=-1)
