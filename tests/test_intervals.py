"""Conformal intervals from held-out residuals (`kseq.evaluation.conformal_intervals`)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from kseq.evaluation.conformal_intervals import ConformalIntervals


def test_each_step_gets_its_scale_and_the_pool_one_quantile():
    # Step 1 misses by +-1, step 2 by +-2: normalised, every residual is 1.
    truth = np.zeros(6)
    forecasts = np.stack([np.tile([1.0, -1.0], 3), np.tile([-2.0, 2.0], 3)], axis=1)
    intervals = ConformalIntervals.fit(truth, forecasts, levels=(0.5, 0.8))
    np.testing.assert_allclose(intervals.scale, [1.0, 2.0])
    assert intervals.quantiles == (1.0, 1.0) and intervals.num_residuals == 12
    low, high = intervals.bounds(np.array([10.0, 10.0]), 0.8)
    np.testing.assert_allclose(low, [9.0, 8.0])
    np.testing.assert_allclose(high, [11.0, 12.0])
    # One-step forecasts of many points all use the first step's width.
    low, high = intervals.bounds(np.full(3, 5.0), 0.5, steps_ahead=1)
    np.testing.assert_allclose(high - low, 2.0)


def test_the_quantile_is_the_finite_sample_conformal_rank():
    residuals = np.arange(1.0, 10.0)  # nine one-step residuals
    intervals = ConformalIntervals.fit(residuals, np.zeros((9, 1)), levels=(0.8, 0.5, 0.95))
    scale = math.sqrt(np.mean(residuals**2))
    # ceil(10 * 0.8) = 8th smallest, ceil(10 * 0.5) = 5th; ceil(10 * 0.95) = 10 > 9: unbounded.
    assert intervals.quantiles[0] == pytest.approx(8 / scale)
    assert intervals.quantiles[1] == pytest.approx(5 / scale)
    assert intervals.quantiles[2] == math.inf
    low, high = intervals.bounds(np.zeros(1), 0.8)
    np.testing.assert_allclose([low[0], high[0]], [-8.0, 8.0])


def test_later_steps_are_never_narrower_and_missing_residuals_are_skipped():
    truth = np.zeros(4)
    forecasts = np.array([[2.0, np.nan], [-2.0, 1.0], [2.0, -1.0], [-2.0, np.nan]])
    intervals = ConformalIntervals.fit(truth, forecasts, levels=(0.8,))
    np.testing.assert_allclose(intervals.scale, [2.0, 2.0])  # step 2's RMS of 1 is raised
    assert intervals.num_residuals == 6


def test_multiplicative_intervals_scale_with_the_forecast():
    truth = np.full(4, 100.0)
    forecasts = 100.0 * np.exp(np.array([[0.1], [-0.1], [0.1], [-0.1]]))
    intervals = ConformalIntervals.fit(truth, forecasts, levels=(0.5,), multiplicative=True)
    np.testing.assert_allclose(intervals.scale, [0.1])
    low, high = intervals.bounds(np.array([50.0]), 0.5)
    np.testing.assert_allclose([low[0], high[0]], [50 * math.exp(-0.1), 50 * math.exp(0.1)])
    with pytest.raises(ValueError, match="positive"):
        ConformalIntervals.fit(-truth, forecasts, multiplicative=True)


def test_coverage_on_new_draws_is_close_to_nominal():
    # Residuals that grow with the step, drawn independently: the calibrated intervals must
    # cover about their level of fresh draws from the same law.
    rng = np.random.default_rng(0)
    sigma = np.sqrt(np.arange(1, 13))
    held_out = rng.normal(size=(500, 12)) * sigma
    intervals = ConformalIntervals.fit(np.zeros(500), held_out, levels=(0.8, 0.95))
    fresh = rng.normal(size=(4000, 12)) * sigma
    for level in (0.8, 0.95):
        low, high = intervals.bounds(np.zeros((4000, 12)), level, steps_ahead=np.arange(1, 13))
        covered = ((fresh >= low) & (fresh <= high)).mean()
        assert abs(covered - level) < 0.02, (level, covered)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"levels": (1.2,)}, "in \\(0, 1\\)"),
        ({"forecasts": np.zeros((3, 2))}, "one row per truth value"),
        ({"forecasts": np.full((4, 2), np.nan)}, "No held-out residual for step 1"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    arguments = {"truth": np.zeros(4), "forecasts": np.zeros((4, 2)), **kwargs}
    with pytest.raises(ValueError, match=message):
        ConformalIntervals.fit(**arguments)
    intervals = ConformalIntervals.fit(np.zeros(4), np.ones((4, 2)), levels=(0.8,))
    with pytest.raises(ValueError, match="1 to 2 steps ahead"):
        intervals.bounds(np.zeros(3), 0.8)


class _NaiveForecaster:
    """Stands in for trained members: every forecast repeats the origin's last value."""

    context_length = 3
    head = SimpleNamespace(is_probabilistic=False)

    def predict_origins(self, values, origins, steps):
        return np.repeat(values[origins - 1][:, None, :], steps, axis=1)


def _expected_rows(series, start, stop, steps, context):
    """The held-out rows of one window, written out with loops: each point's naive forecast
    from every origin 1 to `steps` steps before it (the origins the calibration reads)."""
    first = max(start - steps + 1, context)
    rows = np.full((stop - start, steps), np.nan)
    for point in range(start, stop):
        for ahead in range(1, steps + 1):
            origin = point - ahead + 1
            if first <= origin:
                rows[point - start, ahead - 1] = series[origin - 1]
    return series[start:stop], rows


def test_the_validation_part_s_residuals_are_the_pool():
    from kseq.data.split import Split
    from kseq.pipeline.evaluate import calibrate_intervals

    rng = np.random.default_rng(0)
    series = np.exp(np.cumsum(rng.normal(0.01, 0.05, size=60)) + 3)
    values = series[:, None]
    recipe = SimpleNamespace(
        evaluation=SimpleNamespace(intervals=[0.8, 0.95]),
        training=SimpleNamespace(train_on="train"),
        transforms=SimpleNamespace(log=True),
    )
    data = SimpleNamespace(values=values, split=Split(slice(0, 40), slice(40, 50), slice(50, 60)))
    steps = 6
    intervals, note = calibrate_intervals(_NaiveForecaster(), data, recipe, steps)
    assert note is None and set(intervals) == {"kseq"}
    # Every validation point forecast 1..steps ahead from before it, computed here.
    truth, rows = _expected_rows(series, 40, 50, steps, 3)
    expected = ConformalIntervals.fit(truth, rows, (0.8, 0.95), multiplicative=True)
    model = intervals["kseq"]
    assert model.num_windows == 1 and model.num_residuals == expected.num_residuals == 60
    np.testing.assert_allclose(model.scale, expected.scale)
    np.testing.assert_allclose(model.quantiles, expected.quantiles)
    assert ConformalIntervals.from_dict(model.to_dict()) == model


def test_intervals_saved_before_windows_were_counted_read_as_one_window():
    saved = ConformalIntervals.fit(np.ones(4), np.ones((4, 2)), (0.8,)).to_dict()
    del saved["num_windows"]
    assert ConformalIntervals.from_dict(saved).num_windows == 1
