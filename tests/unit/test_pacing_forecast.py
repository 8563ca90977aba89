"""The forecast: agents spread over elapsed-time rows, ready-delay quantiles, the marginal risk."""

from __future__ import annotations

import math

import pytest

from dialer.pacing.estimators import Estimates
from dialer.pacing.events import AgentLoggedIn, CallAnswered, CallBridged, CallDialed, TalkEnded
from dialer.pacing.forecast import Outlook
from dialer.pacing.state import AgentState, Floor
from dialer.pacing.tables import RowGrid, Tables


def _outlook(mean: list[float], var: list[float], ready: list[float]) -> Outlook:
    outlook = Outlook.__new__(Outlook)
    outlook.mean, outlook.var, outlook.ready = mean, var, ready
    return outlook


def test_marginal_risk_is_the_normal_tail_of_the_deficit() -> None:
    # one free agent for sure, each new call ready by then with probability 0.5
    outlook = _outlook(mean=[-1.0], var=[0.0], ready=[0.5])
    assert outlook.marginal_risk(1) == 0.0  # alone, the call has the agent
    assert outlook.marginal_risk(2) == pytest.approx(0.5)  # deficit -0.5 ± 0.5: P(≥ 0) = Φ(0)
    phi = 0.5 * math.erfc(-0.5 / math.sqrt(2 * 0.5))  # deficit 0 ± √0.5, continuity-corrected
    assert outlook.marginal_risk(3) == pytest.approx(phi)


def test_marginal_risk_counts_later_calls_it_would_push_out() -> None:
    # a call ready early finds an agent, but a call already in flight is ready later with none left
    outlook = _outlook(mean=[-1.0, 0.0], var=[0.0, 0.0], ready=[0.0, 0.0])
    assert outlook.marginal_risk(1) == 1.0
    outlook = _outlook(mean=[0.0, -1.0], var=[0.0, 0.0], ready=[0.0, 0.0])
    assert outlook.marginal_risk(1) == 0.5  # only if ready at the first point


def test_agents_spread_linearly_over_rows() -> None:
    grid = RowGrid((0, 10, 30))
    weights = [0.0, 0.0, 0.0]
    grid.spread(weights, 2.5)
    grid.spread(weights, 20.0)
    grid.spread(weights, 99.0)
    assert weights == pytest.approx([0.75, 0.75, 1.5])


def _floor(estimates: Estimates) -> Floor:
    return Floor(estimates, amd=False, occupancy_window_s=1800.0, on_waiting_resolved=lambda _: None)


def test_ready_delay_quantiles_follow_the_learned_ring_time() -> None:
    estimates = Estimates()
    floor = _floor(estimates)
    for i in range(3000):
        floor.apply(CallDialed(float(i), i))
        floor.apply(CallAnswered(i + 5.2, i))
        floor.apply(CallBridged(i + 5.2, i, "nobody"))
    tables = Tables(estimates, amd=False, talking=(), wrapping=(), grace=2.0, points=4).complete()
    assert tables.points == pytest.approx([5.0625, 5.1875, 5.3125, 5.4375], abs=0.01)
    assert tables.levels == [0.125, 0.375, 0.625, 0.875]


def test_agent_in_a_fixed_wrap_up_is_free_when_it_ends() -> None:
    estimates = Estimates()
    floor = _floor(estimates)
    floor.apply(AgentLoggedIn(0.0, "a"))
    for i in range(2000):
        floor.apply(CallDialed(float(i), i))
        floor.apply(CallAnswered(i + 5.2, i))
        floor.apply(CallBridged(i + 5.2, i, "a"))
        floor.apply(TalkEnded(i + 5.2, "a"))
        estimates.wrap.observe(10.2)
    floor.apply(CallBridged(5000.0, "x", "a"))
    floor.apply(TalkEnded(5000.0, "a"))
    wrapping = floor.elapsed(AgentState.WRAP, 5000.0)
    tables = Tables(estimates, amd=False, talking=(), wrapping=wrapping, grace=2.0, points=4).complete()
    early = Outlook(tables, floor, 5000.5, 1.0, 1.0)  # ~9.8 s of wrap left, new calls ready in ~5 s
    late = Outlook(tables, floor, 5004.0, 1.0, 1.0)  # ~6.3 s left: free within 5 s + 2 s of grace
    assert early.free_agents == pytest.approx(0.0, abs=0.01)
    assert late.free_agents == pytest.approx(1.0, abs=0.01)


def test_tables_built_a_slice_at_a_time_are_the_tables_built_at_once() -> None:
    estimates = Estimates()
    floor = _floor(estimates)
    for i in range(300):
        floor.apply(CallDialed(float(i), i))
        floor.apply(CallAnswered(i + 4.0 + i % 7, i))
    settings = {"amd": True, "talking": (3.0, 40.0), "wrapping": (1.0,), "grace": 2.0, "points": 10}
    whole = Tables(estimates, **settings).complete()  # type: ignore[arg-type]
    sliced = Tables(estimates, **settings)  # type: ignore[arg-type]
    slices = 1
    while not sliced.advance():
        slices += 1
    # the fits; the quantiles; 32 ringing rows, 6 a slice; the AMD rows and the columns; the wrap
    # kernels; the talk rows up to the longest talk (480 s, the prior), 6 a slice; the wrap rows
    assert slices == 15
    assert sliced.advance()  # complete stays complete
    for name in (
        "points",
        "answer_survival",
        "fail_survival",
        "calls_t",
        "calls2_t",
        "agents_t",
        "agents2_t",
    ):
        assert getattr(sliced, name) == getattr(whole, name)
