"""The agent state machine (AGT-1, AGT-7), shared by the outbound dialer and the inbound ACD.

An `AgentStatus` is a frozen value; each event is a method taking the instant it happened and
returning an `AgentStep`: the new status, the `StateChange` to append to the agent's state log
(示忙示闲记录; None when nothing changed) and the commands for the engine. Illegal events raise
`IllegalTransition`; every transition is logged once.

    logged_out --login--> ready | not_ready --reserve(call)--> reserved --bridge(call)--> on_call
    reserved --hangup--> ready (the call ended before reaching the agent)
    on_call --hangup--> wrap_up --wrap_done | ready--> ready
    ready | not_ready | wrap_up --pause(reason)--> not_ready --ready--> ready
    ready | not_ready | wrap_up --logout--> logged_out; any logged-in state --phone_lost--> logged_out

`not_ready` is the paused state (示忙), always with a reason. Wrap-up ends by the campaign's timer
(`StartWrapTimer`; its expiry is `wrap_done`) or when the agent says ready, never before the
agent's minimum wrap-up (AGT-7): "ready" earlier only moves the timer to that minimum.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.persistence.models.enums import AgentState
from ringcast.errors import UserError
from ringcast.transitions import IllegalTransition, transition

log = logging.getLogger(__name__)
_LOG_LEVEL = logging.INFO

A = AgentState
PHONE_LOST = "phone_lost"
WRAP_TIMER = "wrap_timer"


@dataclass(frozen=True, slots=True)
class Wrap:
    """After-call work: `timer` ends it (the campaign's; None: the agent ends it), not before `minimum`."""

    timer: timedelta | None = None
    minimum: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class StartWrapTimer:
    """Arm (or move) the agent's wrap-up timer; at `at` the engine sends `wrap_done`."""

    at: datetime


@dataclass(frozen=True, slots=True)
class CancelWrapTimer:
    """Wrap-up ended otherwise: drop the agent's timer."""


@dataclass(frozen=True, slots=True)
class RescueCall:
    """The agent's phone is gone with a call reserved for or bridged to it: serve `call` otherwise."""

    call: str


AgentCommand = StartWrapTimer | CancelWrapTimer | RescueCall


@dataclass(frozen=True, slots=True)
class StateChange:
    """One row of the agent state log."""

    agent_id: int
    from_state: AgentState
    to_state: AgentState
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class AgentStep:
    agent: AgentStatus
    change: StateChange | None
    commands: tuple[AgentCommand, ...] = ()

    @property
    def state(self) -> AgentState:
        return self.agent.state


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """An agent's state since `since`; `reason` is the last change's, `call` the one reserved or bridged,
    `ready_from` the end of the minimum wrap-up."""

    agent_id: int
    state: AgentState
    since: datetime
    reason: str | None = None
    call: str | None = None
    ready_from: datetime | None = None

    @classmethod
    def logged_out(cls, agent_id: int, since: datetime) -> AgentStatus:
        return cls(agent_id, A.LOGGED_OUT, since)

    @property
    def subject(self) -> str:
        return f"agent {self.agent_id}"

    def _to(
        self,
        state: AgentState,
        at: datetime,
        *commands: AgentCommand,
        reason: str | None = None,
        call: str | None = None,
        ready_from: datetime | None = None,
    ) -> AgentStep:
        change = StateChange(self.agent_id, self.state, state, reason, at)
        return AgentStep(AgentStatus(self.agent_id, state, at, reason, call, ready_from), change, commands)

    def _leaving_wrap(self) -> tuple[AgentCommand, ...]:
        return (CancelWrapTimer(),) if self.state is A.WRAP_UP else ()

    def _same_call(self, call: str, event: str) -> None:
        if call != self.call:
            raise IllegalTransition(
                self.subject, self.state, f"{event} call {call}", hint=f"its call is {self.call}"
            )

    @transition(log, _LOG_LEVEL, A.LOGGED_OUT)
    def login(self, at: datetime) -> AgentStep:
        """The agent's phone answered and holds its conference (AGT-2): ready for calls."""
        return self._to(A.READY, at)

    @transition(log, _LOG_LEVEL, A.NOT_READY, A.WRAP_UP)
    def ready(self, at: datetime) -> AgentStep:
        """The agent is available; during the minimum wrap-up, only as soon as it ends."""
        if self.ready_from is not None and at < self.ready_from:
            return AgentStep(self, None, (StartWrapTimer(self.ready_from),))
        return self._to(A.READY, at, *self._leaving_wrap())

    @transition(log, _LOG_LEVEL, A.READY, A.NOT_READY, A.WRAP_UP)
    def pause(self, at: datetime, reason: str) -> AgentStep:
        """Not ready, with a reason (break, training, ...); a new reason while paused is a change too."""
        if not reason.strip():
            raise UserError(f"{self.subject}: say why the agent pauses (break, meeting, training...)")
        if self.state is A.NOT_READY and reason == self.reason:
            return AgentStep(self, None)
        return self._to(A.NOT_READY, at, *self._leaving_wrap(), reason=reason)

    @transition(log, _LOG_LEVEL, A.READY, A.NOT_READY)
    def reserve(self, at: datetime, call: str) -> AgentStep:
        """Chosen for `call`, which is being connected to the agent; a paused agent only reserves a
        call for itself (the lead it previewed), never one the dialer routes (those go to ready ones)."""
        return self._to(A.RESERVED, at, call=call)

    @transition(log, _LOG_LEVEL, A.RESERVED)
    def bridge(self, at: datetime, call: str) -> AgentStep:
        """`call` joined the agent's conference."""
        self._same_call(call, "bridge")
        return self._to(A.ON_CALL, at, call=call)

    @transition(log, _LOG_LEVEL, A.RESERVED, A.ON_CALL)
    def hangup(self, at: datetime, call: str, wrap: Wrap) -> AgentStep:
        """`call` ended: wrap-up after a conversation; back to ready if it never reached the agent."""
        self._same_call(call, "hangup")
        if self.state is A.RESERVED:
            return self._to(A.READY, at)
        timer = () if wrap.timer is None else (StartWrapTimer(at + max(wrap.timer, wrap.minimum)),)
        return self._to(A.WRAP_UP, at, *timer, ready_from=at + wrap.minimum)

    @transition(log, _LOG_LEVEL, A.WRAP_UP)
    def wrap_done(self, at: datetime) -> AgentStep:
        """The wrap-up timer expired."""
        if self.ready_from is not None and at < self.ready_from:
            raise IllegalTransition(
                self.subject,
                self.state,
                "end wrap-up",
                hint=f"the minimum wrap-up lasts until {self.ready_from}",
            )
        return self._to(A.READY, at, reason=WRAP_TIMER)

    @transition(log, _LOG_LEVEL, A.READY, A.NOT_READY, A.WRAP_UP)
    def logout(self, at: datetime) -> AgentStep:
        return self._to(A.LOGGED_OUT, at, *self._leaving_wrap())

    @transition(log, _LOG_LEVEL, *(state for state in A if state is not A.LOGGED_OUT))
    def phone_lost(self, at: datetime) -> AgentStep:
        """The agent's phone leg dropped: logged out at once, whatever it was doing."""
        rescue = () if self.call is None else (RescueCall(self.call),)
        return self._to(A.LOGGED_OUT, at, *self._leaving_wrap(), *rescue, reason=PHONE_LOST)
