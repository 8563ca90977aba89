"""What inbound holds of blended agents, for the outbound pacer (blending with outbound).

Inbound calls have priority: each call waiting for a blended agent takes the next one free.
`waiting_for` is that level, which the pacer's `InboundWaiting` event carries; the pacer adds its
campaign's `inbound_reserve` itself (the ready blended agents it keeps free for the calls to come).
"""

from __future__ import annotations

from collections.abc import Iterable

from dialer.acd.board import Board


def waiting_for(board: Board, agents: Iterable[int]) -> int:
    """The calls waiting that the agents may take: in the queues they serve, or dialled directly
    to one of them."""
    agents = set(agents)
    queues = {queue.name for agent in agents for queue, _, _ in board.seats(agent)}
    in_queues = sum(len(board.waiting(queue)) for queue in queues)
    dialled = sum(
        board.calls[call_id].direct_agent is not None
        for agent in agents
        for *_, call_id in board.asking(agent)
    )
    return in_queues + dialled
