"""A flow walked with scripted key presses instead of a phone (`ringcast ivr test`, the tests).

`events_from_keys("1,,8005551234#,hangup")` reads one caller input per comma: keys, an empty item
or `timeout` for silence until the timeout, `hangup` for the caller hanging up. `walk` starts the
run and feeds the events while the flow waits for input; when they run out first, the caller
hangs up. A survey node's survey is not asked: it takes none of the events, and the walk goes on
as if the caller had answered it to the end (`> survey ended`). It returns what happened as
lines: each action as printed, and `> input` for each event.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialer.ivr.actions import Digits, Event, HungUp, RunSurvey, SurveyEnded, Timeout
from dialer.ivr.run import FlowRun

TIMEOUT = "timeout"
HANG_UP = "hangup"
SURVEY_ENDED = "survey ended"


def events_from_keys(text: str) -> list[Event]:
    """The caller's inputs in `text`, comma-separated (see the module's docstring)."""
    if not text.strip():
        return []
    events: list[Event] = []
    for item in (part.strip() for part in text.split(",")):
        if item.lower() in ("", TIMEOUT):
            events.append(Timeout())
        elif item.lower() == HANG_UP:
            events.append(HungUp())
        else:
            events.append(Digits(item))
    return events


def walk(run: FlowRun, events: Sequence[Event]) -> list[str]:
    """Run the flow through `events`; the actions and inputs as lines."""
    actions = run.start()
    lines = [str(action) for action in actions]
    left = list(events)
    while not run.finished:
        event: Event
        if isinstance(actions[-1], RunSurvey):
            event, note = SurveyEnded(), ""
        else:
            event, note = (left.pop(0), "") if left else (HungUp(), " (no more keys)")
        lines.append(f"> {_said(event)}{note}")
        actions = run.feed(event)
        lines += [str(action) for action in actions]
    if left:
        lines.append(f"not used: {', '.join(map(_said, left))}")
    return lines


def _said(event: Event) -> str:
    if isinstance(event, Digits):
        return event.keys
    if isinstance(event, SurveyEnded):
        return SURVEY_ENDED
    return TIMEOUT if isinstance(event, Timeout) else HANG_UP
