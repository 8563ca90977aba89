"""Abandon feedback: the risk budget moves with every waiting call's fate, within its clamps."""

from __future__ import annotations

import math

import pytest

from dialer.pacing.controller import AbandonController


def test_budget_starts_above_target_and_steps_in_log_space() -> None:
    controller = AbandonController(0.02, gain=0.5, early_gain=0.0, start=2.0)
    assert controller.budget == pytest.approx(0.04)
    controller.observe(False)
    assert controller.budget == pytest.approx(0.04 * math.exp(0.5 * 0.02))
    controller.observe(True)
    assert controller.budget == pytest.approx(0.04 * math.exp(0.5 * 0.02 - 0.5 * 0.98))
    assert (controller.answered, controller.abandoned, controller.observed_rate) == (2, 1, 0.5)


def test_at_the_target_rate_the_budget_holds_still() -> None:
    controller = AbandonController(0.02, gain=0.5, early_gain=0.0, start=1.0)
    for i in range(500):
        controller.observe(i % 50 == 49)  # exactly 2 %
    assert controller.budget == pytest.approx(0.02)
    assert controller.observed_rate == pytest.approx(0.02)


def test_steps_start_large_and_shrink_to_the_gain_as_abandons_become_expected() -> None:
    controller = AbandonController(0.04, gain=0.25, early_gain=1.0, start=1.0)
    assert controller.step == 1.0  # nothing seen yet
    controller.observe(True)
    assert controller.budget == pytest.approx(0.04 * math.exp(-0.96))
    for answered in range(1, 75):
        assert controller.step == pytest.approx(1.0 / math.sqrt(1.0 + 0.04 * answered))
        controller.observe(False)
    assert controller.step == pytest.approx(0.5)  # 75 answered, 3 abandons expected: 1 / √(1 + 3)
    rise = 0.04 * sum(1.0 / math.sqrt(1.0 + 0.04 * n) for n in range(1, 75))
    assert controller.budget == pytest.approx(0.04 * math.exp(-0.96 + rise))
    for _ in range(300):
        controller.observe(False)
    assert controller.step == 0.25  # 375 answered, 15 expected: 1 / √16, and the gain from then on


def test_budget_is_clamped_both_ways() -> None:
    controller = AbandonController(0.02)
    for _ in range(100):
        controller.observe(True)
    assert controller.budget == pytest.approx(0.002)  # a tenth of the target: about progressive
    for _ in range(100_000):
        controller.observe(False)
    assert controller.budget == pytest.approx(0.5)  # min(0.5, 30 × target)


def test_zero_target_means_no_risk_at_all() -> None:
    controller = AbandonController(0.0)
    controller.observe(False)
    assert controller.budget == 0.0
    assert AbandonController(0.0).observed_rate == 0.0


def test_a_small_campaign_keeps_an_abandon_in_reserve() -> None:
    controller = AbandonController(0.03, reserve=1.0)
    assert controller.aim == 0.03  # nothing expected yet: the target
    controller.expect(200.0)  # 6 abandons allowed in all: keep one of them in hand
    assert controller.aim == pytest.approx(0.025)
    controller.expect(20.0)  # 0.6 allowed in all: none at all
    assert controller.aim == 0.0
    controller.expect(10_000.0)  # a big campaign: hardly below the target
    assert controller.aim == pytest.approx(0.0299)


def test_the_budget_is_steered_to_the_aim() -> None:
    controller = AbandonController(0.04, gain=0.5, early_gain=0.0, start=1.0)
    controller.expect(100.0)  # aim 3 %
    controller.observe(False)
    assert controller.budget == pytest.approx(0.04 * math.exp(0.5 * 0.03))
