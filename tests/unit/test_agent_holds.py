"""The holds of a call from its control rows (`reports.agent_holds.holds`): where each starts and ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reports.agent_holds import ControlRow, Hold, holds

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
UNTIL = T0 + timedelta(hours=1)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def row(
    call: str, minute: int, legs: str | None, next_state: int | None = None, ended: int | None = None
) -> ControlRow:
    return ControlRow(
        call, at(minute), 7, legs, None if next_state is None else at(next_state),
        None if ended is None else at(ended), talked=True,
    )  # fmt: skip


def spans(rows: list[ControlRow]) -> list[tuple[str, int, int]]:
    return [
        (h.call, int((h.start - T0) / timedelta(minutes=1)), int((h.end - T0) / timedelta(minutes=1)))
        for h in holds(rows, UNTIL)
    ]


def test_a_hold_ends_at_the_row_that_takes_the_legs_elsewhere() -> None:
    assert spans([row("a", 1, "held"), row("a", 3, "talking"), row("a", 5, "held"), row("a", 6, None)]) == [
        ("a", 1, 3),
        ("a", 5, 6),
    ]


def test_consulting_is_on_hold_and_a_third_party_gone_keeps_it_held() -> None:
    rows = [
        row("a", 1, "consulting"),
        row("a", 2, "held"),
        row("a", 4, "consulting"),
        row("a", 9, "conference"),
    ]
    assert spans(rows) == [("a", 1, 9)]


def test_a_hold_never_resumed_ends_at_the_agents_next_state_or_the_calls_end_or_the_period() -> None:
    assert spans([row("a", 1, "held", next_state=8, ended=10)]) == [("a", 1, 8)]
    assert spans([row("b", 1, "held", next_state=None, ended=4)]) == [("b", 1, 4)]
    assert spans([row("c", 1, "held")]) == [("c", 1, 60)]
    assert spans([row("d", 1, "held", next_state=1)]) == [], "an empty hold is none"


def test_calls_apart() -> None:
    rows = [row("a", 1, "held"), row("b", 2, "talking"), row("b", 3, "held"), row("b", 4, "talking")]
    assert spans(rows) == [("a", 1, 60), ("b", 3, 4)]
    assert holds([row("a", 1, "held", ended=2)], UNTIL) == [Hold(7, "a", at(1), at(2), at(2), True)]
