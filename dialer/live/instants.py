"""Instants as the agents' states and the stores take them: aware UTC datetimes, here made from the
seconds since the epoch that AMI events carry (`received_at`) and the engine's own `time.time()`."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
