"""What the next seconds hold, and the abandon risk of one more call.

A call dialed now becomes ready for an agent (answered, and past AMD when on) with probability p,
after a delay τ drawn from the learned ready-delay distribution. Over the next few seconds let
R(t) be the calls ready by now + t (waiting, AMD analysing, ringing: each with its probability given
how long it has already rung) and A(t) the agents free by now + t (ready now; or talk elapsed e →
P(remaining talk + wrap ≤ t); or wrap elapsed w → P(remaining wrap ≤ t)). With every ready call
taking the first free agent and waiting at most `grace` s, Hall's theorem gives the abandons as the
largest deficit max_t [R(t) - A(t + grace)]; a new call ready at τ adds one abandon exactly when
the deficit without it reaches 0 at some t ≥ τ. Each count is a sum of independent yes/no outcomes,
so the deficit at t is taken as normal (mean, variance); the risk of the n-th new call is
mean over τ of max_{t ≥ τ} P(deficit(t) ≥ 0), evaluated at the quantiles of τ. In a blended campaign
the agents inbound takes by then (see `inbound`) add to the deficit.

`Tables` (see `tables`) holds everything that depends only on the learned distributions, rebuilt now
and then; `Outlook` is the state of the floor folded into them, built for each decision.
"""

from __future__ import annotations

import math
from operator import mul

from dialer.pacing.inbound import InboundClaim
from dialer.pacing.state import AgentState, Floor
from dialer.pacing.tables import SCREEN_STEP, TALK, TALK_ROWS, TINY, WRAP, WRAP_ROWS, Tables


def _trimmed(weights: list[float]) -> list[float]:
    """`weights` without its trailing zeros (the sums below stop at the shorter list)."""
    end = len(weights)
    while end and not weights[end - 1]:
        end -= 1
    return weights[:end]


class Outlook:
    """The deficit (calls ready minus agents free) ahead, folded from the floor into the tables.

    `mean[j]` and `var[j]` describe the deficit at `points[j]` from the calls in progress and the
    agents logged in, less what inbound claims (`claim`, in a blended campaign); `ready[j]` is the
    chance a new call is ready by then. `free_agents` (for outbound) and `ready_calls` are the
    expected counts at the median point (telemetry).
    """

    __slots__ = ("free_agents", "mean", "p_new", "ready", "ready_calls", "var")

    def __init__(
        self,
        tables: Tables,
        floor: Floor,
        now: float,
        p_answer: float,
        p_human: float,
        claim: InboundClaim | None = None,
    ) -> None:
        k_points = len(tables.points)
        p_human = p_human if floor.amd else 1.0
        self.p_new = p_answer * p_human
        self.ready = [self.p_new * level for level in tables.levels]

        rows = len(tables.answer_survival)
        by_row: dict[int, int] = {}
        for second, count in floor.ringing.items():
            d = min(max(int(now - second), 0), rows - 1)
            by_row[d] = by_row.get(d, 0) + count
        calls1 = [0.0] * rows
        calls2 = [0.0] * rows
        for d, count in by_row.items():
            answers = p_answer * tables.answer_survival[d]
            alive = answers + (1.0 - p_answer) * tables.fail_survival[d]
            q = p_human * answers / alive if alive > TINY else 0.0
            calls1[d], calls2[d] = count * q, count * q * q
        if floor.screening:
            calls1.extend([0.0] * tables.screen_rows)
            for answered_at in floor.screening.values():
                calls1[rows + min(int((now - answered_at) / SCREEN_STEP), tables.screen_rows - 1)] += p_human
            calls2.extend(c * p_human for c in calls1[rows:])

        free = 0.0
        talk = [0.0] * len(TALK_ROWS)
        wrap = [0.0] * len(WRAP_ROWS)
        held_mean = [0.0] * k_points  # agents in a minimum wrap-up (AGT-7), one by one
        held_var = [0.0] * k_points
        ready, talking, not_ready = AgentState.READY, AgentState.TALK, AgentState.NOT_READY
        for agent in floor.agents.values():
            state = agent.state
            if state == ready:
                free += 0.0 if agent.resting else 1.0
            elif agent.resting or state >= not_ready:  # paused, or on an inbound call
                continue
            elif state == talking:
                TALK.spread(talk, now - agent.since)
            elif now - agent.since >= agent.min_wrap:
                WRAP.spread(wrap, now - agent.since)
            else:
                self._held(tables, now - agent.since, agent.min_wrap, held_mean, held_var)
        busy1 = _trimmed(talk + wrap)

        self.mean = [0.0] * k_points
        self.var = [0.0] * k_points
        self.free_agents = self.ready_calls = 0.0
        for j in range(k_points):
            calls = sum(map(mul, calls1, tables.calls_t[j]))
            calls_sq = sum(map(mul, calls2, tables.calls2_t[j]))
            busy = sum(map(mul, busy1, tables.agents_t[j])) + held_mean[j]
            busy_sq = sum(map(mul, busy1, tables.agents2_t[j]))
            claimed, spread = claim.ahead(tables.points[j] + tables.grace) if claim else (0.0, 0.0)
            self.mean[j] = calls + floor.waiting - free - busy + claimed
            self.var[j] = calls - calls_sq + busy - held_mean[j] - busy_sq + held_var[j] + spread
            if j == k_points // 2:
                self.free_agents = free + busy - claimed
                self.ready_calls = calls + floor.waiting

    @staticmethod
    def _held(tables: Tables, elapsed: float, min_wrap: float, mean: list[float], var: list[float]) -> None:
        weights = [0.0] * len(WRAP_ROWS)
        WRAP.spread(weights, elapsed)
        for j, t in enumerate(tables.points):
            if elapsed + t + tables.grace >= min_wrap:
                p = sum(w * row[j] for w, row in zip(weights, tables.wrap_rows, strict=True) if w)
                mean[j] += p
                var[j] += p * (1.0 - p)

    def marginal_risk(self, n: int) -> float:
        """P(the n-th call launched now is abandoned | it becomes ready), for n ≥ 1."""
        others = n - 1
        worst = 0.0
        total = 0.0
        erfc, sqrt = math.erfc, math.sqrt
        for mean, var, p_ready in zip(
            reversed(self.mean), reversed(self.var), reversed(self.ready), strict=True
        ):
            mean += others * p_ready
            var += others * p_ready * (1.0 - p_ready)
            # P(deficit ≥ 0) for a normal deficit, with the continuity correction of a count
            risk = 0.5 * erfc(-(mean + 0.5) / sqrt(2.0 * var)) if var > TINY else float(mean > -0.5)
            if risk > worst:
                worst = risk
            total += worst
        return total / len(self.mean)
