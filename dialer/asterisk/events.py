"""Typed, frozen domain events made from AMI messages, and the one table of AMI events ringcast listens to.

The rest of ringcast never sees a raw AMI message: the AMI link parses each one it
cares about with `parse_event` into one of the dataclasses below. `received_at` is the
wall-clock time (epoch seconds) at which the adapter read the message; pure code takes
time from events, never from the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AmiEvent:
    """Base of every event coming out of the AMI link."""

    received_at: float


@dataclass(frozen=True, slots=True)
class LinkUp(AmiEvent):
    """The AMI link logged in (first time or after a reconnect)."""

    reconnect: bool


@dataclass(frozen=True, slots=True)
class LinkDown(AmiEvent):
    """The AMI link was lost; nothing can be sent until `LinkUp`."""

    reason: str


@dataclass(frozen=True, slots=True)
class ChannelEvent(AmiEvent):
    """An event about one channel: `uniqueid` is the channel, `linkedid` the call it belongs to."""

    uniqueid: str
    linkedid: str
    channel: str


@dataclass(frozen=True, slots=True)
class ChannelCreated(ChannelEvent):
    caller_id: str
    context: str
    exten: str


@dataclass(frozen=True, slots=True)
class ChannelStateChanged(ChannelEvent):
    """`state` is Asterisk's channel state number (5 ringing, 6 up, ...)."""

    state: int
    state_desc: str


@dataclass(frozen=True, slots=True)
class DialEnded(ChannelEvent):
    """A Dial() attempt from this channel ended with `status` (ANSWER, BUSY, NOANSWER, CONGESTION...)."""

    dest_uniqueid: str
    status: str


@dataclass(frozen=True, slots=True)
class OriginateFinished(AmiEvent):
    """The result of an asynchronous Originate, matched to the request by `action_id`.

    `reason` is Asterisk's originate reason: 4 answered, 5 busy, 3 no answer / timeout,
    8 congestion, 1 hung up/failed, 0 failure before dialing.
    """

    action_id: str
    uniqueid: str
    channel: str
    success: bool
    reason: int


@dataclass(frozen=True, slots=True)
class BridgeEntered(ChannelEvent):
    bridge_id: str


@dataclass(frozen=True, slots=True)
class BridgeLeft(ChannelEvent):
    bridge_id: str


@dataclass(frozen=True, slots=True)
class ConferenceJoined(ChannelEvent):
    conference: str


@dataclass(frozen=True, slots=True)
class ConferenceLeft(ChannelEvent):
    conference: str


@dataclass(frozen=True, slots=True)
class DtmfReceived(ChannelEvent):
    """A DTMF digit finished on the channel; `direction` is 'Received' or 'Sent'."""

    digit: str
    direction: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class ChannelHungUp(ChannelEvent):
    """The channel is gone; `cause` is the Q.850 hang-up cause (16 normal, 17 busy, 1 unallocated...)."""

    cause: int
    cause_text: str


@dataclass(frozen=True, slots=True)
class UserEventReceived(AmiEvent):
    """A `UserEvent()` raised by ringcast's dialplan (e.g. `RingcastAmd`), with its fields."""

    name: str
    uniqueid: str
    linkedid: str
    fields: Mapping[str, str] = field(default_factory=dict)


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _channel(m: Mapping[str, str], at: float) -> dict[str, object]:
    return {
        "received_at": at,
        "uniqueid": m.get("Uniqueid", ""),
        "linkedid": m.get("Linkedid", ""),
        "channel": m.get("Channel", ""),
    }


_USER_EVENT_RESERVED = {"event", "userevent", "uniqueid", "linkedid", "privilege"}

# Every AMI event ringcast listens to, in one place: AMI event name -> parser.
EVENT_PARSERS: dict[str, Callable[[Mapping[str, str], float], AmiEvent]] = {
    "Newchannel": lambda m, at: ChannelCreated(
        **_channel(m, at),  # type: ignore[arg-type]
        caller_id=m.get("CallerIDNum", ""),
        context=m.get("Context", ""),
        exten=m.get("Exten", ""),
    ),
    "Newstate": lambda m, at: ChannelStateChanged(
        **_channel(m, at),  # type: ignore[arg-type]
        state=_int(m.get("ChannelState")),
        state_desc=m.get("ChannelStateDesc", ""),
    ),
    "DialEnd": lambda m, at: DialEnded(
        **_channel(m, at),  # type: ignore[arg-type]
        dest_uniqueid=m.get("DestUniqueid", ""),
        status=m.get("DialStatus", ""),
    ),
    "OriginateResponse": lambda m, at: OriginateFinished(
        received_at=at,
        action_id=m.get("ActionID", ""),
        uniqueid=m.get("Uniqueid", ""),
        channel=m.get("Channel", ""),
        success=m.get("Response", "") == "Success",
        reason=_int(m.get("Reason")),
    ),
    "BridgeEnter": lambda m, at: BridgeEntered(
        **_channel(m, at),  # type: ignore[arg-type]
        bridge_id=m.get("BridgeUniqueid", ""),
    ),
    "BridgeLeave": lambda m, at: BridgeLeft(
        **_channel(m, at),  # type: ignore[arg-type]
        bridge_id=m.get("BridgeUniqueid", ""),
    ),
    "ConfbridgeJoin": lambda m, at: ConferenceJoined(
        **_channel(m, at),  # type: ignore[arg-type]
        conference=m.get("Conference", ""),
    ),
    "ConfbridgeLeave": lambda m, at: ConferenceLeft(
        **_channel(m, at),  # type: ignore[arg-type]
        conference=m.get("Conference", ""),
    ),
    "DTMFEnd": lambda m, at: DtmfReceived(
        **_channel(m, at),  # type: ignore[arg-type]
        digit=m.get("Digit", ""),
        direction=m.get("Direction", ""),
        duration_ms=_int(m.get("DurationMs")),
    ),
    "Hangup": lambda m, at: ChannelHungUp(
        **_channel(m, at),  # type: ignore[arg-type]
        cause=_int(m.get("Cause")),
        cause_text=m.get("Cause-txt", ""),
    ),
    "UserEvent": lambda m, at: UserEventReceived(
        received_at=at,
        name=m.get("UserEvent", ""),
        uniqueid=m.get("Uniqueid", ""),
        linkedid=m.get("Linkedid", ""),
        fields={k: v for k, v in m.items() if k.lower() not in _USER_EVENT_RESERVED},
    ),
}


def parse_event(message: Mapping[str, str], received_at: float) -> AmiEvent | None:
    """The typed event for an AMI message, or None for events ringcast does not listen to."""
    parser = EVENT_PARSERS.get(message.get("Event", ""))
    return parser(message, received_at) if parser else None
