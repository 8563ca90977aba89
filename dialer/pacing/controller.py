"""Abandon-rate feedback: the risk budget a predictive call may carry, closed on what really happens.

The forecast prices each extra call by its probability of being abandoned; the pacer launches calls
while that risk stays under the budget. The model is never exact, so the budget is steered by the
abandons actually seen: log(budget) moves up by `step × aim` on every call bridged from the waiting
queue and down by `step × (1 − aim)` on every abandon (a Robbins–Monro step). Its fixed point is an
abandon rate equal to the aim, and because the steps sum the running surplus `aim × answered −
abandoned`, what it holds is the cumulative rate that the cap is measured on. The budget is clamped
against wind-up; at its floor the pacer is, in effect, progressive.

How far off the forecast is differs from campaign to campaign (in the benchmark, budgets of 0.4 to
4 times the target hold it), and a small campaign sees only a handful of abandons in all, too few
for small steps to find the right budget before the end: the surplus run up on the way would stay
in its final rate. So the step starts large and shrinks as evidence comes in, `early_gain /
√(1 + abandons expected so far)`, down to `gain`, where it stays to follow drift.

A campaign's rate is a count, and one that expects a few dozen abandons in all ends an abandon or
two from where the feedback steers it: a share of the cap covers that in a big campaign, not in a
small one. So the `aim` keeps `reserve` abandons of the campaign's expected total in hand below the
`target` (see `expect`).
"""

from __future__ import annotations

import math


class AbandonController:
    """Integral controller from observed abandons to the per-call risk budget."""

    __slots__ = (
        *("_high", "_log_budget", "_low", "abandoned", "aim", "answered"),
        *("early_gain", "gain", "reserve", "target"),
    )

    def __init__(
        self,
        target: float,
        *,
        gain: float = 0.25,
        early_gain: float = 1.0,
        start: float = 1.5,
        reserve: float = 1.0,
    ) -> None:
        self.target = target
        self.aim = target
        self.reserve = reserve
        self.gain = gain
        self.early_gain = early_gain
        self.answered = 0
        self.abandoned = 0
        base = max(self.target, 1e-9)
        self._low = math.log(base * 0.1)
        self._high = math.log(min(0.5, base * 30.0))
        self._log_budget = math.log(base * start)

    @property
    def step(self) -> float:
        """The size of the next step: large while few abandons were to be expected, then `gain`."""
        return max(self.gain, self.early_gain / math.sqrt(1.0 + self.target * self.answered))

    def expect(self, answers: float) -> None:
        """The campaign is expected to see `answers` calls wait for an agent in all: aim below the
        target by `reserve` of them (at 0, when that leaves nothing)."""
        self.aim = max(self.target - self.reserve / answers, 0.0) if answers > 0.0 else self.target

    def observe(self, abandoned: bool) -> None:
        """A call that waited for an agent was bridged (`False`) or abandoned (`True`)."""
        error = self.aim - (1.0 if abandoned else 0.0)
        self._log_budget = min(max(self._log_budget + self.step * error, self._low), self._high)
        self.answered += 1
        self.abandoned += abandoned

    @property
    def budget(self) -> float:
        """Largest abandon probability one more call may carry; 0 when the cap is 0."""
        return math.exp(self._log_budget) if self.target > 0.0 else 0.0

    @property
    def observed_rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0
