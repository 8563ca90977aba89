"""What a running flow asks of the channel (`Action`), and what the channel reports back (`Event`).

`FlowRun.start()` and `FlowRun.feed()` answer with a tuple of actions: any number of `Play`, then
exactly one `Collect` (wait for the caller's keys, then `feed` what came), one `RunSurvey` (ask the
survey's questions, then `feed` `SurveyEnded`) or one final action, after which the flow is done
with the call: `RouteToQueue`, `RouteToAgent`, `Dial`, `Voicemail`, `BackToAgent` or `Hangup`. The
events are `Digits` (what GET DATA returned; empty is a timeout), `Timeout`, `SurveyEnded` and
`HungUp`. Each action prints as the line `ringcast ivr test` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from campaigns.surveys.document import Prompt


def spoken(prompt: Prompt) -> str:
    """A prompt as people read it: `"text"` for TTS, `audio name` for a sound file."""
    return f'"{prompt.text}"' if prompt.text is not None else f"audio {prompt.audio}"


@dataclass(frozen=True, slots=True)
class Play:
    """Play a prompt; nothing is waited for."""

    prompt: Prompt

    def __str__(self) -> str:
        return f"play {spoken(self.prompt)}"


@dataclass(frozen=True, slots=True)
class Collect:
    """Play `prompt` (keys interrupt it), then wait `timeout_s` for up to `max_digits` keys, ended
    early by `terminator` (empty: none); `node` is the menu or read node waiting."""

    node: str
    prompt: Prompt
    max_digits: int
    timeout_s: float
    terminator: str

    def __str__(self) -> str:
        ended = f", ended by {self.terminator}" if self.terminator else ""
        return f"collect at {self.node}: {spoken(self.prompt)}, up to {self.max_digits} key(s){ended}"


@dataclass(frozen=True, slots=True)
class RouteToQueue:
    queue: str
    priority: int = 0  # added to the caller's place in the queue (VIP first)

    def __str__(self) -> str:
        return f"queue {self.queue}" + (f", priority +{self.priority}" if self.priority else "")


@dataclass(frozen=True, slots=True)
class RouteToAgent:
    """Direct to one agent (ACD-9), waiting in `queue` (None: the agent's first queue); after
    `fallback_after_s` (None: never) to any agent of that queue."""

    agent: str
    queue: str | None = None
    priority: int = 0
    fallback_after_s: float | None = None

    def __str__(self) -> str:
        queue = f" in queue {self.queue}" if self.queue else ""
        priority = f", priority +{self.priority}" if self.priority else ""
        after = self.fallback_after_s
        fallback = f", any agent after {after:g} s" if after is not None else ""
        return f"agent {self.agent}{queue}{priority}{fallback}"


@dataclass(frozen=True, slots=True)
class Dial:
    """Transfer to an external or mobile number."""

    number: str

    def __str__(self) -> str:
        return f"dial {self.number}"


@dataclass(frozen=True, slots=True)
class Voicemail:
    """Record a message in the mailbox of an agent or a queue (the owner is notified, IVR-4)."""

    owner: Literal["agent", "queue"]
    name: str

    def __str__(self) -> str:
        return f"voicemail of {self.owner} {self.name}"


@dataclass(frozen=True, slots=True)
class RunSurvey:
    """Ask the questions of survey `survey` (by name) on the call; `node` is the survey node."""

    node: str
    survey: str

    def __str__(self) -> str:
        return f"survey {self.survey} at {self.node}"


@dataclass(frozen=True, slots=True)
class BackToAgent:
    """Back to the agent who sent the caller into the flow (IVR-6), else into queue `fallback`."""

    fallback: str

    def __str__(self) -> str:
        return f"back to the agent who sent the caller (else queue {self.fallback})"


@dataclass(frozen=True, slots=True)
class Hangup:
    reason: str  # the node's reason, "no input", "invalid input" or "loop"

    def __str__(self) -> str:
        return f"hang up ({self.reason})"


Final = RouteToQueue | RouteToAgent | Dial | Voicemail | BackToAgent | Hangup
Action = Play | Collect | RunSurvey | Final


@dataclass(frozen=True, slots=True)
class Digits:
    """The keys the caller pressed, as GET DATA returns them (the terminator may be left on)."""

    keys: str


@dataclass(frozen=True, slots=True)
class Timeout:
    """No key before the timeout."""


@dataclass(frozen=True, slots=True)
class SurveyEnded:
    """The survey of a survey node came to its end (complete or not) with the caller still on."""


@dataclass(frozen=True, slots=True)
class HungUp:
    """The caller hung up."""


Event = Digits | Timeout | SurveyEnded | HungUp
