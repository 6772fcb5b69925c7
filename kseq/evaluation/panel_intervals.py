"""Conformal intervals for panel forecasts: residuals of the validation part (and of earlier
held-out windows), each series' divided by its own scale, pooled across series per step ahead
(`ConformalIntervals`)."""

import numpy as np
import pandas as pd

from kseq.evaluation.conformal_intervals import ConformalIntervals
from kseq.evaluation.panel_metrics import seasonal_scales


def measure_series_scales(panel, season_length):
    """``(num_series,)`` scale of each series of `panel`: MASE's (the in-sample MAE of the
    seasonal naive forecast); where that is undefined (constant at the lag, too short), the
    MAE of the one-step naive forecast; 1 for a constant series."""
    scales = seasonal_scales(panel, season_length)
    for i in np.flatnonzero(~np.isfinite(scales)):
        history = panel.series(i).astype("float64")
        lag_one = np.mean(np.abs(np.diff(history))) if len(history) > 1 else 0.0
        scales[i] = lag_one if lag_one > 0 else 1.0
    return pd.Series(scales, index=panel.ids.astype(str))


def _by_step(truth, forecasts, column, scales):
    """The validation points as `ConformalIntervals.fit` takes them: ``truth`` ``(points,)``
    and ``forecasts`` ``(points, steps)`` with each point's forecast in the column of its
    step ahead (one origin per series), both divided by the series' scale."""
    joined = truth.merge(forecasts[["unique_id", "ds", column]], on=["unique_id", "ds"])
    joined = joined.sort_values(["unique_id", "ds"], kind="stable")
    step = joined.groupby("unique_id", sort=False).cumcount().to_numpy()
    scale = scales.reindex(joined["unique_id"].astype(str)).to_numpy()
    matrix = np.full((len(joined), step.max() + 1), np.nan)
    matrix[np.arange(len(joined)), step] = joined[column].to_numpy() / scale
    return joined["y"].to_numpy() / scale, matrix


def calibrate_panel_intervals(truth, forecasts, history, season_length, levels, columns):
    """Conformal intervals of each forecast column, from held-out forecasts.

    Args:
        truth: long frame (``unique_id``, ``ds``, ``y``) of points the forecasts did not see.
        forecasts: long frame with the forecast `columns`, from the end of `history`.
        history: the `Panel` the forecasts were made from (the series' scales).
        season_length: the seasonal lag of the scale.
        levels: nominal coverages, e.g. ``(0.8, 0.95)``.
        columns: ``{name: column}``: the intervals to fit and the forecasts they come from
            (``{"chosen": "ets"}``).

    Returns:
        ``{name: ConformalIntervals}`` in units of each series' scale.
    """
    scales = measure_series_scales(history, season_length)
    intervals = {}
    for name, column in columns.items():
        values, matrix = _by_step(truth, forecasts, column, scales)
        intervals[name] = ConformalIntervals.fit(values, matrix, levels)
    return intervals


def add_panel_bounds(forecasts, intervals, history, season_length):
    """Adds ``{name}-lo-{level}`` and ``{name}-hi-{level}`` (statsforecast's names, level in
    percent) for each of `intervals` (``{name: ConformalIntervals}``, the forecasts in column
    `name`) to a long frame of forecasts after the end of `history`; returns the frame."""
    scales = measure_series_scales(history, season_length)
    step = forecasts.groupby("unique_id", sort=False)["ds"].rank(method="first")
    steps_ahead = step.to_numpy().astype("int64")
    scale = scales.reindex(forecasts["unique_id"].astype(str)).to_numpy()
    for name, calibration in intervals.items():
        point = forecasts[name].to_numpy() / scale
        for level in calibration.levels:
            low, high = calibration.bounds(point, level, steps_ahead)
            label = f"{100 * level:g}"
            forecasts[f"{name}-lo-{label}"] = low * scale
            forecasts[f"{name}-hi-{label}"] = high * scale
    return forecasts
