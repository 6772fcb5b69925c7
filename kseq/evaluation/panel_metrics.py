"""Per-series and aggregate scores of panel forecasts (plain functions over arrays)."""

import re

import numpy as np
import pandas as pd

from kseq.evaluation.metrics import seasonal_scale

# Interval bounds in a forecast frame, named as statsforecast names them: ``kseq-lo-80``.
_BOUND = re.compile(r"^(?P<method>.+)-(?P<side>lo|hi)-(?P<level>\d+(\.\d+)?)$")


def is_bound(column):
    """Whether a forecast column is an interval bound (``kseq-lo-80``), not a method."""
    return _BOUND.match(column) is not None


def measure_panel_coverage(truth, forecasts, method="kseq"):
    """``{"80": share of truth inside, ...}`` over every series and step, for each interval
    of `method` in `forecasts` (columns ``kseq-lo-80``, ``kseq-hi-80``)."""
    joined = truth.merge(forecasts, on=["unique_id", "ds"], how="left", validate="one_to_one")
    coverage = {}
    for column in forecasts.columns:
        match = _BOUND.match(column)
        if match and match["method"] == method and match["side"] == "lo":
            level = match["level"]
            high = joined[f"{method}-hi-{level}"]
            inside = (joined["y"] >= joined[column]) & (joined["y"] <= high)
            coverage[level] = float(inside.mean())
    return coverage


def seasonal_scales(panel, season_length):
    """``(num_series,)`` MASE's scale of each series of `panel` (`seasonal_scale`); NaN
    where a series is constant at that lag or too short."""
    return np.array(
        [seasonal_scale(panel.series(i), season_length) for i in range(len(panel))],
        dtype="float64",
    ).reshape(len(panel))


def list_unscaled(panel, season_length):
    """Ids of the series whose MASE is undefined after `panel` (`seasonal_scales` is NaN:
    the seasonal naive forecast fits the history exactly, or it is too short for one)."""
    return [str(sid) for sid in panel.ids[np.isnan(seasonal_scales(panel, season_length))]]


def score_panel(truth, forecasts, history, season_length):
    """Scores every method column of `forecasts` against `truth`.

    Args:
        truth: long DataFrame ``unique_id``, ``ds``, ``y``.
        forecasts: long DataFrame ``unique_id``, ``ds`` and one column per method.
        history: the `Panel` before the forecasts (MASE's in-sample scale), or
            ``{unique_id: values}`` of the series scored.
        season_length: the seasonal lag of MASE's scale.

    Returns:
        One row per series and method: ``unique_id``, ``method``, ``mase``, ``smape`` (%).
    """
    joined = truth.merge(forecasts, on=["unique_id", "ds"], how="left", validate="one_to_one")
    methods = [c for c in forecasts.columns if c not in ("unique_id", "ds") and not is_bound(c)]
    missing = joined[methods].isna().any(axis=1)
    if missing.any():
        ids = list(joined.loc[missing, "unique_id"].unique()[:5])
        raise ValueError(f"Forecasts are missing for series {ids}.")
    if isinstance(history, dict):
        scale = {str(sid): seasonal_scale(values, season_length) for sid, values in history.items()}
        scale = pd.Series(scale, dtype="float64")
    else:
        scale = pd.Series(seasonal_scales(history, season_length), index=history.ids.astype(str))
    rows = []
    for method in methods:
        error = (joined[method] - joined["y"]).abs()
        grouped = pd.DataFrame(
            {
                "unique_id": joined["unique_id"],
                "mae": error,
                "smape": 200 * error / (joined["y"].abs() + joined[method].abs()),
            }
        ).groupby("unique_id", sort=False)
        per = grouped.mean()
        rows.append(
            pd.DataFrame(
                {
                    "unique_id": per.index,
                    "method": method,
                    "mase": (per["mae"] / scale.reindex(per.index)).to_numpy(),
                    "smape": per["smape"].to_numpy(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def summarise_scores(scores):
    """``{"mase": {method: mean}, "smape": {method: mean}}`` over series (NaN scores, from
    constant series, are left out of the means and become `None` when all are NaN)."""
    means = scores.groupby("method", sort=False)[["mase", "smape"]].mean()
    return {
        metric: {
            method: (None if np.isnan(value) else float(value))
            for method, value in means[metric].items()
        }
        for metric in ("mase", "smape")
    }
