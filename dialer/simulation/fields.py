"""Checks for the fields of a scenario file: each returns the value typed, or raises one `UserError` line
naming the field (`abandon.cap: must be a probability between 0 and 1 (got 3)`)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ringcast.errors import UserError


def mapping(raw: object, field: str) -> Mapping:
    if not isinstance(raw, Mapping):
        raise UserError(f"{field}: must be a mapping (got {raw!r})")
    return raw


def known(raw: Mapping, field: str, keys: tuple[str, ...]) -> None:
    unknown = sorted(str(k) for k in raw if k not in keys)
    if unknown:
        raise UserError(f"{field}.{unknown[0]}: unknown field")


def get(raw: Mapping, key: str, field: str) -> object:
    if key not in raw:
        raise UserError(f"{field}.{key}: missing")
    return raw[key]


def number(raw: object, field: str, *, positive: bool = False) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise UserError(f"{field}: must be a number (got {raw!r})")
    if raw < 0 or (positive and raw == 0):
        raise UserError(f"{field}: must be {'positive' if positive else 'non-negative'} (got {raw!r})")
    return float(raw)


def count(raw: object, field: str, *, minimum: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise UserError(f"{field}: must be a whole number ≥ {minimum} (got {raw!r})")
    return raw


def probability(raw: object, field: str) -> float:
    value = number(raw, field)
    if value > 1.0:
        raise UserError(f"{field}: must be a probability between 0 and 1 (got {raw!r})")
    return value


def flag(raw: object, field: str) -> bool:
    if not isinstance(raw, bool):
        raise UserError(f"{field}: must be true or false (got {raw!r})")
    return raw
