"""Abandon feedback: the risk budget moves with every waiting call's fate, within its clamps."""

from __future__ import annotations

import math

import pytest

from dialer.pacing.controller import AbandonController


def test_budget_starts_above_target_and_steps_in_log_space() -> None:
    controller = AbandonController(0.02, gain=0.5, start=2.0)
    assert controller.budget == pytest.approx(0.04)
    controller.observe(False)
    assert controller.budget == pytest.approx(0.04 * math.exp(0.5 * 0.02))
    controller.observe(True)
    assert controller.budget == pytest.approx(0.04 * math.exp(0.5 * 0.02 - 0.5 * 0.98))
    assert (controller.answered, controller.abandoned, controller.observed_rate) == (2, 1, 0.5)


def test_at_the_target_rate_the_budget_holds_still() -> None:
    controller = AbandonController(0.02, gain=0.5, start=1.0)
    for i in range(500):
        controller.observe(i % 50 == 49)  # exactly 2 %
    assert controller.budget == pytest.approx(0.02)
    assert controller.observed_rate == pytest.approx(0.02)


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
