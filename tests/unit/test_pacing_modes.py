"""The pacer's modes and limits, fed events with fixed times."""

from __future__ import annotations

import pytest

from dialer.pacing import Decision, Mode, Pacer, PacerConfig
from dialer.pacing.events import (
    AgentLoggedIn,
    AgentPaused,
    AgentResumed,
    CallAbandoned,
    CallAnswered,
    CallBridged,
    CallDialed,
    CallFailed,
    FailResult,
    LeadsRemaining,
    TalkEnded,
    WrapEnded,
)
from ringcast.errors import UserError


def pacer(mode: Mode, agents: int = 3, **settings: object) -> Pacer:
    p = Pacer(PacerConfig(mode=mode, **settings))  # type: ignore[arg-type]
    for agent in range(agents):
        p.observe(AgentLoggedIn(0.0, agent))
    return p


def test_preview_never_dials() -> None:
    decision = pacer(Mode.PREVIEW).decide(0.0)
    assert (decision.launch, decision.bound, decision.ready_agents) == (0, "preview", 3)


def test_progressive_covers_each_ready_agent_once() -> None:
    p = pacer(Mode.PROGRESSIVE)
    assert p.decide(0.0).launch == 3
    p.observe(CallDialed(0.0, "a"))
    p.observe(CallDialed(0.0, "b"))
    decision = p.decide(0.25)
    assert (decision.launch, decision.lines, decision.bound) == (1, 2, "progressive")
    p.observe(AgentPaused(0.3, 2))
    assert p.decide(0.5).launch == 0
    p.observe(AgentResumed(0.6, 2))
    assert p.decide(0.75).launch == 1


def test_progressive_agent_cycle() -> None:
    p = pacer(Mode.PROGRESSIVE, agents=1)
    p.observe(CallDialed(0.0, "a"))
    p.observe(CallAnswered(5.0, "a"))
    p.observe(CallBridged(5.0, "a", 0))
    assert p.decide(6.0).launch == 0
    p.observe(TalkEnded(25.0, 0))
    assert p.decide(26.0).launch == 0
    p.observe(WrapEnded(35.0, 0))
    assert p.decide(35.0).launch == 1


def test_ratio_keeps_k_calls_per_ready_agent() -> None:
    assert pacer(Mode.RATIO, ratio=2.0).decide(0.0).launch == 6
    assert pacer(Mode.RATIO, ratio=1.5).decide(0.0).launch == 5  # 4.5 rounds up
    p = pacer(Mode.RATIO, ratio=2.0)
    for call in range(4):
        p.observe(CallDialed(0.0, call))
    assert p.decide(0.25).launch == 2


def test_max_lines_and_leads_bound_every_mode() -> None:
    decision = pacer(Mode.RATIO, ratio=2.0, max_lines=4).decide(0.0)
    assert (decision.launch, decision.bound) == (4, "max_lines")
    p = pacer(Mode.PROGRESSIVE)
    p.observe(LeadsRemaining(0.0, 2))
    decision = p.decide(0.0)
    assert (decision.launch, decision.bound) == (2, "leads")
    p.observe(CallDialed(0.0, "a"))
    p.observe(CallDialed(0.0, "b"))
    assert (p.decide(0.25).launch, p.floor.leads_remaining) == (0, 0)


def test_no_agents_no_calls() -> None:
    decision = Pacer(PacerConfig()).decide(0.0)
    assert (decision.launch, decision.bound) == (0, "no agents")


def test_predictive_never_launches_less_than_progressive() -> None:
    decision = pacer(Mode.PREDICTIVE).decide(0.0)
    assert decision.launch >= 3
    assert decision.reasoning is not None and decision.reasoning.expected_free_agents == pytest.approx(3.0)
    assert "predictive: launch" in decision.explain()


def test_predictive_with_a_zero_cap_is_progressive() -> None:
    p = pacer(Mode.PREDICTIVE, abandon_cap=0.0)
    decision = p.decide(0.0)
    assert (decision.launch, decision.bound) == (3, "progressive")


def _trained(agents: int, **settings: object) -> Pacer:
    """A predictive pacer that has seen 400 calls: half answer after 5 s, talk 100 s, wrap 10 s."""
    p = pacer(Mode.PREDICTIVE, agents=agents, **settings)
    for i in range(400):
        t = i * 2.0
        p.observe(CallDialed(t, i))
        if i % 2:
            p.observe(CallAnswered(t + 5.0, i))
            p.observe(CallBridged(t + 5.0, i, "trainer"))
        else:
            p.observe(CallFailed(t + 20.0, i, FailResult.NO_ANSWER))
    for agent in range(agents):  # every agent takes a call, talks 100 s, wraps 10 s, twice
        for start in (0.0, 120.0):
            p.observe(CallBridged(start, f"t{agent}-{start}", agent))
            p.observe(TalkEnded(start + 100.0, agent))
            p.observe(WrapEnded(start + 110.0, agent))
    return p


def _settled(p: Pacer, now: float) -> Decision:
    """`decide` at `now`, the forecast tables having caught up with the history first.

    The tables are rebuilt a slice per decision, as the engine keeps asking; a pacer that was only
    fed events has not built them yet, so it first decides a while one second earlier.
    """
    for _ in range(40):
        p.decide(now - 1.0)
    return p.decide(now)


def test_predictive_dials_ahead_of_agents_finishing_their_wrap_up() -> None:
    p = _trained(agents=10)
    for agent in range(10):
        p.observe(CallBridged(300.0, f"x{agent}", agent))
        p.observe(TalkEnded(800.0, agent))
    decision = _settled(p, 808.0)  # every agent free in 2 s, calls take 5 s to answer
    assert decision.launch > 0
    assert decision.bound == "risk"
    assert decision.reasoning is not None
    assert decision.reasoning.ready_probability == pytest.approx(0.5, abs=0.02)
    assert decision.reasoning.expected_free_agents == pytest.approx(10.0, abs=0.5)
    busy = _trained(agents=10)
    for agent in range(10):
        busy.observe(CallBridged(790.0, f"x{agent}", agent))  # just started talking: 100 s to go
    assert _settled(busy, 808.0).launch == 0


