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
            columns[name] = pd.read_csv(path, parse_dates=["ds"])
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
        merged = part if merged is None else merged.merge(part, on=["unique_id", "ds"])
    merged["unique_id"] = merged["unique_id"].astype(str)
    return BaselineForecasts(merged, seconds, cached)


def _forecast_one(frame, freq, horizon, season_length, name, n_jobs, fallback_naive):
    import warnings

    import statsforecast.models as models
    from statsforecast import StatsForecast

    class_name, column = _MODELS[name]
    model = getattr(models, class_name)(season_length=season_length)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fallback = models.Naive() if fallback_naive else None
        forecaster = StatsForecast(
            models=[model], freq=freq, n_jobs=n_jobs, fallback_model=fallback
        )
        out = forecaster.forecast(df=frame, h=horizon)
    out = out.reset_index() if "unique_id" not in out.columns else out
    out = out.rename(columns={column: name})[["unique_id", "ds", name]]
    out[name] = out[name].astype("float64")
    if not np.isfinite(out[name]).all():
        bad = out.loc[~np.isfinite(out[name]), "unique_id"].unique()
        raise ValueError(f"{name} gave non-finite forecasts for series {list(bad[:5])}.")
    return out
