"""One respondent going through a survey (SRV-1): what to play, which keys to wait for, what to record.

`SurveySession` is the pure machine the FastAGI application will drive: it answers each turn with
commands, and the adapter plays and collects on the channel, then reports the key pressed (None
for no key before the timeout). Patient with mistakes: an invalid key or silence is followed by
the question's `invalid` prompt (or nothing) and the question again, up to `retries` times; after
that the question is recorded as not answered and the survey ends there (partial), with the
closing. Every answer is a `Record` command the moment it is given, so a hang-up keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.surveys.document import END, Prompt, Question, Survey


@dataclass(frozen=True, slots=True)
class Say:
    """Play a prompt, no key expected."""

    prompt: Prompt


@dataclass(frozen=True, slots=True)
class Ask:
    """Play the question's prompt and wait up to `timeout_s` for one of `keys`."""

    question: str
    prompt: Prompt
    keys: frozenset[str]
    timeout_s: float


@dataclass(frozen=True, slots=True)
class Record:
    """Store an answer now: `key` and its meaning, or `key` None after the retries (`reason` says why)."""

    question: str
    key: str | None
    meaning: str | None
    tries: int
    reason: str = "answered"  # or "invalid", "no_input"


@dataclass(frozen=True, slots=True)
class Finish:
    """Hang up: `complete` when every question on the respondent's path was answered."""

    complete: bool


Command = Say | Ask | Record | Finish


class SurveySession:
    def __init__(self, survey: Survey) -> None:
        self.survey = survey
        self._by_id = {question.id: question for question in survey.questions}
        self._current: Question | None = None
        self._tries = 0
        self.finished = False

    def start(self) -> list[Command]:
        intro: list[Command] = [Say(self.survey.intro)] if self.survey.intro else []
        return [*intro, *self._ask(self.survey.questions[0])]

    def on_key(self, key: str | None) -> list[Command]:
        """The respondent pressed `key` (None: nothing before the timeout) at the current question."""
        question = self._current
        if question is None or self.finished:
            raise RuntimeError("no question is waiting for a key")
        self._tries += 1
        if key is not None and key in question.keys:
            record = Record(question.id, key, question.keys[key], self._tries)
            following = self.survey.after(question.id, key)
            if following == END:
                return [record, *self._finish(complete=True)]
            return [record, *self._ask(self._by_id[following])]
        reason = "no_input" if key is None else "invalid"
        if self._tries <= question.retries:
            again: list[Command] = [Say(question.invalid)] if question.invalid else []
            return [*again, self._question(question)]
        return [Record(question.id, None, None, self._tries, reason), *self._finish(complete=False)]

    def _ask(self, question: Question) -> list[Command]:
        self._current, self._tries = question, 0
        return [self._question(question)]

    @staticmethod
    def _question(question: Question) -> Ask:
        return Ask(question.id, question.prompt, frozenset(question.keys), question.timeout_s)

    def _finish(self, *, complete: bool) -> list[Command]:
        self.finished, self._current = True, None
        closing: list[Command] = [Say(self.survey.closing)] if self.survey.closing else []
        return [*closing, Finish(complete)]
