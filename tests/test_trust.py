"""Where a result cannot be trusted: the thresholds, computed here from their definitions."""

import math

import pytest

from kseq.pipeline.trust import (
    COVERAGE_SIGMAS,
    FEW_WINDOWS,
    count_windows,
    describe_coverage,
    describe_extrapolation,
    describe_few_windows,
)


def test_windows_are_counted_and_a_few_are_named():
    # 30 points, 2 taken by differencing, lookback 6 and horizon 3: starts 0 .. 28 - 9.
    assert count_windows(30, 6, 3, context_length=2) == len(range(28 - 9 + 1))
    assert count_windows(5, 6, 3) == 0
    assert "3 window(s)" in describe_few_windows(3)
    assert describe_few_windows(FEW_WINDOWS) is None


@pytest.mark.parametrize("share", [0.08, 0.40, 0.75, 0.80, 1.0])
def test_coverage_far_from_nominal_is_named(share):
    n = 24
    spread = COVERAGE_SIGMAS * math.sqrt(0.8 * 0.2 / n) + 1 / n
    notes = describe_coverage({"24-step": {"80": share}}, {"24-step": n})
    assert bool(notes) == (abs(share - 0.8) > spread)
    if share == 0.08:  # the default AirPassengers run's 24-step band, before it was named
        assert "held 8 % of the 24 test points" in notes[0] and "too narrow" in notes[0]


def test_a_forecast_far_past_the_tested_steps_is_named():
    assert describe_extrapolation(24, 12) is None
    assert "25 steps is more than 2 times the 12 steps" in describe_extrapolation(25, 12)
