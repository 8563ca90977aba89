"""The agent state machine (AGT-1, AGT-7): events, state-log entries, wrap-up timers, with fixed times."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import (
    AgentStatus,
    AgentStep,
    CancelWrapTimer,
    RescueCall,
    StartWrapTimer,
    StateChange,
    Wrap,
)
from ringcast.errors import UserError
from ringcast.transitions import IllegalTransition

A = AgentState
T0 = datetime(2024, 5, 6, 1, 0, tzinfo=UTC)
WRAP = Wrap(timer=timedelta(seconds=30), minimum=timedelta(seconds=10))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def on_call(call: str = "1715000000.1") -> AgentStatus:
    agent = AgentStatus.logged_out(3, T0).login(at(0)).agent
    return agent.reserve(at(1), call).agent.bridge(at(2), call).agent


def test_a_call_cycle_logs_every_change() -> None:
    agent = AgentStatus.logged_out(3, T0)
    steps = [agent.login(at(0))]
    steps.append(steps[-1].agent.reserve(at(5), "c1"))
    steps.append(steps[-1].agent.bridge(at(5.01), "c1"))
    steps.append(steps[-1].agent.hangup(at(65), "c1", WRAP))
    steps.append(steps[-1].agent.wrap_done(at(95)))
    assert [s.change for s in steps] == [
        StateChange(3, A.LOGGED_OUT, A.READY, None, at(0)),
        StateChange(3, A.READY, A.RESERVED, None, at(5)),
        StateChange(3, A.RESERVED, A.ON_CALL, None, at(5.01)),
        StateChange(3, A.ON_CALL, A.WRAP_UP, None, at(65)),
        StateChange(3, A.WRAP_UP, A.READY, "wrap_timer", at(95)),
    ]
    assert steps[1].agent == AgentStatus(3, A.RESERVED, at(5), call="c1")
    assert steps[3].agent == AgentStatus(3, A.WRAP_UP, at(65), ready_from=at(75))
    assert steps[3].commands == (StartWrapTimer(at(95)),)
    assert steps[4].agent == AgentStatus(3, A.READY, at(95), reason="wrap_timer")


def test_the_wrap_timer_is_never_shorter_than_the_agents_minimum() -> None:
    step = on_call().hangup(
        at(60), "1715000000.1", Wrap(timer=timedelta(seconds=5), minimum=timedelta(seconds=20))
    )
    assert step.commands == (StartWrapTimer(at(80)),)
    untimed = on_call().hangup(at(60), "1715000000.1", Wrap(minimum=timedelta(seconds=20)))
    assert (untimed.commands, untimed.agent.ready_from) == ((), at(80))


def test_ready_during_the_minimum_wrap_up_only_moves_the_timer() -> None:
    wrapping = on_call().hangup(at(60), "1715000000.1", WRAP).agent
    early = wrapping.ready(at(65))
    assert early == AgentStep(wrapping, None, (StartWrapTimer(at(70)),))
    assert wrapping.ready(at(70)) == AgentStep(
        AgentStatus(3, A.READY, at(70)),
        StateChange(3, A.WRAP_UP, A.READY, None, at(70)),
        (CancelWrapTimer(),),
    )
    with pytest.raises(IllegalTransition, match="agent 3 is wrap_up: cannot end wrap-up"):
        wrapping.wrap_done(at(69))


def test_a_call_lost_before_the_bridge_returns_the_agent_to_ready() -> None:
    reserved = AgentStatus.logged_out(3, T0).login(at(0)).agent.reserve(at(5), "c1").agent
    assert reserved.hangup(at(6), "c1", WRAP) == AgentStep(
        AgentStatus(3, A.READY, at(6)), StateChange(3, A.RESERVED, A.READY, None, at(6))
    )


def test_events_for_another_call_are_refused() -> None:
    reserved = AgentStatus.logged_out(3, T0).login(at(0)).agent.reserve(at(5), "c1").agent
    with pytest.raises(
        IllegalTransition, match=r"agent 3 is reserved: cannot bridge call c2 \(its call is c1\)"
    ):
        reserved.bridge(at(6), "c2")
    with pytest.raises(IllegalTransition, match="cannot hangup call c2"):
        on_call("c1").hangup(at(6), "c2", WRAP)


def test_pauses_carry_a_reason() -> None:
    ready = AgentStatus.logged_out(3, T0).login(at(0)).agent
    lunch = ready.pause(at(10), "午饭")
    assert lunch.agent == AgentStatus(3, A.NOT_READY, at(10), reason="午饭")
    assert lunch.change == StateChange(3, A.READY, A.NOT_READY, "午饭", at(10))
    assert lunch.agent.pause(at(20), "午饭") == AgentStep(lunch.agent, None)
    assert lunch.agent.pause(at(20), "training").change == StateChange(
        3, A.NOT_READY, A.NOT_READY, "training", at(20)
    )
    assert lunch.agent.ready(at(30)).change == StateChange(3, A.NOT_READY, A.READY, None, at(30))
    with pytest.raises(UserError, match="agent 3: say why the agent pauses"):
        ready.pause(at(10), "  ")


def test_leaving_wrap_up_otherwise_cancels_the_timer() -> None:
    wrapping = on_call().hangup(at(60), "1715000000.1", WRAP).agent
    assert wrapping.pause(at(61), "break").commands == (CancelWrapTimer(),)
    assert wrapping.logout(at(61)).commands == (CancelWrapTimer(),)
    assert wrapping.phone_lost(at(61)).commands == (CancelWrapTimer(),)


def test_a_lost_phone_logs_out_and_hands_back_the_call() -> None:
    step = on_call("c9").phone_lost(at(30))
    assert step == AgentStep(
        AgentStatus(3, A.LOGGED_OUT, at(30), reason="phone_lost"),
        StateChange(3, A.ON_CALL, A.LOGGED_OUT, "phone_lost", at(30)),
        (RescueCall("c9"),),
    )


def test_every_transition_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dialer.agents.state")
    AgentStatus.logged_out(3, T0).login(at(0)).agent.pause(at(1), "break").agent.logout(at(2))
    assert [r.getMessage() for r in caplog.records] == [
        "agent 3: logged_out -> login -> ready",
        "agent 3: ready -> pause -> not_ready",
        "agent 3: not_ready -> logout -> logged_out",
    ]


EVENTS: dict[str, Callable[[AgentStatus, datetime], AgentStep]] = {
    "login": lambda agent, t: agent.login(t),
    "ready": lambda agent, t: agent.ready(t),
    "pause": lambda agent, t: agent.pause(t, "break"),
    "reserve": lambda agent, t: agent.reserve(t, "c1"),
    "bridge": lambda agent, t: agent.bridge(t, "c1"),
    "hangup": lambda agent, t: agent.hangup(t, "c1", WRAP),
    "wrap_done": lambda agent, t: agent.wrap_done(t),
    "logout": lambda agent, t: agent.logout(t),
    "phone_lost": lambda agent, t: agent.phone_lost(t),
}
ALLOWED_FROM = {
    "login": {A.LOGGED_OUT},
    "ready": {A.NOT_READY, A.WRAP_UP},
    "pause": {A.READY, A.NOT_READY, A.WRAP_UP},
    "reserve": {A.READY, A.NOT_READY},  # not ready: the agent's own previewed lead
    "bridge": {A.RESERVED},
    "hangup": {A.RESERVED, A.ON_CALL},
    "wrap_done": {A.WRAP_UP},
    "logout": {A.READY, A.NOT_READY, A.WRAP_UP},
    "phone_lost": set(A) - {A.LOGGED_OUT},
}


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("state", list(A))
def test_transition_table(event: str, state: AgentState) -> None:
    agent = AgentStatus(3, state, T0, call="c1" if state in (A.RESERVED, A.ON_CALL) else None)
    if state in ALLOWED_FROM[event]:
        assert EVENTS[event](agent, at(100)).state in set(A)
    else:
        with pytest.raises(IllegalTransition, match=f"^agent 3 is {state.value}: cannot {event}$"):
            EVENTS[event](agent, at(100))


@given(st.lists(st.tuples(st.sampled_from(sorted(EVENTS)), st.integers(0, 100)), max_size=60))
def test_the_state_log_chains_and_calls_belong_to_calling_states(events: list[tuple[str, int]]) -> None:
    agent = AgentStatus.logged_out(3, T0)
    clock = T0
    for name, gap in events:
        clock += timedelta(seconds=gap)
        try:
            step = EVENTS[name](agent, clock)
        except IllegalTransition:
            continue
        if step.change is not None:
            assert step.change.from_state is agent.state
            assert step.change.to_state is step.agent.state
        assert (step.agent.call is not None) == (step.agent.state in (A.RESERVED, A.ON_CALL))
        assert (step.agent.ready_from is not None) == (step.agent.state is A.WRAP_UP)
        agent = step.agent
