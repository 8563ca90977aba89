"""The lab carrier's number scheme, digit by digit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.asterisk.carrier_plan import CustomerBehaviour, Outcome, behaviour_for, plan_digits


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("13800137020", CustomerBehaviour(Outcome.HUMAN, ring_s=2, talk_s=5, dtmf="7")),
        ("13800135131", CustomerBehaviour(Outcome.HUMAN, ring_s=3, talk_s=10, dtmf="5")),
        ("13800134001", CustomerBehaviour(Outcome.HUMAN, ring_s=0, talk_s=5, dtmf="4")),
        ("13800139993", CustomerBehaviour(Outcome.HUMAN, ring_s=9, talk_s=50, dtmf="9")),
        ("13800130124", CustomerBehaviour(Outcome.MACHINE, ring_s=2, talk_s=10, dtmf="")),
        ("13800138205", CustomerBehaviour(Outcome.MACHINE, ring_s=0, talk_s=15, dtmf="")),
        ("13800130016", CustomerBehaviour(Outcome.BUSY, ring_s=0, talk_s=0, dtmf="")),
        ("13800130207", CustomerBehaviour(Outcome.NO_ANSWER, ring_s=math.inf, talk_s=0, dtmf="")),
        ("13800130018", CustomerBehaviour(Outcome.CONGESTION, ring_s=0, talk_s=0, dtmf="")),
        ("13800130019", CustomerBehaviour(Outcome.INVALID, ring_s=0, talk_s=0, dtmf="")),
    ],
)
def test_behaviour_for_known_numbers(number: str, expected: CustomerBehaviour) -> None:
    assert behaviour_for(number) == expected


@pytest.mark.parametrize(
    ("last_digit", "outcome"),
    [
        ("0", Outcome.HUMAN),
        ("1", Outcome.HUMAN),
        ("2", Outcome.HUMAN),
        ("3", Outcome.HUMAN),
        ("4", Outcome.MACHINE),
        ("5", Outcome.MACHINE),
        ("6", Outcome.BUSY),
        ("7", Outcome.NO_ANSWER),
        ("8", Outcome.CONGESTION),
        ("9", Outcome.INVALID),
    ],
)
def test_last_digit_is_the_outcome(last_digit: str, outcome: Outcome) -> None:
    assert behaviour_for("1380013000" + last_digit).outcome is outcome


def test_a_leading_plus_is_ignored() -> None:
    assert behaviour_for("+8613800137020") == behaviour_for("13800137020")


@pytest.mark.parametrize(
    ("number", "digits"), [("5", "0005"), ("12", "0012"), ("+321", "0321"), ("987654", "7654")]
)
def test_missing_digits_count_as_zero(number: str, digits: str) -> None:
    assert plan_digits(number) == digits


def test_a_short_number_is_a_quick_human_sending_zero() -> None:
    assert behaviour_for("12") == CustomerBehaviour(Outcome.HUMAN, ring_s=1, talk_s=5, dtmf="0")


@pytest.mark.parametrize("number", ["", "+", "agent-bob", "12a4", "++12"])
def test_non_numbers_are_refused(number: str) -> None:
    with pytest.raises(ValueError, match="not a carrier number"):
        behaviour_for(number)


@pytest.mark.parametrize(
    ("number", "cause", "text"),
    [
        ("13800130016", 17, "busy: SIP 486, cause 17"),
        ("13800130018", 34, "congestion: SIP 503, cause 34"),
        ("13800130019", 1, "invalid: SIP 404, cause 1"),
    ],
)
def test_rejections_have_a_cause(number: str, cause: int, text: str) -> None:
    behaviour = behaviour_for(number)
    assert (behaviour.reject_cause, behaviour.answers, behaviour.describe()) == (cause, False, text)


def test_descriptions_of_answering_customers() -> None:
    assert behaviour_for("13800137020").describe() == "human: rings 2 s, sends 7, hangs up after 5 s"
    assert behaviour_for("13800130124").describe() == "machine: rings 2 s, greeting, hangs up after 10 s"
    assert behaviour_for("13800130207").describe() == "no answer: rings until the caller gives up"


@given(st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True))
def test_every_number_has_a_consistent_plan(number: str) -> None:
    behaviour = behaviour_for(number)
    assert behaviour.answers == (behaviour.talk_s > 0)
    assert (behaviour.dtmf != "") == (behaviour.outcome is Outcome.HUMAN)
    assert behaviour.talk_s in ({0} if not behaviour.answers else set(range(5, 55, 5)))
    assert behaviour.reject_cause is None or behaviour.ring_s == 0
