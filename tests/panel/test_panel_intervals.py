"""Conformal intervals of panel forecasts: per-series scale, per-step width, coverage."""

import numpy as np
import pandas as pd
import pytest

from kseq.data import read_panel
from kseq.evaluation.conformal_intervals import ConformalIntervals
from kseq.evaluation.panel_intervals import add_panel_bounds, calibrate_panel_intervals

SERIES, HISTORY, STEPS, SEASON = 300, 36, 6, 12


def make_case(seed):
    """A panel of histories of very different levels, forecasts after each, and the truth:
    forecast + (the series' seasonal-naive MAE) × N(0, 1 + step / 2)."""
    rng = np.random.default_rng(seed)
    levels = rng.uniform(1, 100, SERIES)
    ids = [f"s{i:03d}" for i in range(SERIES)]
    rows, truth, forecasts = [], [], []
    for sid, level in zip(ids, levels, strict=True):
        history = level * (10 + np.cumsum(rng.normal(size=HISTORY)))
        dates = pd.date_range("2010-01-01", periods=HISTORY + STEPS, freq="MS")
        rows.append(pd.DataFrame({"unique_id": sid, "ds": dates[:HISTORY], "y": history}))
        scale = np.mean(np.abs(history[SEASON:] - history[:-SEASON]))
        point = np.full(STEPS, history[-1])
        noise = rng.normal(size=STEPS) * (1 + np.arange(1, STEPS + 1) / 2)
        future = dates[HISTORY:]
        forecasts.append(pd.DataFrame({"unique_id": sid, "ds": future, "kseq": point}))
        truth.append(pd.DataFrame({"unique_id": sid, "ds": future, "y": point + scale * noise}))
    history = read_panel(pd.concat(rows, ignore_index=True))
    return history, pd.concat(truth, ignore_index=True), pd.concat(forecasts, ignore_index=True)


def make_rolling(truth, forecasts):
    """The calibration frame of forecasts made at one origin: each point at its step."""
    rolling = truth.merge(forecasts, on=["unique_id", "ds"])
    rolling["step"] = rolling.groupby("unique_id").cumcount() + 1
    return rolling


def test_panel_intervals_cover_fresh_draws_and_scale_with_each_series():
    history, truth, forecasts = make_case(0)
    intervals = calibrate_panel_intervals(
        make_rolling(truth, forecasts), history, SEASON, (0.8, 0.95), {"kseq": "kseq"}, STEPS
    )
    calibration = intervals["kseq"]
    assert calibration.num_residuals == SERIES * STEPS
    assert list(calibration.scale) == sorted(calibration.scale)  # wider further ahead

    # The same histories and forecasts, fresh errors: coverage near nominal.
    _, fresh_truth, _ = make_case(0)
    rng = np.random.default_rng(1)
    scales = {
        sid: np.mean(np.abs(history.series(i)[SEASON:] - history.series(i)[:-SEASON]))
        for i, sid in enumerate(history.ids)
    }
    step = np.tile(np.arange(1, STEPS + 1), SERIES)
    scale = fresh_truth["unique_id"].map(scales).to_numpy()
    fresh_truth["y"] = forecasts["kseq"].to_numpy() + scale * rng.normal(size=len(step)) * (
        1 + step / 2
    )
    bounded = add_panel_bounds(forecasts.copy(), intervals, history, SEASON)
    for level, label in ((0.8, "80"), (0.95, "95")):
        low, high = bounded[f"kseq-lo-{label}"], bounded[f"kseq-hi-{label}"]
        inside = ((fresh_truth["y"] >= low) & (fresh_truth["y"] <= high)).mean()
        assert inside == pytest.approx(level, abs=0.03)
    # Each series' width is its scale times the step's width: the same in scale units.
    width = (bounded["kseq-hi-80"] - bounded["kseq-lo-80"]).to_numpy() / scale
    np.testing.assert_allclose(
        width.reshape(SERIES, STEPS), width[:STEPS][None].repeat(SERIES, 0), rtol=1e-5
    )
    assert (np.diff(width[:STEPS]) >= 0).all()


def test_each_point_counts_at_every_step_it_was_forecast_from():
    """One series, its last 4 points each forecast from the 3 origins before it: 12
    residuals, each in the column of its step, the series' scale divided out."""
    rng = np.random.default_rng(2)
    y = 50 + np.cumsum(rng.normal(size=40))
    dates = pd.date_range("2000-01-01", periods=40, freq="MS")
    history = read_panel(pd.DataFrame({"unique_id": "a", "ds": dates[:36], "y": y[:36]}))
    rows, matrix = [], np.full((4, 3), np.nan)
    for point in range(36, 40):
        for step in (1, 2, 3):
            forecast = y[point - step] + step  # anything made before the point
            rows.append({"unique_id": "a", "ds": dates[point], "step": step, "y": y[point]})
            rows[-1]["kseq"] = forecast
            matrix[point - 36, step - 1] = forecast
    intervals = calibrate_panel_intervals(
        pd.DataFrame(rows), history, SEASON, (0.8,), {"kseq": "kseq"}, 3
    )
    scale = np.mean(np.abs(y[SEASON:36] - y[: 36 - SEASON]))
    expected = ConformalIntervals.fit(y[36:] / scale, matrix / scale, (0.8,))
    calibrated = intervals["kseq"]
    assert calibrated.num_residuals == expected.num_residuals == 12
    np.testing.assert_allclose(calibrated.quantiles, expected.quantiles, rtol=1e-6)
    np.testing.assert_allclose(calibrated.scale, expected.scale, rtol=1e-6)
