"""A waiting caller's position and estimated wait, and what it is told of them (ACD-8).

Estimated wait (EWT): with `staffed` agents serving the queue (logged in and not paused) and an
average handle time `aht_s` (talk plus wrap-up, over the queue's recent calls, which the engine
measures), an agent frees every `aht_s / staffed` seconds on average, and each agent freed moves
the queue up one place; the caller at `position` (1: next) is answered after about

    EWT = position × aht_s / staffed

Unknown (None) when nobody is staffed or the handle time is not known yet. An estimate: agents who
serve several queues share their time between them, which the formula does not see.

What the caller hears is an `Announcement`: the position and the wait in whole minutes (rounded
up, at least 1, `OVER_AN_HOUR` past 60), each left out when the queue does not say it
(`Announced`) or it is unknown. The engine tells the pbx only when that changes; the pbx repeats
it every `announce_every_s`. `phrases` are the sentences said, one per part, in the queue's
language: whole sentences rendered by TTS, because the pbx has no Chinese number sounds for
SayNumber, and a sentence rendered once per distinct number is reused for every later caller.

A `Telling` is that announcement with its interval. The pbx's hold loop reads the interval only as
it starts a pause of music: `restarts` says when the engine must send the caller back to the start
of the loop for a new interval to count (the first announcement; another interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dialer.acd.board import Board
from dialer.acd.commands import Announce
from dialer.acd.queues import Announced

MAX_WAIT_MIN = 60
OVER_AN_HOUR = MAX_WAIT_MIN + 1  # the wait said as "more than an hour"


def estimated_wait_s(position: int, aht_s: float | None, staffed: int) -> float | None:
    return None if staffed <= 0 or aht_s is None else position * aht_s / staffed


def announce(board: Board, call_id: str, aht_s: float | None) -> Announce:
    """What to tell the caller now: its place and its estimated wait."""
    position = board.position(call_id)
    return Announce(call_id, position, estimated_wait_s(position, aht_s, board.staffed(call_id)))


@dataclass(frozen=True, slots=True)
class Announcement:
    """What the caller is told: `position` (1: next) and `wait_min`, each None when not said."""

    position: int | None
    wait_min: int | None

    @property
    def empty(self) -> bool:
        return self.position is None and self.wait_min is None


@dataclass(frozen=True, slots=True)
class Telling:
    """What a waiting caller's channel is set to say, and every how many seconds."""

    said: Announcement
    every_s: int


def restarts(looping_every_s: int | None, told: Telling) -> bool:
    """Whether the caller's hold loop must start again to say `told` at its interval, given the
    interval it was last started with (None: never, since the caller began to wait)."""
    return looping_every_s != told.every_s


def wait_minutes(ewt_s: float | None) -> int | None:
    """The estimated wait as said: whole minutes rounded up, at least 1; `OVER_AN_HOUR` past 60."""
    if ewt_s is None:
        return None
    return min(max(1, math.ceil(ewt_s / 60)), OVER_AN_HOUR)


def announcement(command: Announce, announced: Announced) -> Announcement:
    position = command.position if announced is not Announced.WAIT else None
    wait = wait_minutes(command.ewt_s) if announced is not Announced.POSITION else None
    return Announcement(position, wait)


_POSITION = {"zh": "您现在排在第{}位。", "en": "You are number {} in the queue."}
_WAIT = {"zh": "预计等待约{}分钟。", "en": "Your estimated wait is about {} minutes."}
_ONE_MINUTE = {"zh": "预计等待约1分钟。", "en": "Your estimated wait is about one minute."}
_OVER_AN_HOUR = {"zh": "预计等待超过一小时。", "en": "Your estimated wait is more than an hour."}


def phrases(said: Announcement, language: str) -> tuple[str, ...]:
    """The sentences that say `said`, position first, in `language` (zh or en)."""
    parts: list[str] = []
    if said.position is not None:
        parts.append(_POSITION[language].format(said.position))
    if said.wait_min == 1:
        parts.append(_ONE_MINUTE[language])
    elif said.wait_min == OVER_AN_HOUR:
        parts.append(_OVER_AN_HOUR[language])
    elif said.wait_min is not None:
        parts.append(_WAIT[language].format(said.wait_min))
    return tuple(parts)
