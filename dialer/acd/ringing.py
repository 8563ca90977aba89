"""Ringing agents' phones for a call (ACD-6): how an `Offer` or a `Ring` reaches its agents, and how
the phones rung for one call decide who takes it. Pure: the engine says what each phone did.

An agent on a persistent connection has its phone in its own conference already and takes a call
at once; a ring-mode agent's phone is called for each call (`phones_for`). `RingOffer` follows the
phones rung for one call: the first to answer takes it and the others stop ringing (`answer`); a
phone that stops without the call (rejected, unreachable, hung up before the caller reached it) or
is still ringing at the queue's `ring_timeout_s` (`timed_out`) did not answer, and its agent is set
not ready (`RING_NO_ANSWER`); a phone the pbx would not even call (`withdrawn`) is no fault of its
agent. When no phone rings and none answered the offer is `over`: the call is routed again without
the agents that did not answer (`router.ring_no_answer`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class ConnectNow:
    """Give the call to `agent`, on a persistent connection: no phone to ring."""

    agent: int


@dataclass(frozen=True, slots=True)
class RingPhones:
    """Ring the phones of `agents` (ring mode), the first to answer takes the call."""

    agents: tuple[int, ...]


def phones_for(agents: Sequence[int], ring_mode: Collection[int]) -> ConnectNow | RingPhones:
    """How a call offered to `agents` (best first: one for an `Offer`, several for a ring-all) reaches
    them: the first of them on a persistent connection takes it at once, since no phone rung could
    answer sooner; when all are in ring mode, every one's phone rings."""
    for agent in agents:
        if agent not in ring_mode:
            return ConnectNow(agent)
    return RingPhones(tuple(agents))


@dataclass(frozen=True, slots=True)
class RingOffer:
    """The phones rung for one call: `ringing` still ring, `unanswered` stopped without taking the
    call (in that order), `answered_by` took it (None: nobody yet)."""

    ringing: frozenset[int]
    unanswered: tuple[int, ...] = ()
    answered_by: int | None = None

    @classmethod
    def rung(cls, agents: Collection[int]) -> RingOffer:
        return cls(frozenset(agents))

    def answer(self, agent: int) -> tuple[RingOffer, frozenset[int]]:
        """`agent`'s phone answered. It takes the call if it still rang (nobody took it first); then
        the others still ringing stop: returned with the offer. Otherwise nothing changes, and the
        engine hangs that phone up (`answered_by` is someone else, or nobody)."""
        if agent not in self.ringing:
            return self, frozenset()
        return replace(self, ringing=frozenset(), answered_by=agent), self.ringing - {agent}

    def stopped(self, agent: int) -> RingOffer:
        """`agent`'s phone stopped without the call: rejected, unreachable, or hung up after answering
        but before the caller joined it."""
        if agent in self.ringing:
            return replace(self, ringing=self.ringing - {agent}, unanswered=(*self.unanswered, agent))
        if agent == self.answered_by:
            return replace(self, answered_by=None, unanswered=(*self.unanswered, agent))
        return self

    def withdrawn(self, agent: int) -> RingOffer:
        """`agent`'s phone could not be called at all (the pbx refused, the link is down): it leaves the
        offer without having failed to answer."""
        return replace(self, ringing=self.ringing - {agent})

    def timed_out(self) -> RingOffer:
        """The queue's ring timeout passed: every phone still ringing did not answer."""
        return replace(self, ringing=frozenset(), unanswered=(*self.unanswered, *sorted(self.ringing)))

    @property
    def over(self) -> bool:
        """Nobody can take the call through this offer any more: no phone rings and none answered."""
        return not self.ringing and self.answered_by is None
