"""What an attempt found open at start-up becomes, by what its channel is doing."""

from __future__ import annotations

from campaigns.dial_store import attempt_id_of, channel_id_for
from campaigns.persistence.models.enums import CallOutcome
from dialer.asterisk.ami import ChannelSnapshot
from dialer.live.desk import agent_leg_id, agent_of_leg
from dialer.live.reconcile import closing_outcome


def _channel(state: str, application: str) -> ChannelSnapshot:
    return ChannelSnapshot("PJSIP/carrier-01", "rc-call-5", "rc-call-5", "x", "s", state, application, 12)


def test_closing_outcomes() -> None:
    assert closing_outcome(None)[0] is CallOutcome.FAILED
    assert closing_outcome(_channel("Ringing", "AppDial"))[0] is CallOutcome.CANCELLED
    assert closing_outcome(_channel("Up", "ConfBridge"))[0] is CallOutcome.ANSWERED
    assert closing_outcome(_channel("Up", "Wait"))[0] is CallOutcome.ABANDONED
    assert all(len(closing_outcome(c)[1]) <= 64 for c in (None, _channel("Up", "Wait")))


def test_channel_ids_round_trip_and_do_not_collide() -> None:
    assert attempt_id_of(channel_id_for(42)) == 42
    assert agent_of_leg(agent_leg_id(7, "ab12")) == 7
    assert attempt_id_of(agent_leg_id(7, "ab12")) is None
    assert agent_of_leg(channel_id_for(42)) is None
    assert attempt_id_of("rc-probe-0123") is None
