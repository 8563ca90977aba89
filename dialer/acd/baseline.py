"""The router's decisions made the naive way, by scanning every waiting call and every agent.

The reference the router must equal (a property test over random boards) and the baseline its
benchmark measures beside it. Same rules, none of the board's indexes: it reads only the board's
plain data (`queues`, `agents`, `calls`) and rebuilds each candidate per decision.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime

from campaigns.persistence.models.enums import AgentState
from dialer.acd import router
from dialer.acd.board import Board
from dialer.acd.calls import WaitingCall, asks_for, held
from dialer.acd.queues import QueueConfig
from dialer.acd.router import Decision, OfferOrder, offer_first, offer_order
from dialer.acd.strategies import QueueCandidate, Turns
from dialer.agents.selection import Candidate, eligible


class Scan:
    """A `router.Floor` that answers every question by going through all the agents."""

    def __init__(self, board: Board) -> None:
        self._board = board

    @property
    def queues(self) -> Mapping[str, QueueConfig]:
        return self._board.queues

    def agent(self, agent_id: int) -> Candidate | None:
        return self._board.agents.get(agent_id)

    def ready_members(self, queue: str) -> Iterator[QueueCandidate]:
        config = self._board.queues[queue]
        for candidate in self._board.agents.values():
            position = config.position(candidate.status.agent_id)
            if position is not None and candidate.status.state is AgentState.READY:
                yield QueueCandidate(
                    candidate.status,
                    candidate.recent,
                    candidate.max_occupancy,
                    member=config.members[position],
                    position=position,
                )

    def anyone_logged_in(self, queue: str) -> bool:
        config = self._board.queues[queue]
        return any(config.position(agent_id) is not None for agent_id in self._board.agents)


def route_call(
    board: Board, call: WaitingCall, now: datetime, turns: Turns, skip: Collection[int] = ()
) -> Decision:
    return router.route_call(Scan(board), call, now, turns, skip)


def agent_ready(board: Board, agent_id: int, now: datetime, turns: Turns) -> Decision:
    agent = board.agents.get(agent_id)
    if agent is None or not eligible(agent, now):
        return Decision((), turns)
    options: list[tuple[OfferOrder, WaitingCall]] = []
    for call in board.calls.values():
        queue = board.queues[call.queue]
        asked = asks_for(call, queue)
        member = queue.member(agent_id)
        if asked == agent_id:
            options.append((offer_order(call, queue, None), call))
        elif (
            call.direct_agent is None
            and member is not None
            and (asked is None or not held(call, queue, now, asked in board.agents))
        ):
            options.append((offer_order(call, queue, member), call))
    return offer_first(options, board, agent_id, turns)
