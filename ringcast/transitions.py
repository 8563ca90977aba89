"""What every state machine shares: the `transition` decorator and the `IllegalTransition` error.

A machine is a frozen value with a `state` and a `subject` ("lead 42", "agent 7"); each event is a
method decorated with the states it may be applied in. The decorator refuses the event in any
other state (before the method runs) and logs the move once, as `subject: state -> event -> new
state`, in the style of Wazo's transfer states, but the methods only return their result: the new
value and the commands for the caller to carry out. No I/O, no clock, no locks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from ringcast.errors import UserError


class IllegalTransition(UserError):
    """An event that the subject's current state does not allow ("agent 7 is on_call: cannot logout").

    A `UserError` because most come from people (an agent pressing "ready" while logged out); one
    raised inside the engine is a bug there, and is logged as such by the engine.
    """

    def __init__(self, subject: str, state: StrEnum, event: str, *, hint: str | None = None) -> None:
        super().__init__(f"{subject} is {state.value}: cannot {event}", hint=hint)
        self.subject = subject
        self.state = state
        self.event = event


class Machine(Protocol):
    @property
    def state(self) -> StrEnum: ...

    @property
    def subject(self) -> str: ...


class Moved(Protocol):
    """A transition's result: it knows the state it leads to."""

    @property
    def state(self) -> StrEnum: ...


M = TypeVar("M", bound=Machine)
P = ParamSpec("P")
R = TypeVar("R", bound=Moved)


def transition(
    logger: logging.Logger, level: int, *sources: StrEnum
) -> Callable[[Callable[Concatenate[M, P], R]], Callable[Concatenate[M, P], R]]:
    """Decorate an event method: allowed only from `sources`, logged once at `level` when it succeeds."""
    allowed = frozenset(sources)

    def decorate(method: Callable[Concatenate[M, P], R]) -> Callable[Concatenate[M, P], R]:
        event = method.__name__

        @functools.wraps(method)
        def apply(machine: M, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if machine.state not in allowed:
                raise IllegalTransition(machine.subject, machine.state, event)
            result = method(machine, *args, **kwargs)
            logger.log(level, "%s: %s -> %s -> %s", machine.subject, machine.state, event, result.state)
            return result

        return apply

    return decorate
