"""The scenario model's distributions (fixed, uniform, exponential, lognormal), parsed and sampled.

Every distribution maps one uniform draw `u` in [0, 1) to a value through its inverse CDF, so a
sample always costs exactly one draw: the simulator's per-call draws stay aligned whatever the
pacer does. A lognormal is given by its own mean and coefficient of variation; samples below its
`min` are raised to `min`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

from ringcast.errors import UserError

_NORMAL = NormalDist()
KINDS = ("fixed", "uniform", "exponential", "lognormal")


@dataclass(frozen=True, slots=True)
class Fixed:
    value: float

    def sample(self, u: float) -> float:
        return self.value


@dataclass(frozen=True, slots=True)
class Uniform:
    low: float
    high: float

    def sample(self, u: float) -> float:
        return self.low + (self.high - self.low) * u


@dataclass(frozen=True, slots=True)
class Exponential:
    mean: float

    def sample(self, u: float) -> float:
        return -self.mean * math.log1p(-u)


@dataclass(frozen=True, slots=True)
class Lognormal:
    """Lognormal with the given mean and coefficient of variation, floored at `minimum`."""

    mean: float
    cv: float
    minimum: float = 0.0

    @property
    def sigma(self) -> float:
        return math.sqrt(math.log1p(self.cv * self.cv))

    def sample(self, u: float) -> float:
        sigma = self.sigma
        mu = math.log(self.mean) - sigma * sigma / 2.0
        z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))
        return max(math.exp(mu + sigma * z), self.minimum)


Distribution = Fixed | Uniform | Exponential | Lognormal


def _number(raw: Mapping, key: str, field: str, *, positive: bool = False) -> float:
    if key not in raw:
        raise UserError(f"{field}.{key}: missing")
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UserError(f"{field}.{key}: must be a number (got {value!r})")
    if value < 0 or (positive and value == 0):
        raise UserError(
            f"{field}.{key}: must be {'positive' if positive else 'non-negative'} (got {value!r})"
        )
    return float(value)


def parse_distribution(raw: object, field: str) -> Distribution:
    """A number (fixed) or `{dist: ..., ...}`; errors name `field` and say what is wrong, in one line."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Fixed(_number({"value": raw}, "value", field))
    if not isinstance(raw, Mapping):
        raise UserError(f"{field}: must be a number or a mapping with 'dist' (got {raw!r})")
    kind = raw.get("dist")
    expected = {"fixed": {"value"}, "uniform": {"min", "max"}, "exponential": {"mean"}}
    expected["lognormal"] = {"mean", "cv", "min"}
    if kind not in expected:
        raise UserError(f"{field}.dist: unknown distribution {kind!r} (expected one of {', '.join(KINDS)})")
    unknown = sorted(set(raw) - expected[kind] - {"dist"})
    if unknown:
        raise UserError(f"{field}.{unknown[0]}: not a parameter of a {kind} distribution")
    if kind == "fixed":
        return Fixed(_number(raw, "value", field))
    if kind == "uniform":
        low, high = _number(raw, "min", field), _number(raw, "max", field)
        if high < low:
            raise UserError(f"{field}.max: must not be below min ({high} < {low})")
        return Uniform(low, high)
    if kind == "exponential":
        return Exponential(_number(raw, "mean", field, positive=True))
    minimum = _number(raw, "min", field) if "min" in raw else 0.0
    return Lognormal(_number(raw, "mean", field, positive=True), _number(raw, "cv", field), minimum)
