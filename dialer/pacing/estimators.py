"""Online estimators: what the pacer learns about a campaign, from the events alone.

* `DecayingRate`: a yes/no probability (answer rate, AMD human verdicts) with exponential forgetting,
  so that drift is followed; `ShiftingRate` pairs a slow and a fast one and jumps to the fast one when
  they disagree beyond noise (answer rates that change during the day).
* `EventRate`: how often something happens (inbound calls taking the campaign's agents), per second,
  with exponential forgetting.
* `DurationModel`: the distribution of a duration (ring time, talk, wrap, AMD delay) as a histogram
  with exponential forgetting, fitted by Kaplan–Meier so that durations still running (agents still
  talking) count as censored instead of biasing the estimate short; `fit` returns a `Survival`.
* `Estimates`: the set the pacer keeps, with weak, generic priors (no campaign knowledge) chosen on
  the safe side: a high answer rate and long talk and wrap make a fresh pacer dial less, not more.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence


def _time_edges() -> tuple[float, ...]:
    """Bin edges for durations: every 0.5 s up to 60 s, then 5 % wider each, up to 6 hours."""
    edges = [i * 0.5 for i in range(121)]
    while edges[-1] < 21_600.0:
        edges.append(edges[-1] * 1.05)
    return tuple(edges)


EDGES = _time_edges()
_LINEAR_BINS = 120  # bins of 0.5 s before the geometric part


def bin_of(x: float) -> int:
    """Index of the bin holding duration `x` (the last bin takes everything beyond)."""
    if x < 60.0:
        return max(int(x * 2.0), 0)
    return min(bisect_right(EDGES, x) - 1, len(EDGES) - 2)


class DecayingRate:
    """P(yes) from yes/no observations with exponential forgetting.

    Older observations fade with time (time constant `memory_s`) but never faster than
    `1 - 1/memory` per observation: a busy campaign averages over its last `memory_s` seconds,
    a quiet one over its last `memory` observations or so.
    """

    __slots__ = ("_at", "_keep", "_memory_s", "_n", "_yes")

    def __init__(self, prior: float, prior_weight: float, memory: float, memory_s: float) -> None:
        self._keep = 1.0 - 1.0 / memory
        self._memory_s = memory_s
        self._at: float | None = None
        self._yes = prior * prior_weight
        self._n = prior_weight

    def observe(self, yes: bool, at: float) -> None:
        keep = self._keep
        if self._at is not None:
            keep = max(keep, math.exp(-max(at - self._at, 0.0) / self._memory_s))
        self._at = at
        self._yes = self._yes * keep + (1.0 if yes else 0.0)
        self._n = self._n * keep + 1.0

    @property
    def value(self) -> float:
        return self._yes / self._n

    @property
    def weight(self) -> float:
        """Effective number of observations behind `value`."""
        return self._n

    def copy_from(self, other: DecayingRate) -> None:
        self._yes, self._n = other._yes, other._n


class ShiftingRate:
    """A slow `DecayingRate` that adopts a fast one's state when the two differ by more than `z` sigma."""

    __slots__ = ("_fast", "_slow", "_z", "shifts")

    def __init__(
        self,
        prior: float,
        prior_weight: float,
        *,
        slow: tuple[float, float],
        fast: tuple[float, float],
        z: float = 3.5,
    ) -> None:
        self._slow = DecayingRate(prior, prior_weight, *slow)
        self._fast = DecayingRate(prior, prior_weight, *fast)
        self._z = z
        self.shifts = 0

    def observe(self, yes: bool, at: float) -> None:
        self._slow.observe(yes, at)
        self._fast.observe(yes, at)
        slow, fast = self._slow.value, self._fast.value
        p = min(max(slow, 0.02), 0.98)
        sigma = math.sqrt(p * (1.0 - p) * (1.0 / self._fast.weight + 1.0 / self._slow.weight))
        if abs(fast - slow) > self._z * sigma:
            self._slow.copy_from(self._fast)
            self.shifts += 1

    @property
    def value(self) -> float:
        return self._slow.value


class EventRate:
    """Events per second, counted with exponential forgetting (time constant `memory_s`).

    The decayed count is divided by the decayed length of the time watched since `since` (the
    campaign's start), so that a constant rate reads right from the first minutes; that length is
    taken as at least `min_window_s`, so that the first event does not read as a flood.
    """

    __slots__ = ("_at", "_count", "_memory_s", "_min_window_s")

    def __init__(self, memory_s: float, min_window_s: float) -> None:
        self._memory_s = memory_s
        self._min_window_s = min_window_s
        self._at: float | None = None
        self._count = 0.0

    def observe(self, at: float) -> None:
        if self._at is not None:
            self._count *= math.exp(-max(at - self._at, 0.0) / self._memory_s)
            at = max(at, self._at)
        self._at = at
        self._count += 1.0

    def per_second(self, now: float, since: float) -> float:
        if self._at is None:
            return 0.0
        memory = self._memory_s
        count = self._count * math.exp(-max(now - self._at, 0.0) / memory)
        watched = memory * -math.expm1(-max(now - since, 0.0) / memory)
        return count / max(watched, self._min_window_s)


