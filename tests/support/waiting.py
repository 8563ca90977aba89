"""Waiting in the lab tests for something the engine or the pbx does, with a one-line failure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(done: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    """Return once `done()` holds; fail with "not WHAT within N s" after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {timeout_s:.0f} s")
        await asyncio.sleep(0.1)
