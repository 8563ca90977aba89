"""The lab carrier's ground-truth call log, parsed: what really happened on the far end of each call.

The carrier's dialplan (`carrier_dialplan`) appends one line per event; `read_calls` folds
them into one `CarrierCall` per carrier channel, in the order the calls arrived.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CarrierEvent:
    """One line of the log."""

    at: float
    event: str  # received | answered | dtmf | respond | hangup
    uniqueid: str
    linkedid: str
    number: str
    caller_id: str
    details: dict[str, str] = field(default_factory=dict)  # outcome, digit, cause, duration


@dataclass
class CarrierCall:
    """One call the carrier received, as the carrier saw it. Times are epoch seconds."""

    uniqueid: str
    linkedid: str
    number: str
    caller_id: str
    planned: str  # a carrier_plan.Outcome value, or "agent" / "agent_noanswer"
    started_at: float
    answered_at: float | None = None
    dtmf_sent: str = ""
    responded: str = ""  # a survey respondent's script characters, as acted on (see carrier_plan)
    ended_at: float | None = None
    hangup_cause: int | None = None
    duration_s: float | None = None  # from received to hang-up

    @property
    def talk_s(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.answered_at


def parse_line(line: str) -> CarrierEvent:
    at, event, *pairs = line.split()
    fields = dict(pair.split("=", 1) for pair in pairs)
    return CarrierEvent(
        at=float(at),
        event=event,
        uniqueid=fields.pop("uniqueid"),
        linkedid=fields.pop("linkedid"),
        number=fields.pop("number"),
        caller_id=fields.pop("caller_id"),
        details=fields,
    )


def fold(events: Iterable[CarrierEvent]) -> list[CarrierCall]:
    calls: dict[str, CarrierCall] = {}
    for e in events:
        if e.event == "received":
            calls[e.uniqueid] = CarrierCall(
                e.uniqueid, e.linkedid, e.number, e.caller_id, planned=e.details["outcome"], started_at=e.at
            )
            continue
        call = calls.get(e.uniqueid)
        if call is None:  # its `received` line is older than what was read
            continue
        if e.event == "answered":
            call.answered_at = e.at
        elif e.event == "dtmf":
            call.dtmf_sent += e.details["digit"]
        elif e.event == "respond":
            call.responded += e.details["action"]
        elif e.event == "hangup":
            call.ended_at = e.at
            call.hangup_cause = int(e.details["cause"]) if e.details.get("cause") else None
            call.duration_s = round(float(e.details["duration"]), 3)
    return list(calls.values())


def read_calls(path: Path, *, since: float | None = None, number: str | None = None) -> list[CarrierCall]:
    """The calls in the log at `path`, optionally only those received at/after `since` or to `number`."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    lines = text.splitlines()
    if lines and not text.endswith("\n"):
        lines.pop()  # a line still being written
    calls = fold(parse_line(line) for line in lines if line.strip())
    return [
        call
        for call in calls
        if (since is None or call.started_at >= since) and (number is None or call.number == number)
    ]


def peak_concurrent(calls: Iterable[CarrierCall]) -> int:
    """The most of `calls` up at the same moment (a call not ended yet counts as still up)."""
    edges = []
    for call in calls:
        edges.append((call.started_at, 1))
        if call.ended_at is not None:
            edges.append((call.ended_at, -1))
    peak = level = 0
    for _, step in sorted(edges):
        level += step
        peak = max(peak, level)
    return peak
