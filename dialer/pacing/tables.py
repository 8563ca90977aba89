"""The forecast's tables: everything that depends only on the learned distributions.

For each point ahead (the quantiles of the delay from dial to ready): the chance that a call ringing
for d seconds, or under AMD analysis for a seconds, is ready by then; the chance that an agent
talking for e seconds, or wrapping up for w seconds, is free by then plus the grace time. An
`Outlook` (see `forecast`) folds the floor into them at every decision.

Building them takes a few milliseconds, more than a decision may cost, so a `Tables` is built a
slice at a time: `advance` does the next slice (at most `ROWS_PER_SLICE` rows), and the pacer keeps
deciding with the previous tables until the new ones are complete. `complete` builds them at once.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from operator import mul, sub

from dialer.pacing.estimators import Estimates, Survival

TALK_ROWS: tuple[int, ...] = (
    *(0, 2, 4, 6, 8, 10, 13, 16, 20, 25, 30, 36, 43, 52, 62, 75, 90, 110, 130, 155, 185, 220),
    *(265, 320, 385, 460, 550, 660, 800, 1000, 1250, 1600, 2000, 2600, 3600),
)
WRAP_ROWS: tuple[int, ...] = (*range(31), 35, 40, 45, 50, 60, 75, 90, 120, 150, 180, 240, 300, 450, 600)
STEP = 0.5  # lattice for the convolutions, seconds
SCREEN_STEP = 0.25  # rows for calls under AMD analysis, seconds since answer
ROWS_PER_SLICE = 6  # rows of a table computed by one `advance` (AMD rows, four times cheaper: 24)
TINY = 1e-9


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


def _slice_ends(row: int, rows_per_slice: int = ROWS_PER_SLICE) -> bool:
    """Whether a slice of the build ends after `row` (counted from 0)."""
    return row % rows_per_slice == rows_per_slice - 1


def _columns(rows: list[list[float]]) -> tuple[list[list[float]], list[list[float]]]:
    """The columns of `rows`, and the columns of their squares (for the variances)."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    return columns, [[x * x for x in column] for column in columns]


def ready_quantiles(ring_mass: list[float], verdict: Survival | None, points: int) -> list[float]:
    """Quantiles (j + 0.5) / points of the delay from dial to ready: ring time plus AMD time.

    `ring_mass` is the ring time's probability per `STEP` from 0; `verdict` the AMD delay, if any.
    """
    extra = int(2 * verdict.horizon()) + 2 if verdict is not None else 1
    n = len(ring_mass) + extra
    kernel = _cdf_grid(verdict, -STEP / 2, STEP, n + 1)
    cdf = [sum(map(mul, ring_mass[:m], kernel[m:0:-1])) for m in range(n + 1)]
    total = cdf[-1] if cdf[-1] > TINY else 1.0
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
    """Probabilities that depend only on the learned distributions, at the points ahead.

    Talk and wrap-up are fitted with the elapsed times of the agents `talking` and `wrapping` (still
    running, hence censored). Complete once `advance` returned True: then `points` are the ready-delay
    quantiles (`levels` their probabilities); `answer_survival` and `fail_survival` the ring and
    failure survival per second; `calls_t[j]` (and `calls2_t[j]`, squared) P(ready by `points[j]`)
    per ringing row, then per AMD row (`screen_rows` of them); `agents_t[j]` (and `agents2_t[j]`)
    P(free by `points[j]` + grace) per talk row, then per wrap row (`wrap_rows[r][j]`); `cycle_s` an
    agent's mean talk plus wrap-up.
    """

    def __init__(
        self,
        estimates: Estimates,
        *,
        amd: bool,
        talking: Iterable[float],
        wrapping: Iterable[float],
        grace: float,
        points: int,
    ) -> None:
        self.grace = grace
        slices = self._build(estimates, amd, list(talking), list(wrapping), points)
        self._slices: Iterator[bool] | None = slices

    def advance(self) -> bool:
        """Compute the next slice; True when the tables are complete (and on every call after)."""
        if self._slices is not None and next(self._slices, True):
            self._slices = None  # complete tables hold no generator: they can be copied
        return self._slices is None

    def complete(self) -> Tables:
        """Compute whatever is left, at once."""
        while not self.advance():
            pass
        return self

    def _build(
        self, estimates: Estimates, amd: bool, talking: list[float], wrapping: list[float], points: int
    ) -> Iterator[bool]:
        """The build, yielding False between slices: the fits, then `ROWS_PER_SLICE` rows at a time."""
        ring, fail = estimates.ring.fit(), estimates.fail.fit()
        verdict = estimates.verdict.fit() if amd else None
        talk, wrap = estimates.talk.fit(talking), estimates.wrap.fit(wrapping)
        self.cycle_s = talk.mean() + wrap.mean()  # an agent's time per call, waiting aside
        yield False
        rows = math.ceil(max(ring.horizon(), fail.horizon())) + 1
        self.answer_survival = [ring(float(d)) for d in range(rows)]
        self.fail_survival = [fail(float(d)) for d in range(rows)]
        lattice = 2 * rows + 2
        ring_survival = ring.grid(0.0, STEP, lattice + 1)
        ring_mass = list(map(sub, ring_survival, ring_survival[1:]))
        self.points = ready_quantiles(ring_mass, verdict, points)
        self.levels = [(j + 0.5) / points for j in range(points)]
        yield False

        kernels = [_kernel(verdict, t, lattice) for t in self.points]
        call_rows: list[list[float]] = []
        for d in range(rows):
            s = self.answer_survival[d]
            tail = ring_mass[2 * d :]
            call_rows.append([min(sum(map(mul, tail, k)) / s, 1.0) if s > TINY else 0.0 for k in kernels])
            if _slice_ends(d):
                yield False
        self.screen_rows = int((verdict.horizon() if verdict is not None else 0.0) / SCREEN_STEP) + 2
        for r in range(self.screen_rows):
            a = r * SCREEN_STEP
            s = verdict(a) if verdict is not None else 0.0
            call_rows.append(
                [1.0 - verdict(a + t) / s if verdict is not None and s > TINY else 1.0 for t in self.points]
            )
            if _slice_ends(r, 4 * ROWS_PER_SLICE):
                yield False
        self.calls_t, self.calls2_t = _columns(call_rows)
        yield False

        reach = [t + self.grace for t in self.points]
        span = int(2 * (max(reach) + 1.0))
        wrap_kernels = [_kernel(wrap, x, span) for x in reach]
        yield False
        agent_rows: list[list[float]] = []
        for r, e in enumerate(TALK_ROWS):
            s = talk(e)
            if s <= TINY:
                agent_rows.append(list(agent_rows[-1]) if agent_rows else [0.0] * points)
                continue
            survival = talk.grid(float(e), STEP, span + 1)
            mass = list(map(sub, survival, survival[1:]))
            agent_rows.append([min(sum(map(mul, mass, k)) / s, 1.0) for k in wrap_kernels])
            if _slice_ends(r):
                yield False
        self.wrap_rows: list[list[float]] = []
        for w in WRAP_ROWS:
            s = wrap(w)
            if s <= TINY:
                self.wrap_rows.append(list(self.wrap_rows[-1]) if self.wrap_rows else [1.0] * points)
                continue
            self.wrap_rows.append([1.0 - wrap(w + x) / s for x in reach])
        yield False
        self.agents_t, self.agents2_t = _columns(agent_rows + self.wrap_rows)