def test_the_forecast_tables_catch_up_a_slice_per_decision() -> None:
    p = _trained(agents=10)
    for agent in range(10):
        p.observe(CallBridged(300.0, f"x{agent}", agent))
        p.observe(TalkEnded(800.0, agent))
    first = p.decide(807.0).reasoning  # still the tables of the priors: wrap-ups of 15 to 60 s
    assert first is not None and first.expected_free_agents == pytest.approx(
        10 / 3
    )  # of the prior 15, 30, 60 s, only 15 s ends in time
    for _ in range(40):
        p.decide(807.0)
    caught_up = p.decide(808.0).reasoning  # the learned 10 s wrap-up: all free within 2 s + grace
    assert caught_up is not None and caught_up.expected_free_agents == pytest.approx(10.0, abs=0.5)


def test_in_the_first_minutes_the_forecast_tables_are_built_at_once() -> None:
    p = pacer(Mode.PREDICTIVE, agents=1)
    for cycle in range(30):  # 1 s of talk, 1 s of wrap-up, 30 times
        p.observe(CallBridged(3.0 * cycle, cycle, 0))
        p.observe(TalkEnded(3.0 * cycle + 1.0, 0))
        p.observe(WrapEnded(3.0 * cycle + 2.0, 0))
    p.observe(CallBridged(94.0, "last", 0))
    p.observe(TalkEnded(95.0, 0))
    reasoning = p.decide(95.5).reasoning  # builds are due every 95.5 / 20 < 5 s: at once
    assert reasoning is not None and reasoning.expected_free_agents == pytest.approx(1.0, abs=0.05)


def test_minimum_wrap_up_holds_agents_back_in_the_forecast() -> None:
    free_soon = _trained(agents=4)
    held = _trained(agents=4)
    for p, min_wrap in ((free_soon, 0.0), (held, 60.0)):
        for agent in range(4):
            p.observe(AgentLoggedIn(790.0, agent, min_wrap_s=min_wrap))
            p.observe(CallBridged(790.0, f"x{agent}", agent))
            p.observe(TalkEnded(800.0, agent))
    soon, later = _settled(free_soon, 808.0), _settled(held, 808.0)
    assert soon.reasoning is not None and later.reasoning is not None
    assert soon.reasoning.expected_free_agents > 3.5  # the prior still allows for a few long wrap-ups
    assert later.reasoning.expected_free_agents == 0.0
    assert later.launch == 0


def test_maximum_occupancy_rests_an_agent() -> None:
    p = Pacer(PacerConfig(mode=Mode.PROGRESSIVE, occupancy_window_s=100.0))
    p.observe(AgentLoggedIn(0.0, "ann", max_occupancy=0.5))
    p.observe(AgentLoggedIn(0.0, "bob"))
    for agent in ("ann", "bob"):
        p.observe(CallBridged(0.0, agent, agent))
        p.observe(TalkEnded(90.0, agent))
        p.observe(WrapEnded(100.0, agent))
    decision = p.decide(100.0)  # ann busy 100 s of a 100 s window: 1 - e^-1 ≈ 0.63 > 0.5
    assert (decision.resting, decision.ready_agents, decision.launch) == (("ann",), 1, 1)
    assert p.decide(150.0).resting == ()  # idle 50 s: 0.63 × e^-0.5 ≈ 0.38


def test_a_list_that_runs_out_before_the_end_is_dialed_progressively() -> None:
    p = _trained(agents=10, ends_at=10_000.0)
    p.observe(LeadsRemaining(800.0, 50))
    decision = p.decide(900.0)
    assert (decision.launch, decision.bound) == (10, "list")
    p = _trained(agents=10, ends_at=10_000.0)
    p.observe(LeadsRemaining(800.0, 100_000))
    assert p.decide(900.0).bound != "list"


def test_a_campaign_with_an_end_keeps_an_abandon_of_its_expected_total_in_reserve() -> None:
    p = pacer(Mode.PREDICTIVE, agents=1, ends_at=1000.0)
    for call in range(20):  # 20 calls waited in the first 100 s: 200 expected by the end
        p.observe(CallDialed(call * 4.0, call))
        p.observe(CallAnswered(call * 4.0 + 3.0, call))
        p.observe(CallBridged(call * 4.0 + 3.0, call, "elsewhere"))
    decision = p.decide(100.0)
    assert decision.reasoning is not None
    assert decision.reasoning.abandon_target == pytest.approx(0.027 - 1 / 200)


def test_abandons_feed_the_controller() -> None:
    p = pacer(Mode.PREDICTIVE, agents=1)
    for call in ("a", "b"):
        p.observe(CallDialed(0.0, call))
        p.observe(CallAnswered(5.0, call))
    p.observe(CallBridged(5.0, "a", 0))
    p.observe(CallAbandoned(7.0, "b"))
    assert (p.controller.answered, p.controller.abandoned) == (2, 1)
    assert p.floor.lines == 0


@pytest.mark.parametrize(
    ("setting", "value"),
    [("abandon_cap", 1.5), ("margin", 1.0), ("ratio", 0.0), ("connect_within_s", -1.0), ("max_lines", -1)],
)
def test_bad_settings_are_one_line_naming_the_setting(setting: str, value: object) -> None:
    with pytest.raises(UserError, match=rf"^pacer setting {setting}: "):
        PacerConfig(**{setting: value})  # type: ignore[arg-type]
