"""Abandon-rate feedback: the risk budget a predictive call may carry, closed on what really happens.

The forecast prices each extra call by its probability of being abandoned; the pacer launches calls
while that risk stays under the budget. The model is never exact, so the budget is steered by the
abandons actually seen: log(budget) moves up by `gain × target` on every call bridged from the
waiting queue and down by `gain × (1 − target)` on every abandon (a Robbins–Monro step). Its fixed
point is an abandon rate equal to the target, and because the step sums the running surplus
`target × answered − abandoned`, what it holds is the cumulative rate that the cap is measured on.
The budget is clamped against wind-up; at its floor the pacer is, in effect, progressive.
"""

from __future__ import annotations

import math


class AbandonController:
    """Integral controller from observed abandons to the per-call risk budget."""

    __slots__ = ("_high", "_log_budget", "_low", "abandoned", "answered", "gain", "target")

    def __init__(self, target: float, *, gain: float = 0.25, start: float = 1.5) -> None:
        self.target = target
        self.gain = gain
        self.answered = 0
        self.abandoned = 0
        base = max(self.target, 1e-9)
        self._low = math.log(base * 0.1)
        self._high = math.log(min(0.5, base * 30.0))
        self._log_budget = math.log(base * start)

    def observe(self, abandoned: bool) -> None:
        """A call that waited for an agent was bridged (`False`) or abandoned (`True`)."""
        self.answered += 1
        self.abandoned += abandoned
        error = self.target - (1.0 if abandoned else 0.0)
        self._log_budget = min(max(self._log_budget + self.gain * error, self._low), self._high)

    @property
    def budget(self) -> float:
        """Largest abandon probability one more call may carry; 0 when the cap is 0."""
        return math.exp(self._log_budget) if self.target > 0.0 else 0.0

    @property
    def observed_rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0
