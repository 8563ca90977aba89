"""The pacer's answer: how many calls to launch now, and why (DIAL-9 live pacing telemetry)."""

from __future__ import annotations

from dataclasses import dataclass

from dialer.pacing.events import AgentId


@dataclass(frozen=True, slots=True)
class Reasoning:
    """What a predictive decision was based on, as of `at` (its forecast stands a moment).

    `expected_free_agents` and `expected_ready_calls` look ahead by the median delay from dial
    to ready (plus the grace time, for agents); `ready_probability` is the learned chance that a
    dialed call ends up waiting for an agent; `risk` is the abandon probability of the last call
    launched (of the next one when none was); `risk_budget` is what the abandon feedback allows;
    `abandon_rate` is the rate observed so far and `abandon_target` the rate steered to.
    """

    at: float
    expected_free_agents: float
    expected_ready_calls: float
    ready_probability: float
    risk: float
    risk_budget: float
    abandon_rate: float
    abandon_target: float


@dataclass(frozen=True, slots=True)
class Decision:
    """`launch` calls now.

    `bound` says what set `launch`: `risk` (the risk budget), `progressive` (the floor of one call
    per ready agent), `list` (a list that will run out before the end: progressive), `ratio`,
    `preview`, `no agents`, `max_lines`, `leads` or `ceiling` (at most ten calls per agent at
    once). `lines` are the calls in progress before this launch. `resting` lists ready agents held
    back by their maximum occupancy (AGT-7): the router should not give them a call.
    In a blended campaign, `held_for_inbound` of the `ready_agents` were not dialed for, inbound
    being expected to take them (see `inbound`), and `kept_for_inbound` lists the ready agents kept
    free for inbound calls: the router should give them no outbound call.
    """

    at: float
    launch: int
    mode: str
    bound: str
    lines: int
    ready_agents: int
    resting: tuple[AgentId, ...] = ()
    reasoning: Reasoning | None = None
    kept_for_inbound: tuple[AgentId, ...] = ()
    held_for_inbound: int = 0

    def explain(self) -> str:
        """One line for logs and the live telemetry view."""
        text = f"{self.mode}: launch {self.launch} ({self.bound}); lines {self.lines}"
        text += f", ready agents {self.ready_agents}"
        if self.resting:
            text += f" (+{len(self.resting)} resting)"
        if self.held_for_inbound:
            text += f", {self.held_for_inbound} held for inbound ({len(self.kept_for_inbound)} kept free)"
        r = self.reasoning
        if r is not None:
            text += (
                f"; expect {r.expected_free_agents:.1f} agents free,"
                f" {r.expected_ready_calls:.1f} calls ready; p(ready) {r.ready_probability:.3f};"
                f" risk {r.risk:.3f} / budget {r.risk_budget:.3f};"
                f" abandon {r.abandon_rate:.2%} (target {r.abandon_target:.2%})"
            )
        return text
