"""Online estimators: forgetting rates, change detection, Kaplan–Meier durations with censoring."""

from __future__ import annotations

import math

import pytest

from dialer.pacing.estimators import EDGES, DecayingRate, DurationModel, ShiftingRate, bin_of


def test_rate_starts_at_its_prior_and_forgets_per_observation() -> None:
    rate = DecayingRate(prior=0.5, prior_weight=2.0, memory=4.0, memory_s=10.0)
    assert rate.value == 0.5
    rate.observe(True, 0.0)  # keep 0.75: yes 0.75 + 1, n 1.5 + 1
    assert rate.value == pytest.approx(1.75 / 2.5)
    rate.observe(False, 10.0)  # time would forget more (e^-1), the per-observation floor 0.75 wins
    assert rate.value == pytest.approx(1.3125 / 2.875)
    rate.observe(True, 10.0)  # no time passed: nothing forgotten
    assert rate.value == pytest.approx(2.3125 / 3.875)
    assert rate.weight == pytest.approx(3.875)


def test_busy_stream_remembers_by_time() -> None:
    rate = DecayingRate(prior=0.0, prior_weight=1.0, memory=2.0, memory_s=100.0)
    rate.observe(True, 0.0)  # first observation: keep 0.5 -> n = 1.5
    rate.observe(True, 1.0)  # keep max(0.5, e^-0.01)
    keep = math.exp(-0.01)
    assert rate.weight == pytest.approx(1.5 * keep + 1.0)
    assert rate.value == pytest.approx((1.0 * keep + 1.0) / (1.5 * keep + 1.0))


def test_shifting_rate_jumps_to_the_fast_estimate_on_a_real_change() -> None:
    rate = ShiftingRate(0.2, 10.0, slow=(1000.0, 1e-9), fast=(30.0, 1e-9), z=3.0)
    slow_alone = DecayingRate(0.2, 10.0, 1000.0, 1e-9)
    outcomes = [t % 5 == 0 for t in range(300)] + [True] * 60  # 20 %, then everyone answers
    for t, answered in enumerate(outcomes, start=1):
        rate.observe(answered, float(t))
        slow_alone.observe(answered, float(t))
        if t == 300:
            assert rate.shifts == 0
    assert rate.shifts >= 1
    assert rate.value > 0.8 > 0.4 > slow_alone.value


def test_shifting_rate_ignores_noise() -> None:
    rate = ShiftingRate(0.5, 10.0, slow=(1000.0, 1e-9), fast=(50.0, 1e-9), z=3.5)
    for t in range(1, 401):
        rate.observe(t % 2 == 0, float(t))
    assert rate.shifts == 0
    assert rate.value == pytest.approx(0.5, abs=0.01)


def test_fixed_duration_lands_in_its_half_second_bin() -> None:
    model = DurationModel(prior=(), prior_weight=0.0, memory=100.0)
    for _ in range(3):
        model.observe(10.2)
    survival = model.fit()
    assert (survival(10.0), survival(10.25), survival(10.5), survival(3.0)) == (1.0, 0.5, 0.0, 1.0)
    assert survival.mean() == pytest.approx(10.25)
    assert survival.horizon() == 10.5


def test_running_durations_are_censored_not_ignored() -> None:
    model = DurationModel(prior=(), prior_weight=0.0, memory=100.0)
    model.observe(10.2)
    survival = model.fit(running=[20.0])  # one ended at 10.2, one still running at 20
    assert survival(10.5) == pytest.approx(0.5)
    assert survival(30.0) == pytest.approx(0.5)
    assert model.fit()(10.5) == 0.0  # without the running one: all over by 10.5
    assert survival.mean() == pytest.approx(10.25 + 0.5 * 0.25)  # the flat tail ends with the data


def test_older_durations_weigh_less() -> None:
    model = DurationModel(prior=(), prior_weight=0.0, memory=2.0)  # each observation halves the others
    model.observe(1.2)
    model.observe(5.2)
    survival = model.fit()  # weights 0.5 and 1
    assert survival(3.0) == pytest.approx(2 / 3)
    assert survival(6.0) == 0.0


def test_prior_counts_until_data_outweighs_it() -> None:
    model = DurationModel(prior=(30.2,), prior_weight=1.0, memory=1000.0)
    assert (model.fit()(29.9), model.fit()(30.5)) == (1.0, 0.0)
    for _ in range(99):
        model.observe(10.2)
    keep = 1.0 - 1.0 / 1000.0
    data = sum(keep**i for i in range(99))
    assert model.fit()(20.0) == pytest.approx(keep**99 / (data + keep**99))


def test_grid_matches_pointwise_survival() -> None:
    model = DurationModel(prior=(4.0, 70.0, 300.0), prior_weight=3.0, memory=50.0)
    survival = model.fit()
    for start in (-2.0, 0.0, 3.3, 59.5, 61.2, 280.0):
        assert survival.grid(start, 0.5, 120) == pytest.approx(
            [survival(start + 0.5 * m) for m in range(120)]
        )


def test_bins_cover_six_hours() -> None:
    assert bin_of(0.0) == 0 and bin_of(59.9) == 119 and EDGES[120] == 60.0
    assert EDGES[bin_of(75.0)] <= 75.0 < EDGES[bin_of(75.0) + 1]
    assert bin_of(1e9) == len(EDGES) - 2
