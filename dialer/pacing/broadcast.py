"""Pacing a broadcast campaign (DIAL-5): no agents, so calls go out by lines and calls per second.

Every call up holds a line; `max_lines` bounds them. `calls_per_second` bounds the originates
with a token bucket that holds at most one second's worth (at least one call): a campaign that
starts, or that finds lines free after a lull, does not burst past the rate. Pure: the runner
says when calls were launched (`launched`).
"""

from __future__ import annotations

import math

from dialer.pacing.decision import Decision

MODE = "broadcast"


class BroadcastPacer:
    def __init__(self, max_lines: int, calls_per_second: float | None = None) -> None:
        self.max_lines = max_lines
        self.calls_per_second = calls_per_second
        self._burst = max(1.0, calls_per_second or 0.0)
        self._tokens = self._burst
        self._at: float | None = None

    def decide(self, now: float, lines: int) -> Decision:
        """How many calls to launch now, with `lines` calls up."""
        launch, bound = max(self.max_lines - lines, 0), "max_lines"
        if self.calls_per_second is not None:
            if self._at is not None:
                self._tokens = min(self._burst, self._tokens + (now - self._at) * self.calls_per_second)
            self._at = now
            allowed = math.floor(self._tokens + 1e-9)
            if allowed < launch:
                launch, bound = allowed, "calls_per_second"
        return Decision(now, launch, MODE, bound, lines, 0)

    def launched(self, calls: int) -> None:
        """`calls` originates went out (fewer than decided when the hopper ran short)."""
        if self.calls_per_second is not None:
            self._tokens = max(self._tokens - calls, 0.0)
