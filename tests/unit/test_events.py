"""AMI messages become typed events; unknown events are ignored."""

from __future__ import annotations

from dialer.asterisk.events import (
    EVENT_PARSERS,
    ChannelHungUp,
    DtmfReceived,
    OriginateFinished,
    UserEventReceived,
    parse_event,
)

CHANNEL = {"Uniqueid": "rc-1", "Linkedid": "rc-1", "Channel": "PJSIP/carrier-00000001"}


def test_hangup_carries_cause() -> None:
    event = parse_event({"Event": "Hangup", **CHANNEL, "Cause": "17", "Cause-txt": "User busy"}, 12.5)
    assert event == ChannelHungUp(
        received_at=12.5,
        uniqueid="rc-1",
        linkedid="rc-1",
        channel="PJSIP/carrier-00000001",
        cause=17,
        cause_text="User busy",
    )


def test_dtmf_end() -> None:
    event = parse_event(
        {"Event": "DTMFEnd", **CHANNEL, "Digit": "7", "Direction": "Received", "DurationMs": "120"}, 1
    )
    assert isinstance(event, DtmfReceived)
    assert (event.digit, event.direction, event.duration_ms) == ("7", "Received", 120)


def test_originate_response_is_matched_by_action_id() -> None:
    event = parse_event(
        {
            "Event": "OriginateResponse",
            "ActionID": "rc-orig-1",
            "Response": "Success",
            "Reason": "4",
            "Uniqueid": "rc-1",
            "Channel": "PJSIP/carrier-1",
        },
        1,
    )
    assert event == OriginateFinished(
        received_at=1,
        action_id="rc-orig-1",
        uniqueid="rc-1",
        channel="PJSIP/carrier-1",
        success=True,
        reason=4,
    )


def test_user_event_keeps_its_own_fields_only() -> None:
    event = parse_event(
        {
            "Event": "UserEvent",
            "UserEvent": "RingcastAmd",
            "Privilege": "user,all",
            **CHANNEL,
            "Status": "MACHINE",
            "Cause": "LONGGREETING-2000-2000",
        },
        1,
    )
    assert isinstance(event, UserEventReceived)
    assert event.name == "RingcastAmd"
    assert dict(event.fields) == {
        "Channel": "PJSIP/carrier-00000001",
        "Status": "MACHINE",
        "Cause": "LONGGREETING-2000-2000",
    }


def test_missing_or_garbage_numbers_do_not_raise() -> None:
    event = parse_event({"Event": "Hangup", "Cause": "n/a"}, 1)
    assert isinstance(event, ChannelHungUp) and event.cause == 0 and event.uniqueid == ""


def test_unlisted_events_are_ignored() -> None:
    assert parse_event({"Event": "RTCPSent"}, 1) is None
    assert "RTCPSent" not in EVENT_PARSERS
