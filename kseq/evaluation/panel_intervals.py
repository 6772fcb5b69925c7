"""Conformal intervals for panel forecasts: residuals of the validation part's points, each
forecast from several origins before it (`kseq.pipeline.candidates.forecast_rolling`), each
series' divided by its own scale, pooled across series and steps with a scale per step ahead
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


def _by_step(rolling, column, scales, steps):
    """The held-out points as `ConformalIntervals.fit` takes them: ``truth`` ``(points,)``
    and ``forecasts`` ``(points, steps)``, column ``s`` each point's forecast from ``s + 1``
    steps before it (NaN where that origin is not among them), both divided by the series'
    scale."""
    table = rolling.pivot_table(index=["unique_id", "ds"], columns="step", values=column)
    table = table.reindex(columns=range(1, steps + 1))
    truth = rolling.groupby(["unique_id", "ds"])["y"].first().reindex(table.index)
    ids = table.index.get_level_values("unique_id").astype(str)
    scale = scales.reindex(ids).to_numpy()
    return truth.to_numpy() / scale, table.to_numpy() / scale[:, None]


def calibrate_panel_intervals(rolling, history, season_length, levels, columns, steps):
    """Conformal intervals of each forecast column, from held-out forecasts.

    Args:
        rolling: long frame (``unique_id``, ``ds``, ``step``, ``y`` and the forecast
            `columns`): points the forecasts did not see, each forecast from up to `steps`
            origins before it (``step``: 1 = one step ahead).
        history: the `Panel` before those points (the series' scales).
        season_length: the seasonal lag of the scale.
        levels: nominal coverages, e.g. ``(0.8, 0.95)``.
        columns: ``{name: column}``: the intervals to fit and the forecasts they come from
            (``{"chosen": "ets"}``).
        steps: the steps ahead the intervals are fitted for.

    Returns:
        ``{name: ConformalIntervals}`` in units of each series' scale.
    """
    scales = measure_series_scales(history, season_length)
    intervals = {}
    for name, column in columns.items():
        values, matrix = _by_step(rolling, column, scales, steps)
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
