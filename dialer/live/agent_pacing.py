"""What the pacer is told when an agent's state changes (pure): one mapping, for every path.

The pacer counts agents by its own coarse states (ready, talking, wrapping, paused). A predictive
call's reservation is told as `CallBridged` by the call itself; everything else about agents comes
from here. An agent `held` for a call of its own (preview, click-to-call) is paused for the pacer
from that call's dial until it is ready again, so the pacer never counts it as free meanwhile.
"""

from __future__ import annotations

from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import StateChange
from dialer.pacing import events as pe

A = AgentState


def pacer_events(
    change: StateChange,
    *,
    held: bool,
    max_occupancy: float = 1.0,
    min_wrap_s: float = 0.0,
    blended: bool = False,
) -> list[pe.PacingEvent]:
    """`blended`: the agent is a member of an inbound queue (told at login)."""
    at, agent = change.at.timestamp(), change.agent_id
    source, target = change.from_state, change.to_state
    if target is A.LOGGED_OUT:
        return [pe.AgentLoggedOut(at, agent)]
    if source is A.LOGGED_OUT:
        return [pe.AgentLoggedIn(at, agent, min_wrap_s, max_occupancy, blended)]
    if held:
        return [pe.AgentResumed(at, agent)] if target is A.READY else []
    if target is A.READY:
        back: dict[AgentState, list[pe.PacingEvent]] = {
            A.NOT_READY: [pe.AgentResumed(at, agent)],
            A.WRAP_UP: [pe.WrapEnded(at, agent)],
            # the call reserved for the agent never reached it: its talk and wrap took no time
            A.RESERVED: [pe.TalkEnded(at, agent), pe.WrapEnded(at, agent)],
        }
        return back.get(source, [])
    if target is A.WRAP_UP:
        return [pe.TalkEnded(at, agent)]
    if target is A.NOT_READY:
        return [pe.AgentPaused(at, agent)]
    return []  # reserved, on a call: the call's own CallBridged tells the pacer