class Survival:
    """S(x) = P(duration > x), piecewise linear between the bin edges.

    `support` is the number of bins up to the last one where durations were seen to end: beyond
    it the data say nothing (S stays flat), and `mean` takes what is left to end there.
    """

    __slots__ = ("support", "values")

    def __init__(self, values: Sequence[float], support: int | None = None) -> None:
        self.values = list(values)
        self.support = len(self.values) - 1 if support is None else support

    def __call__(self, x: float) -> float:
        if x <= 0.0:
            return 1.0
        if x >= EDGES[-1]:
            return self.values[-1]
        k = bin_of(x)
        lo, hi = EDGES[k], EDGES[k + 1]
        v0 = self.values[k]
        return v0 + (self.values[k + 1] - v0) * (x - lo) / (hi - lo)

    def grid(self, start: float, step: float, count: int) -> list[float]:
        """S at start, start + step, ... (`count` points), walking the bins once."""
        values, last = self.values, len(EDGES) - 1
        k = bin_of(max(start, 0.0))
        out: list[float] = []
        x = start
        for _ in range(count):
            while k < last - 1 and EDGES[k + 1] <= x:
                k += 1
            if x <= 0.0:
                out.append(1.0)
            elif x >= EDGES[last]:
                out.append(values[last])
            else:
                lo = EDGES[k]
                out.append(values[k] + (values[k + 1] - values[k]) * (x - lo) / (EDGES[k + 1] - lo))
            x += step
        return out

    def mean(self) -> float:
        """Mean duration, the mass left beyond the support counted at its end."""
        v = self.values
        return sum((v[k] + v[k + 1]) * 0.5 * (EDGES[k + 1] - EDGES[k]) for k in range(self.support))

    def horizon(self, tail: float = 1e-3) -> float:
        """The first edge beyond which less than `tail` of the mass remains."""
        for k, value in enumerate(self.values):
            if value < tail:
                return EDGES[k]
        return EDGES[-1]


class DurationModel:
    """A duration's distribution learned online: forgetting histogram, Kaplan–Meier fit."""

    __slots__ = ("_counts", "_keep", "_scale", "observed")

    def __init__(self, prior: Sequence[float], prior_weight: float, memory: float) -> None:
        self._keep = 1.0 - 1.0 / memory
        self._counts = [0.0] * (len(EDGES) - 1)
        self._scale = 1.0
        self.observed = 0  # durations seen, prior aside
        for value in prior:
            self._counts[bin_of(value)] += prior_weight / len(prior)

    def observe(self, duration: float) -> None:
        self.observed += 1
        self._scale /= self._keep
        if self._scale > 1e12:
            self._counts = [c / self._scale for c in self._counts]
            self._scale = 1.0
        self._counts[bin_of(duration)] += self._scale

    def fit(self, running: Iterable[float] = ()) -> Survival:
        """Kaplan–Meier survival; `running` are elapsed times of durations not finished yet."""
        n_bins = len(self._counts)
        at_risk = [c / self._scale for c in self._counts]
        events = list(at_risk)
        for elapsed in running:
            at_risk[bin_of(elapsed)] += 1.0
        for k in range(n_bins - 2, -1, -1):
            at_risk[k] += at_risk[k + 1]
        values = [1.0] * (n_bins + 1)
        s = 1.0
        support = 0
        for k in range(n_bins):
            if at_risk[k] > 0.0:
                s *= 1.0 - events[k] / at_risk[k]
            values[k + 1] = s
            if events[k] > 0.0:
                support = k + 1
        return Survival(values, support)


class Estimates:
    """Everything the pacer learns about the campaign; priors are generic and deliberately cautious."""

    __slots__ = ("answer", "fail", "human", "inbound_takes", "ring", "talk", "verdict", "wrap")

    def __init__(self) -> None:
        self.answer = ShiftingRate(0.6, 5.0, slow=(300.0, 600.0), fast=(60.0, 90.0))
        self.human = ShiftingRate(0.9, 3.0, slow=(300.0, 600.0), fast=(60.0, 90.0))
        self.ring = DurationModel(prior=(5.0, 10.0, 20.0), prior_weight=1.0, memory=1500.0)
        self.fail = DurationModel(prior=(3.0, 15.0, 30.0), prior_weight=1.0, memory=1500.0)
        self.verdict = DurationModel(prior=(3.0,), prior_weight=1.0, memory=500.0)
        self.talk = DurationModel(prior=(60.0, 120.0, 240.0, 480.0), prior_weight=2.0, memory=600.0)
        self.wrap = DurationModel(prior=(15.0, 30.0, 60.0), prior_weight=1.0, memory=600.0)
        self.inbound_takes = EventRate(memory_s=900.0, min_window_s=120.0)  # none until one is seen
