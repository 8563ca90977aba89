"""How fast the SMS sender sends and how long it waits before trying again (pure: time comes in).

`SegmentBucket` is a token bucket counted in message parts (a provider's rate limit is per part:
a 3-part message costs 3). It fills at `rate_per_s` up to `burst` and starts full. `take` reserves
a message's parts at once and says how long to wait before sending it; the bucket may go into
debt, so a message with more parts than `burst` still goes, after the wait its whole deficit
needs, and the messages after it queue behind that debt in the order they were taken.

`retry_delay` is exponential back-off with "full jitter" (AWS Architecture Blog, "Exponential
Backoff and Jitter"): after `tries` failed tries,

    delay = max(retry_after_s, random() * min(cap_s, base_s * 2 ** (tries - 1)))

so it is drawn uniformly in [0, ceiling) where the ceiling doubles per try up to `cap_s`, which
spreads senders that failed together. A provider's Retry-After is a floor and wins over `cap_s`:
coming back sooner than the provider asked would only be refused again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from random import Random

from ringcast.errors import UserError

_MAX_DOUBLINGS = 500  # 2.0 * 2**500 is beyond any cap and still a float


class SegmentBucket:
    """A token bucket of message parts; see the module docstring."""

    def __init__(self, rate_per_s: float, burst: float) -> None:
        if not (rate_per_s > 0 and burst > 0):
            raise UserError(f"SMS rate {rate_per_s}/s, burst {burst}: both must be positive")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = burst
        self._at: float | None = None

    def take(self, parts: int, now: float) -> float:
        """Reserve `parts` at monotonic time `now`; return the seconds to wait before sending (0: now)."""
        if parts < 1:
            raise ValueError(f"a message has at least one part, got {parts}")
        if self._at is not None:
            elapsed = max(0.0, now - self._at)  # a clock read out of order adds nothing
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate_per_s)
        self._at = now if self._at is None else max(self._at, now)
        self._tokens -= parts
        return max(0.0, -self._tokens / self.rate_per_s)


def retry_delay(
    tries: int,
    random: Callable[[], float] | Random,
    base_s: float = 2.0,
    cap_s: float = 600.0,
    retry_after_s: float | None = None,
) -> float:
    """Seconds to wait after `tries` (>= 1) failed tries; see the module docstring for the formula.

    `random` returns floats in [0, 1): a `random.Random` (seeded in tests) or its `random` method.
    """
    if tries < 1:
        raise ValueError(f"retry_delay is for a failed try, got tries={tries}")
    draw = random.random if isinstance(random, Random) else random
    ceiling = min(cap_s, math.ldexp(base_s, min(tries - 1, _MAX_DOUBLINGS)))
    return max(retry_after_s or 0.0, draw() * ceiling)
