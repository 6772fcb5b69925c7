"""Classical per-series baselines for panels, from statsforecast (fast, parallel), cached.

Forecasts are cached per model in a CSV keyed by the panel's checksum, the horizon and the
season length, so a second run at the same cutoff reuses them (AutoARIMA on 148 long monthly
series takes minutes).
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kseq._io import write_text_atomic
from kseq.errors import MissingDependencyError

# kseq's names -> statsforecast's model classes and their column names.
_MODELS = {
    "seasonal_naive": ("SeasonalNaive", "SeasonalNaive"),
    "ets": ("AutoETS", "AutoETS"),
    "theta": ("AutoTheta", "AutoTheta"),
    "arima": ("AutoARIMA", "AutoARIMA"),
}
PANEL_BASELINES = tuple(_MODELS)
# The cache folder, next to the run folders (one cache for every run of an output folder).
BASELINE_CACHE = ".kseq-baseline-cache"


@dataclass(frozen=True)
class BaselineForecasts:
    """Long forecasts (``unique_id``, ``ds``, one column per baseline) and the seconds each
    took (0 when read from the cache)."""

    frame: pd.DataFrame
    seconds: dict = field(default_factory=dict)
    cached: list = field(default_factory=list)
    # Sentences for the run card (how a model was fitted, where that matters).
    notes: list = field(default_factory=list)
    # The pretrained network as fine-tuned on the history, when it is among the baselines.
    network: object = None


def forecast_baselines(
    panel, horizon, season_length, names, *, cache_dir=None, n_jobs=2, fallback_naive=False
):
    """Forecasts `horizon` steps after each series' end with each baseline in `names`.

    Args:
        panel: the history (a `kseq.data.Panel`); every model is fitted on it only.
        horizon: steps to forecast.
        season_length: the season of the seasonal models.
        names: baselines from `PANEL_BASELINES`.
        cache_dir: folder of cached forecasts (`None`: no cache).
        n_jobs: statsforecast's parallel processes.
        fallback_naive: where a model cannot be fitted (AutoETS on a series of a few points),
            forecast that series with the naive forecast instead of raising (statsforecast's
            ``fallback_model``; the competition benchmarks do this).
    """
    try:
        import statsforecast  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "Panel baselines need statsforecast: run `pip install 'kseq[classical]'`."
        ) from None
    frame = panel.to_frame()
    key = f"{panel.checksum()[:16]}-h{horizon}-m{season_length}" + ("-fb" if fallback_naive else "")
    seconds, cached, columns = {}, [], {}
    for name in names:
        path = None if cache_dir is None else Path(cache_dir) / f"{name}-{key}.csv"
        if path is not None and path.is_file():
            columns[name] = pd.read_csv(path, parse_dates=["ds"], dtype={"unique_id": str})
            seconds[name] = 0.0
            cached.append(name)
            continue
        tick = time.perf_counter()
        columns[name] = _forecast_one(
            frame, panel.freq, horizon, season_length, name, n_jobs, fallback_naive
        )
        seconds[name] = round(time.perf_counter() - tick, 2)
        if path is not None:
            write_text_atomic(path, columns[name].to_csv(index=False))
    merged = None
    for part in columns.values():
        part["unique_id"] = part["unique_id"].astype(str)
        merged = part if merged is None else merged.merge(part, on=["unique_id", "ds"])
    return BaselineForecasts(merged, seconds, cached)


def _make_forecaster(freq, season_length, names, n_jobs, fallback_naive=False):
    import statsforecast.models as models
    from statsforecast import StatsForecast

    chosen = [getattr(models, _MODELS[name][0])(season_length=season_length) for name in names]
    fallback = models.Naive() if fallback_naive else None
    return StatsForecast(models=chosen, freq=freq, n_jobs=n_jobs, fallback_model=fallback)


def _name_columns(out, names, keys=("unique_id", "ds")):
    """statsforecast's output with kseq's column names, float, checked finite."""
    out = out.reset_index() if "unique_id" not in out.columns else out
    out = out.rename(columns={_MODELS[name][1]: name for name in names})[[*keys, *names]]
    for name in names:
        out[name] = out[name].astype("float64")
        if not np.isfinite(out[name]).all():
            bad = out.loc[~np.isfinite(out[name]), "unique_id"].unique()
            raise ValueError(f"{name} gave non-finite forecasts for series {list(bad[:5])}.")
    out["unique_id"] = out["unique_id"].astype(str)
    return out


def _forecast_one(frame, freq, horizon, season_length, name, n_jobs, fallback_naive):
    import warnings

    forecaster = _make_forecaster(freq, season_length, [name], n_jobs, fallback_naive)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = forecaster.forecast(df=frame, h=horizon)
    return _name_columns(out, [name])


def forecast_baselines_rolling(
    panel, steps, origins, season_length, names, *, cache_dir=None, n_jobs=2
):
    """Each baseline's `steps` forecasts from each of the last `origins` points of every
    series of `panel` (the last origin is the point before its end), the model fitted once on
    the series before the first origin (statsforecast's ``cross_validation`` without refit):
    a long frame ``unique_id``, ``ds``, ``cutoff`` (the origin's date), ``step`` (1 = one step
    ahead) and a column per baseline, only the rows of points of `panel`. Cached per model in
    `cache_dir` as `forecast_baselines` caches its forecasts.

    The panel's last points are forecast from every origin up to ``steps`` before them, which
    is what conformal intervals calibrate on.
    """
    key = f"{panel.checksum()[:16]}-h{steps}-m{season_length}-o{origins}"
    merged = None
    for name in names:
        path = None if cache_dir is None else Path(cache_dir) / f"{name}-rolling-{key}.csv"
        if path is not None and path.is_file():
            part = pd.read_csv(path, parse_dates=["ds", "cutoff"], dtype={"unique_id": str})
        else:
            part = _forecast_rolling_one(panel, steps, origins, season_length, name, n_jobs)
            if path is not None:
                write_text_atomic(path, part.to_csv(index=False))
        keys = ["unique_id", "ds", "cutoff", "step"]
        merged = part if merged is None else merged.merge(part, on=keys)
    return merged


def _forecast_rolling_one(panel, steps, origins, season_length, name, n_jobs):
    import warnings

    frame = panel.to_frame()
    frame["unique_id"] = frame["unique_id"].astype(str)
    last = frame.groupby("unique_id", sort=False).tail(1)
    # statsforecast forecasts whole windows only: each series is padded with `steps - 1`
    # copies of its last value, which no forecast reads (without refit, a window's forecast
    # reads the history up to its origin alone) and whose rows are dropped below.
    offset = pd.tseries.frequencies.to_offset(panel.freq)
    padding = [last.assign(ds=last["ds"] + k * offset) for k in range(1, steps)]
    padded = pd.concat([frame, *padding], ignore_index=True)
    padded = padded.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)
    forecaster = _make_forecaster(panel.freq, season_length, [name], n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = forecaster.cross_validation(
            df=padded, h=steps, n_windows=origins, step_size=1, refit=False
        )
    out = _name_columns(out, [name], keys=("unique_id", "ds", "cutoff"))
    out = out.sort_values(["unique_id", "cutoff", "ds"], kind="stable", ignore_index=True)
    out["step"] = out.groupby(["unique_id", "cutoff"], sort=False).cumcount() + 1
    ends = last.set_index("unique_id")["ds"]
    return out[out["ds"] <= out["unique_id"].map(ends)].reset_index(drop=True)
