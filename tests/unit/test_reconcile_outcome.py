"""What an attempt found open at start-up becomes, by what its channel is doing."""

from __future__ import annotations

from campaigns.persistence.models.enums import CallOutcome
from dialer.asterisk.ami import ChannelSnapshot
from dialer.live.channel_ids import ChannelIds
from dialer.live.reconcile import closing_outcome


def _channel(state: str, application: str) -> ChannelSnapshot:
    return ChannelSnapshot("PJSIP/carrier-01", "rc-call-5", "rc-call-5", "x", "s", state, application, 12)


def test_closing_outcomes() -> None:
    assert closing_outcome(None)[0] is CallOutcome.FAILED
    assert closing_outcome(_channel("Ringing", "AppDial"))[0] is CallOutcome.CANCELLED
    assert closing_outcome(_channel("Up", "ConfBridge"))[0] is CallOutcome.ANSWERED
    assert closing_outcome(_channel("Up", "AGI"))[0] is CallOutcome.ANSWERED  # in a survey
    assert closing_outcome(_channel("Up", "Playback"))[0] is CallOutcome.ANSWERED  # a broadcast message
    assert closing_outcome(_channel("Up", "Wait"))[0] is CallOutcome.ABANDONED
    assert all(
        len(closing_outcome(c)[1]) <= 64 for c in (None, _channel("Up", "Wait"), _channel("Up", "AGI"))
    )


def test_channel_ids_round_trip_and_are_scoped_to_their_database() -> None:
    ours = ChannelIds.for_database("sqlite:////var/lib/ringcast/a.db")
    theirs = ChannelIds.for_database("sqlite:////tmp/test.db")
    assert ours == ChannelIds.for_database("sqlite:////var/lib/ringcast/a.db")  # stable over restarts
    assert ours.tag != theirs.tag and len(ours.tag) == 8
    leg = ours.agent_leg(7)
    assert (ours.attempt_of(ours.call(42)), ours.agent_of(leg)) == (42, 7)
    assert ours.attempt_of(leg) is None and ours.agent_of(ours.call(42)) is None
    assert ours.call(42) == f"{ours.call_prefix}000000000042"  # no attempt's id begins another's
    assert not theirs.ours(ours.call(42)) and not theirs.ours(leg)
    assert not ours.ours("rc-probe-0123") and not ours.ours(f"rc-{ours.tag}-call-x")
