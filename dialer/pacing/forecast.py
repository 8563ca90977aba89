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
mean over τ of max_{t ≥ τ} P(deficit(t) ≥ 0), evaluated at the quantiles of τ.

`Tables` holds everything that depends only on the learned distributions (rebuilt now and then);
`Outlook` is the state of the floor folded into them, built for each decision.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from operator import mul, sub

from dialer.pacing.estimators import Estimates, Survival
from dialer.pacing.state import AgentState, Floor

TALK_ROWS: tuple[int, ...] = (
    *(0, 2, 4, 6, 8, 10, 13, 16, 20, 25, 30, 36, 43, 52, 62, 75, 90, 110, 130, 155, 185, 220),
    *(265, 320, 385, 460, 550, 660, 800, 1000, 1250, 1600, 2000, 2600, 3600),
)
WRAP_ROWS: tuple[int, ...] = (*range(31), 35, 40, 45, 50, 60, 75, 90, 120, 150, 180, 240, 300, 450, 600)
STEP = 0.5  # lattice for the convolutions, seconds
SCREEN_STEP = 0.25  # rows for calls under AMD analysis, seconds since answer
_TINY = 1e-9


def _cdf_grid(survival: Survival | None, start: float, step: float, count: int) -> list[float]:
    """CDF of a duration at start, start + step, ...; `None` is a duration that is always 0 (no AMD)."""
    if survival is None:
        return [1.0 if start + step * m >= 0.0 else 0.0 for m in range(count)]
    return [
        0.0 if start + step * m <= 0.0 else 1.0 - v for m, v in enumerate(survival.grid(start, step, count))
    ]


def _kernel(survival: Survival | None, x: float, count: int) -> list[float]:
    """CDF at x - STEP/2, x - 3 STEP/2, ... (`count` points, downwards): a convolution kernel."""
    return _cdf_grid(survival, x - STEP / 2 - STEP * (count - 1), STEP, count)[::-1]


def _transpose(rows: list[list[float]]) -> list[list[float]]:
    return [list(col) for col in zip(*rows, strict=True)]


def _squared(rows: list[list[float]]) -> list[list[float]]:
    return [[x * x for x in row] for row in rows]


def _trimmed(weights: list[float]) -> list[float]:
    """`weights` without its trailing zeros (the sums below stop at the shorter list)."""
    end = len(weights)
    while end and not weights[end - 1]:
        end -= 1
    return weights[:end]


class RowGrid:
    """Rows at whole-second elapsed times; `spread` adds an agent to its two neighbouring rows, linearly.

    The row and weight for each quarter second are tabulated, so that an agent costs two additions.
    """

    __slots__ = ("_slots", "last")

    def __init__(self, rows: tuple[int, ...]) -> None:
        self.last = rows[-1]
        self._slots: list[tuple[int, float]] = []
        for quarter in range(4 * self.last):
            x = quarter / 4.0
            r = bisect_right(rows, x) - 1
            self._slots.append((r, (x - rows[r]) / (rows[r + 1] - rows[r])))

    def spread(self, weights: list[float], x: float) -> None:
        if x >= self.last:
            weights[-1] += 1.0
            return
        r, frac = self._slots[int(x * 4.0) if x > 0.0 else 0]
        weights[r] += 1.0 - frac
        weights[r + 1] += frac


TALK = RowGrid(TALK_ROWS)
WRAP = RowGrid(WRAP_ROWS)


