"""Pacing: how many calls to launch now. Pure decision code fed with events (see `pacer`)."""

from __future__ import annotations

from dialer.pacing.decision import Decision
from dialer.pacing.pacer import Mode, Pacer, PacerConfig

__all__ = ["Decision", "Mode", "Pacer", "PacerConfig"]
