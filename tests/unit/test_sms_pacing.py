"""SMS pacing: the token bucket of message parts, and retry back-off with full jitter."""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringcast.errors import UserError
from sms.pacing import SegmentBucket, retry_delay


def test_the_bucket_starts_full_then_queues_parts_behind_each_other() -> None:
    bucket = SegmentBucket(rate_per_s=2.0, burst=4.0)
    assert [bucket.take(1, 0.0), bucket.take(3, 0.0)] == [0.0, 0.0]
    assert bucket.take(1, 0.0) == 0.5
    assert bucket.take(2, 0.0) == 1.5
    assert bucket.take(1, 2.0) == 0.0  # 4 parts refilled over 2 s cover the 3 owed
    assert bucket.take(1, 2.0) == 0.5


def test_a_message_longer_than_the_burst_still_goes_after_its_whole_deficit() -> None:
    bucket = SegmentBucket(rate_per_s=2.0, burst=4.0)
    assert bucket.take(10, 0.0) == 3.0
    assert bucket.take(1, 3.0) == 0.5


def test_an_idle_bucket_refills_only_up_to_the_burst() -> None:
    bucket = SegmentBucket(rate_per_s=2.0, burst=4.0)
    bucket.take(4, 0.0)
    assert bucket.take(4, 100.0) == 0.0
    assert bucket.take(1, 100.0) == 0.5


def test_a_clock_read_out_of_order_adds_no_parts() -> None:
    bucket = SegmentBucket(rate_per_s=2.0, burst=4.0)
    bucket.take(4, 10.0)
    assert bucket.take(1, 9.0) == 0.5
    assert bucket.take(1, 10.5) == 0.5  # only the half second after 10.0 refilled


def test_bad_bucket_settings_and_empty_messages_are_refused() -> None:
    with pytest.raises(UserError, match="both must be positive"):
        SegmentBucket(rate_per_s=0.0, burst=4.0)
    with pytest.raises(UserError, match="both must be positive"):
        SegmentBucket(rate_per_s=1.0, burst=-1.0)
    with pytest.raises(ValueError, match="at least one part"):
        SegmentBucket(rate_per_s=1.0, burst=1.0).take(0, 0.0)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(0.1, 100.0),
    burst=st.integers(1, 50),
    parts=st.lists(st.integers(1, 10), min_size=1, max_size=30),
)
def test_messages_taken_at_once_wait_for_what_exceeds_the_burst_at_the_rate(
    rate: float, burst: int, parts: list[int]
) -> None:
    bucket = SegmentBucket(rate_per_s=rate, burst=float(burst))
    waits = [bucket.take(count, 5.0) for count in parts]
    assert waits == sorted(waits)
    assert waits[-1] == pytest.approx(max(0.0, (sum(parts) - burst) / rate))


def test_the_ceiling_doubles_per_try_up_to_the_cap() -> None:
    def half() -> float:
        return 0.5

    assert [retry_delay(tries, half) for tries in (1, 2, 3, 4, 9, 10, 11)] == [1, 2, 4, 8, 256, 300, 300]
    assert retry_delay(10_000, half) == 300.0
    assert retry_delay(3, half, base_s=1.0, cap_s=3.0) == 1.5


def test_retry_after_is_a_floor_even_above_the_cap() -> None:
    def half() -> float:
        return 0.5

    assert retry_delay(1, half, retry_after_s=30.0) == 30.0
    assert retry_delay(5, half, retry_after_s=3.0) == 16.0
    assert retry_delay(12, half, retry_after_s=3600.0) == 3600.0


def test_a_seeded_generator_gives_the_same_delays() -> None:
    first, second = Random(7), Random(7)
    delays = [retry_delay(tries, first) for tries in range(1, 12)]
    assert delays == [retry_delay(tries, second.random) for tries in range(1, 12)]
    expected = Random(7)
    assert delays == [expected.random() * min(600.0, 2.0 * 2 ** (tries - 1)) for tries in range(1, 12)]


def test_tries_start_at_one() -> None:
    with pytest.raises(ValueError, match="tries=0"):
        retry_delay(0, Random(1))


@settings(max_examples=300, deadline=None)
@given(
    tries=st.integers(1, 100_000),
    draw=st.floats(0.0, 1.0, exclude_max=True),
    base_s=st.floats(0.01, 60.0),
    cap_s=st.floats(1.0, 3600.0),
    retry_after_s=st.one_of(st.none(), st.floats(0.0, 7200.0)),
)
def test_delays_stay_within_their_bounds(
    tries: int, draw: float, base_s: float, cap_s: float, retry_after_s: float | None
) -> None:
    delay = retry_delay(tries, lambda: draw, base_s, cap_s, retry_after_s)
    floor = retry_after_s or 0.0
    assert floor <= delay <= max(floor, min(cap_s, base_s * 2.0 ** min(tries - 1, 1000)))
    if retry_after_s is None:
        assert 0.0 <= delay <= cap_s
