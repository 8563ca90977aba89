"""The agent desk: the logged-in agents the engine serves, their phone legs and their state (AGT-1, AGT-2).

Each logged-in agent has a session: its `AgentStatus` (the pure machine of `dialer.agents.state`),
the campaign it works, its conference (`agent-<id>`, which its phone leg keeps open for the whole
session so that a customer is connected at once) and the channel of that leg. A ring-mode agent
(ACD-6) has no such leg: its phone (`ring_phone`) is called into its conference for each inbound
call offered to it, so it takes inbound calls only, and outbound calls and their pacer know only
the agents on a persistent connection (`dialing`). An inbound-only session (`INBOUND_ONLY`) works
no campaign: it takes the calls of its queues alone, and no pacer or outbound call knows it.

The desk applies steps, keeps each agent's recent state changes for the occupancy guard (AGT-7)
of calls no pacer rules, and chooses the agent for an answered call (longest idle,
`dialer.agents.selection`) among those an outbound call may go to (`for_outbound`): a running
campaign's pacer says which agents rest, one measure for dialing and routing, and which it keeps
free for inbound calls (blending, the campaign's `inbound_reserve`). The inbound ACD's board reads
each session as a `Candidate` too. No I/O: the service persists the changes it returns and carries
out their commands.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from campaigns.persistence.models.enums import AgentState
from dialer.agents.selection import OCCUPANCY_WINDOW, Candidate, choose_agent
from dialer.agents.state import AgentStatus, AgentStep, StateChange, Wrap
from dialer.asterisk.confgen import AGENT_CONFERENCE_PREFIX

INBOUND_ONLY = 0  # the campaign id of an inbound-only session: no campaign's (their ids start at 1)


def conference_of(agent_id: int) -> str:
    return f"{AGENT_CONFERENCE_PREFIX}{agent_id}"


@dataclass
class AgentSession:
    agent_id: int
    name: str
    campaign_id: int
    status: AgentStatus
    wrap: Wrap
    max_occupancy: float = 1.0
    leg_id: str = ""  # the phone leg's uniqueid (its hang-up logs the agent out)
    leg_channel: str | None = None  # the phone leg's channel name (for Hangup), once up
    last_attempt_id: int | None = None  # the call awaiting this agent's disposition
    announce: str | None = None  # the agent number said to each customer it is given (AGT-5)
    ring_phone: str | None = None  # ring mode: the dial string called for each call; None: a persistent leg
    caller_id: str | None = None  # what the agent's phone shows when the engine calls it
    recent: deque[StateChange] = field(default_factory=deque)

    @property
    def conference(self) -> str:
        return conference_of(self.agent_id)

    @property
    def ring_mode(self) -> bool:
        return self.ring_phone is not None

    @property
    def inbound_only(self) -> bool:
        return self.campaign_id == INBOUND_ONLY

    @property
    def campaign(self) -> int | None:
        """The campaign it works, as the state log records it: None when inbound-only."""
        return None if self.inbound_only else self.campaign_id

    def candidate(self, max_occupancy: float | None = None) -> Candidate:
        """The agent as routing sees it (its own maximum occupancy unless another is given)."""
        occupancy = self.max_occupancy if max_occupancy is None else max_occupancy
        return Candidate(self.status, tuple(self.recent), occupancy)


class AgentDesk:
    def __init__(self) -> None:
        self.sessions: dict[int, AgentSession] = {}

    def __iter__(self) -> Iterator[AgentSession]:
        return iter(self.sessions.values())

    def get(self, agent_id: int) -> AgentSession | None:
        return self.sessions.get(agent_id)

    def of_campaign(self, campaign_id: int) -> list[AgentSession]:
        return [s for s in self.sessions.values() if s.campaign_id == campaign_id]

    def dialing(self, campaign_id: int) -> list[AgentSession]:
        """The campaign's agents its outbound calls may go to: those on a persistent connection."""
        return [s for s in self.of_campaign(campaign_id) if not s.ring_mode]

    def apply(self, session: AgentSession, step: AgentStep) -> StateChange | None:
        """Take the step; returns the state-log row to persist (None when nothing changed)."""
        session.status = step.agent
        if step.change is not None:
            session.recent.append(step.change)
            horizon = step.change.at - OCCUPANCY_WINDOW - timedelta(minutes=1)
            while len(session.recent) > 1 and session.recent[1].at < horizon:
                session.recent.popleft()
        if step.state is AgentState.LOGGED_OUT:
            self.sessions.pop(session.agent_id, None)
        return step.change

    def choose(
        self,
        campaign_id: int,
        now: datetime,
        resting: frozenset[int] | None = None,
        kept: frozenset[int] = frozenset(),
    ) -> AgentSession | None:
        """The ready agent of the campaign to give an answered call, or None.

        `resting`: the agents its pacer holds back by their maximum occupancy (AGT-7), so that the
        pacer's meter alone decides who rests; None (no pacer) measures occupancy from the state log.
        `kept`: the agents its pacer keeps free for inbound calls.
        """
        candidates = [
            s.candidate(None if resting is None else 1.0)
            for s in for_outbound(self.dialing(campaign_id), (resting or frozenset()) | kept)
        ]
        chosen = choose_agent(candidates, now)
        return None if chosen is None else self.sessions[chosen.agent_id]

    def counts(self, campaign_id: int) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.of_campaign(campaign_id):
            counts[s.status.state.value] = counts.get(s.status.state.value, 0) + 1
        return counts


def for_outbound(sessions: Iterable[AgentSession], withheld: Collection[int]) -> list[AgentSession]:
    """The sessions an outbound call (answered, previewed or a callback) may go to: on a persistent
    connection, working a campaign, and not withheld by its pacer (resting, or kept free for
    inbound calls)."""
    return [s for s in sessions if not (s.ring_mode or s.inbound_only) and s.agent_id not in withheld]
