"""Blending in the live engine: a campaign's `inbound_reserve` reaches its pacer, the agents the
pacer keeps free for inbound get no outbound call, blended agents are told as such at login, and
an inbound-only session works no campaign."""

from __future__ import annotations

import pytest

from campaigns.config import CampaignSpec
from dialer.agents.state import AgentStatus, StateChange, Wrap
from dialer.live.agent_pacing import pacer_events
from dialer.live.desk import INBOUND_ONLY, AgentDesk, AgentSession, for_outbound
from dialer.live.runner import pacer_config
from dialer.pacing import events as pe
from dialer.pacing.pacer import Pacer
from ringcast.errors import UserError
from tests.unit.test_agent_selection import NOW, A, ago
from tests.unit.test_campaign_config import config

CAMPAIGN = 7


def session(
    agent_id: int, ready_min: float, campaign_id: int = CAMPAIGN, ring: str | None = None
) -> AgentSession:
    status = AgentStatus(agent_id, A.READY, ago(ready_min))
    return AgentSession(agent_id, f"agent{agent_id}", campaign_id, status, Wrap(), ring_phone=ring)


def desk(*sessions: AgentSession) -> AgentDesk:
    desk = AgentDesk()
    desk.sessions = {s.agent_id: s for s in sessions}
    return desk


def test_the_campaign_setting_reaches_the_pacer_and_is_never_negative() -> None:
    spec = CampaignSpec.parse({"dial_mode": "progressive", "inbound_reserve": 1})
    assert pacer_config(config(spec)).inbound_reserve == 1
    assert pacer_config(config(CampaignSpec())).inbound_reserve == 0
    assert config(spec).describe()["inbound_reserve"] == 1
    with pytest.raises(
        UserError, match=r"^campaign inbound_reserve: Input should be greater than or equal to 0"
    ):
        CampaignSpec.parse({"inbound_reserve": -1})


def test_an_answered_call_never_goes_to_an_agent_kept_for_inbound() -> None:
    floor = desk(session(1, ready_min=60), session(2, ready_min=10))
    chosen = floor.choose(CAMPAIGN, NOW, resting=frozenset())
    assert chosen is not None and chosen.agent_id == 1  # longest idle
    chosen = floor.choose(CAMPAIGN, NOW, resting=frozenset(), kept=frozenset({1}))
    assert chosen is not None and chosen.agent_id == 2
    assert floor.choose(CAMPAIGN, NOW, resting=frozenset({2}), kept=frozenset({1})) is None
    assert floor.choose(CAMPAIGN, NOW, kept=frozenset({1, 2})) is None  # no pacer's resting: still kept


def test_outbound_calls_go_to_persistent_campaign_sessions_not_withheld() -> None:
    sessions = [
        session(1, 60),
        session(2, 50, ring="PJSIP/agent2"),  # ring mode: inbound only
        session(3, 40, campaign_id=INBOUND_ONLY),
        session(4, 30),
    ]
    assert [s.agent_id for s in for_outbound(sessions, frozenset())] == [1, 4]
    assert [s.agent_id for s in for_outbound(sessions, {4})] == [1]


def test_the_pacers_kept_agents_are_the_ones_the_desk_skips() -> None:
    """Two blended agents ready and a reserve of one: the pacer dials for one and keeps the one
    ready last; the desk gives the answered call to the other."""
    spec = CampaignSpec.parse({"dial_mode": "progressive", "inbound_reserve": 1})
    pacer = Pacer(pacer_config(config(spec)))
    floor = desk(session(1, ready_min=60), session(2, ready_min=10))
    for agent in floor:
        pacer.observe(pe.AgentLoggedIn(agent.status.since.timestamp(), agent.agent_id, blended=True))
    decision = pacer.decide(NOW.timestamp())
    assert (decision.launch, decision.kept_for_inbound) == (1, (2,))
    chosen = floor.choose(CAMPAIGN, NOW, resting=frozenset(), kept=frozenset({2}))
    assert chosen is not None and chosen.agent_id == 1


@pytest.mark.parametrize("blended", [True, False])
def test_the_pacer_learns_at_login_whether_the_agent_is_blended(blended: bool) -> None:
    login = StateChange(7, A.LOGGED_OUT, A.READY, None, NOW)
    [event] = pacer_events(login, held=False, min_wrap_s=3.0, max_occupancy=0.9, blended=blended)
    assert event == pe.AgentLoggedIn(NOW.timestamp(), 7, 3.0, 0.9, blended)


def test_an_inbound_only_session_works_no_campaign() -> None:
    inbound = session(3, 40, campaign_id=INBOUND_ONLY)
    assert (inbound.inbound_only, inbound.campaign) == (True, None)
    worker = session(1, 60)
    assert (worker.inbound_only, worker.campaign) == (False, CAMPAIGN)
    floor = desk(worker, inbound)
    assert floor.dialing(CAMPAIGN) == [worker]
    assert floor.choose(INBOUND_ONLY, NOW, resting=frozenset()) is None  # no outbound call finds it