class Tables:
    """Probabilities that depend only on the learned distributions, at the points `points` ahead."""

    def __init__(self, estimates: Estimates, floor: Floor, now: float, *, grace: float, points: int) -> None:
        ring = estimates.ring.fit()
        fail = estimates.fail.fit()
        verdict = estimates.verdict.fit() if floor.amd else None
        talk = estimates.talk.fit(floor.elapsed(AgentState.TALK, now))
        wrap = estimates.wrap.fit(floor.elapsed(AgentState.WRAP, now))
        self.grace = grace
        self.cycle_s = talk.mean() + wrap.mean()  # an agent's time per call, waiting aside
        rows = math.ceil(max(ring.horizon(), fail.horizon())) + 1
        self.answer_survival = [ring(float(d)) for d in range(rows)]
        self.fail_survival = [fail(float(d)) for d in range(rows)]
        lattice = 2 * rows + 2
        ring_survival = ring.grid(0.0, STEP, lattice + 1)
        ring_mass = list(map(sub, ring_survival, ring_survival[1:]))
        self.points = self._ready_quantiles(ring_mass, verdict, points)
        self.levels = [(j + 0.5) / points for j in range(points)]

        ring_rows: list[list[float]] = []
        kernels = [_kernel(verdict, t, lattice) for t in self.points]
        for d in range(rows):
            s = self.answer_survival[d]
            tail = ring_mass[2 * d :]
            ring_rows.append([min(sum(map(mul, tail, k)) / s, 1.0) if s > _TINY else 0.0 for k in kernels])

        screen_rows: list[list[float]] = []
        n_screen = int((verdict.horizon() if verdict is not None else 0.0) / SCREEN_STEP) + 2
        for r in range(n_screen):
            a = r * SCREEN_STEP
            s = verdict(a) if verdict is not None else 0.0
            screen_rows.append(
                [1.0 - verdict(a + t) / s if verdict is not None and s > _TINY else 1.0 for t in self.points]
            )
        self.screen_rows = len(screen_rows)
        # columns: for each point ahead, P(ready by then) of each ringing row, then of each AMD row
        self.calls_t = _transpose(ring_rows + screen_rows)
        self.calls2_t = _transpose(_squared(ring_rows + screen_rows))

        reach = [t + grace for t in self.points]
        span = int(2 * (max(reach) + 1.0))
        wrap_kernels = [_kernel(wrap, x, span) for x in reach]
        talk_rows: list[list[float]] = []
        for e in TALK_ROWS:
            s = talk(e)
            if s <= _TINY:
                talk_rows.append(list(talk_rows[-1]) if talk_rows else [0.0] * points)
                continue
            survival = talk.grid(float(e), STEP, span + 1)
            mass = list(map(sub, survival, survival[1:]))
            talk_rows.append([min(sum(map(mul, mass, k)) / s, 1.0) for k in wrap_kernels])

        self.wrap_rows: list[list[float]] = []
        for w in WRAP_ROWS:
            s = wrap(w)
            if s <= _TINY:
                self.wrap_rows.append(list(self.wrap_rows[-1]) if self.wrap_rows else [1.0] * points)
                continue
            self.wrap_rows.append([1.0 - wrap(w + x) / s for x in reach])
        # columns: for each point ahead (plus grace), P(free by then) of each talk row, then each wrap row
        self.agents_t = _transpose(talk_rows + self.wrap_rows)
        self.agents2_t = _transpose(_squared(talk_rows + self.wrap_rows))

    @staticmethod
    def _ready_quantiles(ring_mass: list[float], verdict: Survival | None, points: int) -> list[float]:
        """Quantiles (j + 0.5) / points of the delay from dial to ready: ring time plus AMD time."""
        extra = int(2 * verdict.horizon()) + 2 if verdict is not None else 1
        n = len(ring_mass) + extra
        kernel = _cdf_grid(verdict, -STEP / 2, STEP, n + 1)
        cdf = [sum(map(mul, ring_mass[:m], kernel[m:0:-1])) for m in range(n + 1)]
        total = cdf[-1] if cdf[-1] > _TINY else 1.0
        quantiles: list[float] = []
        m = 0
        for j in range(points):
            target = (j + 0.5) / points * total
            while m < n and cdf[m + 1] < target:
                m += 1
            lo, hi = cdf[m], cdf[min(m + 1, n)]
            frac = (target - lo) / (hi - lo) if hi > lo else 0.0
            quantiles.append(STEP * (m + min(max(frac, 0.0), 1.0)))
        return quantiles


class Outlook:
    """The deficit (calls ready minus agents free) ahead, folded from the floor into the tables.

    `mean[j]` and `var[j]` describe the deficit at `points[j]` from the calls in progress and the
    agents logged in; `ready[j]` is the chance a new call is ready by then. `free_agents` and
    `ready_calls` are the expected counts at the median point (telemetry).
    """

    __slots__ = ("free_agents", "mean", "p_new", "ready", "ready_calls", "var")

    def __init__(self, tables: Tables, floor: Floor, now: float, p_answer: float, p_human: float) -> None:
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
            q = p_human * answers / alive if alive > _TINY else 0.0
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
            elif agent.resting or state == not_ready:
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
            self.mean[j] = calls + floor.waiting - free - busy
            self.var[j] = calls - calls_sq + busy - held_mean[j] - busy_sq + held_var[j]
            if j == k_points // 2:
                self.free_agents = free + busy
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
            risk = 0.5 * erfc(-(mean + 0.5) / sqrt(2.0 * var)) if var > _TINY else float(mean > -0.5)
            if risk > worst:
                worst = risk
            total += worst
        return total / len(self.mean)
