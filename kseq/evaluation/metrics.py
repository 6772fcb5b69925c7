"""Forecast metrics and naive baselines, in original units (NumPy only)."""

import numpy as np


def _pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"Shapes differ: y_true {y_true.shape} and y_pred {y_pred.shape}.")
    return y_true, y_pred


def mae(y_true, y_pred):
    """Mean absolute error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def rmse(y_true, y_pred):
    """Root mean squared error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mape(y_true, y_pred):
    """Mean absolute percentage error, in percent; NaN where any y_true is 0 (undefined)."""
    y_true, y_pred = _pair(y_true, y_pred)
    if (y_true == 0).any():
        return float("nan")
    return float(100.0 * np.mean(np.abs((y_true - y_pred) / y_true)))


def smape(y_true, y_pred):
    """Symmetric MAPE, in percent: ``200·|y - ŷ| / (|y| + |ŷ|)`` averaged; a term with
    ``y = ŷ = 0`` counts as 0 (a perfect forecast)."""
    y_true, y_pred = _pair(y_true, y_pred)
    total = np.abs(y_true) + np.abs(y_pred)
    terms = np.divide(
        2.0 * np.abs(y_true - y_pred), total, out=np.zeros_like(total), where=total > 0
    )
    return float(100.0 * np.mean(terms))


def seasonal_scale(history, season_length=1):
    """MASE's scale: the in-sample MAE of the seasonal naive forecast of `history` (the
    series before the forecast origin); NaN where it is 0 (a history that repeats its
    seasons exactly) or `history` is no longer than one season."""
    history = np.asarray(history, dtype="float64")
    if len(history) <= season_length:
        return float("nan")
    scale = float(np.mean(np.abs(history[season_length:] - history[:-season_length])))
    return scale if scale > 0 else float("nan")


def mase(y_true, y_pred, history, season_length=1):
    """Mean absolute scaled error: MAE over `seasonal_scale` of `history`; NaN where that
    scale is undefined."""
    y_true, y_pred = _pair(y_true, y_pred)
    scale = seasonal_scale(history, season_length)
    if scale != scale:
        return float("nan")
    return float(np.mean(np.abs(y_true - y_pred)) / scale)


def msis(y_true, lower, upper, level, history, season_length=1):
    """Mean scaled interval score (the M4 competition's interval metric) of the central
    `level` interval ``[lower, upper]``: the interval's width plus ``2 / (1 - level)`` times
    each miss's distance, averaged and divided by `seasonal_scale` of `history`; lower is
    better, and an interval is not rewarded for being wide (unbounded: infinite). NaN where
    the scale is undefined."""
    y_true, lower = _pair(y_true, lower)
    _, upper = _pair(y_true, upper)
    if not 0.0 < level < 1.0:
        raise ValueError(f"`level` must be in (0, 1). Received: {level!r}")
    penalty = 2.0 / (1.0 - level)
    below = np.maximum(lower - y_true, 0.0)
    above = np.maximum(y_true - upper, 0.0)
    scale = seasonal_scale(history, season_length)
    if scale != scale:
        return float("nan")
    return float(np.mean(upper - lower + penalty * (below + above)) / scale)


def score(y_true, y_pred, history, season_length=1):
    """Returns every metric as a dict: MAE, RMSE, MAPE, sMAPE, MASE."""
    return {
        "mae": mae(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "mape": mape(y_true, y_pred),
        "smape": smape(y_true, y_pred),
        "mase": mase(y_true, y_pred, history, season_length),
    }


def naive_forecast(history, steps):
    """Repeats the last value: ``(steps, columns)``."""
    history = np.asarray(history, dtype="float64").reshape(len(history), -1)
    return np.repeat(history[-1:], steps, axis=0)


def seasonal_naive_forecast(history, steps, season_length):
    """Repeats the last season: ``ŷ_{T+h} = y_{T+h-m·k}``, ``(steps, columns)``."""
    history = np.asarray(history, dtype="float64").reshape(len(history), -1)
    if len(history) < season_length:
        raise ValueError(
            f"Seasonal naive needs {season_length} points of history; received {len(history)}."
        )
    last = history[-season_length:]
    return np.resize(last, (steps, history.shape[1])) if steps else last[:0]
