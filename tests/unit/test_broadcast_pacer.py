"""Broadcast pacing (DIAL-5): by free lines, and by calls per second without bursts."""

from __future__ import annotations

from dialer.pacing.broadcast import BroadcastPacer


def test_without_a_rate_every_free_line_is_used() -> None:
    pacer = BroadcastPacer(max_lines=30)
    decision = pacer.decide(0.0, lines=12)
    assert (decision.launch, decision.bound, decision.mode) == (18, "max_lines", "broadcast")
    assert pacer.decide(0.1, lines=31).launch == 0


def test_the_rate_holds_over_time_and_never_bursts_past_one_second_of_calls() -> None:
    pacer = BroadcastPacer(max_lines=1000, calls_per_second=5)
    launched = 0
    for tick in range(50):  # 10 s in 0.2 s ticks
        decision = pacer.decide(tick * 0.2, lines=0)
        pacer.launched(decision.launch)
        launched += decision.launch
    assert 5 * 9.8 <= launched <= 5 * 10 + 5  # the rate, plus the first second's bucket
    pacer.decide(100.0, lines=0)  # after a lull: one second's worth, not 90 s worth
    assert pacer.decide(100.0, lines=0).launch == 5
    assert pacer.decide(100.0, lines=0).bound == "calls_per_second"


def test_calls_not_launched_are_not_spent() -> None:
    pacer = BroadcastPacer(max_lines=100, calls_per_second=2)
    assert pacer.decide(0.0, lines=0).launch == 2
    pacer.launched(1)  # the hopper had one lead
    assert pacer.decide(0.0, lines=1).launch == 1


def test_a_slow_rate_launches_one_call_every_so_often() -> None:
    pacer = BroadcastPacer(max_lines=10, calls_per_second=0.5)
    times = []
    for tick in range(41):  # 8 s
        if pacer.decide(tick * 0.2, lines=0).launch:
            pacer.launched(1)
            times.append(round(tick * 0.2, 1))
    assert times == [0.0, 2.0, 4.0, 6.0, 8.0]
