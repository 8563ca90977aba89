"""A waiting caller's position and estimated wait, for the queue's announcements (ACD-8).

Estimated wait (EWT): with `staffed` agents serving the queue (logged in and not paused) and an
average handle time `aht_s` (talk plus wrap-up, over the queue's recent calls, which the engine
measures), an agent frees every `aht_s / staffed` seconds on average, and each agent freed moves
the queue up one place; the caller at `position` (1: next) is answered after about

    EWT = position × aht_s / staffed

Unknown (None) when nobody is staffed. An estimate: agents who serve several queues share their
time between them, which the formula does not see. The engine says it every `announce_every_s`.
"""

from __future__ import annotations

from dialer.acd.board import Board
from dialer.acd.commands import Announce


def estimated_wait_s(position: int, aht_s: float, staffed: int) -> float | None:
    return None if staffed <= 0 else position * aht_s / staffed


def announce(board: Board, call_id: str, aht_s: float) -> Announce:
    """What to tell the caller now: its place and its estimated wait."""
    position = board.position(call_id)
    return Announce(call_id, position, estimated_wait_s(position, aht_s, board.staffed(call_id)))
