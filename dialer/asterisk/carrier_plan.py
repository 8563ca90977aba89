"""What the lab carrier's customer does for a dialed number: the pure-Python mirror of its dialplan.

The carrier (see `carrier_dialplan`) decides everything from the last four digits of the
dialed number, so a test can compute the expected result of any call beforehand:

    digits ... K T R D      (a leading `+` is ignored; missing digits count as 0)
    D  outcome: 0-3 human, 4-5 answering machine, 6 busy, 7 no answer, 8 congestion, 9 invalid
    R  seconds of ringing before a human or machine answers
    T  talk time: the carrier hangs up 5 + 5*T seconds after answering
    K  the DTMF digit a human sends 2 s after answering

Busy, congestion and invalid numbers are rejected at once with the SIP status and Q.850
cause below; a no-answer number rings until the caller gives up.

Survey respondents have numbers of their own (`respondent_number`): `+86170`, three digits of
serial (ignored), then a script the respondent follows prompt by prompt. For each prompt it
listens until the prompt has ended (`RESPONDENT_SILENCE_MS` of silence), then acts on the next
character: a digit is pressed, `8` is staying silent, `0` is hanging up. When the script is used
up the respondent stays silent, on the line, until the other side hangs up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    """How the carrier's customer responds to a call."""

    HUMAN = "human"
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    INVALID = "invalid"


OUTCOME_BY_LAST_DIGIT: tuple[Outcome, ...] = (
    Outcome.HUMAN,
    Outcome.HUMAN,
    Outcome.HUMAN,
    Outcome.HUMAN,
    Outcome.MACHINE,
    Outcome.MACHINE,
    Outcome.BUSY,
    Outcome.NO_ANSWER,
    Outcome.CONGESTION,
    Outcome.INVALID,
)

# Rejections: the Q.850 cause the carrier hangs up with, and the SIP status Asterisk maps it to.
REJECT_CAUSES: dict[Outcome, tuple[int, int]] = {
    Outcome.BUSY: (17, 486),
    Outcome.CONGESTION: (34, 503),
    Outcome.INVALID: (1, 404),
}

RESPONDENT_PREFIX = "+86170"
RESPONDENT_SERIAL_DIGITS = 3
RESPOND_SILENT = "8"
RESPOND_HANG_UP = "0"
RESPONDENT_SILENCE_MS = 700  # what ends a prompt for the respondent (longer than pauses within one)
RESPONDENT_RING_S = 1

DTMF_DELAY_S = 2
BASE_TALK_S = 5
TALK_STEP_S = 5
PLAN_DIGITS = 4


@dataclass(frozen=True)
class CustomerBehaviour:
    """The carrier's plan for one dialed number.

    `ring_s` is how long it rings before answering: 0 for a rejected call, `math.inf` for a
    number that never answers. `talk_s` counts from the answer; `dtmf` is "" unless human.
    """

    outcome: Outcome
    ring_s: float
    talk_s: int
    dtmf: str

    @property
    def answers(self) -> bool:
        return self.outcome in (Outcome.HUMAN, Outcome.MACHINE)

    @property
    def reject_cause(self) -> int | None:
        """The Q.850 cause of a rejected call (busy 17, congestion 34, invalid 1), else None."""
        cause = REJECT_CAUSES.get(self.outcome)
        return cause[0] if cause else None

    def describe(self) -> str:
        if self.outcome is Outcome.HUMAN:
            return f"human: rings {self.ring_s:.0f} s, sends {self.dtmf}, hangs up after {self.talk_s} s"
        if self.outcome is Outcome.MACHINE:
            return f"machine: rings {self.ring_s:.0f} s, greeting, hangs up after {self.talk_s} s"
        if self.outcome is Outcome.NO_ANSWER:
            return "no answer: rings until the caller gives up"
        cause, status = REJECT_CAUSES[self.outcome]
        return f"{self.outcome.value.replace('_', ' ')}: SIP {status}, cause {cause}"


def plan_digits(number: str) -> str:
    """The last four digits that drive the plan, left-padded with zeros ("+86 12" → "0012")."""
    digits = number.removeprefix("+")
    if not digits.isdigit():
        raise ValueError(f"not a carrier number: {number!r} (digits with an optional leading +)")
    return digits[-PLAN_DIGITS:].rjust(PLAN_DIGITS, "0")


def behaviour_for(number: str) -> CustomerBehaviour:
    """What the lab carrier does when `number` is dialed."""
    dtmf_digit, talk_digit, ring_digit, outcome_digit = (int(d) for d in plan_digits(number))
    outcome = OUTCOME_BY_LAST_DIGIT[outcome_digit]
    if outcome is Outcome.NO_ANSWER:
        return CustomerBehaviour(outcome, ring_s=math.inf, talk_s=0, dtmf="")
    if outcome in REJECT_CAUSES:
        return CustomerBehaviour(outcome, ring_s=0, talk_s=0, dtmf="")
    return CustomerBehaviour(
        outcome,
        ring_s=ring_digit,
        talk_s=BASE_TALK_S + TALK_STEP_S * talk_digit,
        dtmf=str(dtmf_digit) if outcome is Outcome.HUMAN else "",
    )


def respondent_number(serial: int, script: str) -> str:
    """The number of a survey respondent following `script` (see the module docstring)."""
    if not script.isdigit():
        raise ValueError(f"a respondent's script is digits: {script!r}")
    return f"{RESPONDENT_PREFIX}{serial % 10**RESPONDENT_SERIAL_DIGITS:0{RESPONDENT_SERIAL_DIGITS}d}{script}"


def respondent_script(number: str) -> str | None:
    """The script of a respondent's number; None for any other number."""
    if not number.startswith(RESPONDENT_PREFIX):
        return None
    script = number[len(RESPONDENT_PREFIX) + RESPONDENT_SERIAL_DIGITS :]
    return script if script.isdigit() else None


def zone_at_local_hour(hour: int, now: datetime) -> str:
    """An `Etc/GMT±N` zone whose local hour is `hour` at `now`: where a lab customer lives whose
    calling hours must be open (14) or shut (2) whatever the time of the run (POSIX signs are
    inverted)."""
    offset = (hour - now.hour + 12) % 24 - 12
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
