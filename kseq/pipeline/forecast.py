"""Forecasts from a saved run (`kseq forecast`): load the forecaster, read the history it
forecasts from (the run's own data or a newer CSV with the same columns), forecast, date."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from kseq.data.dates import make_future_index
from kseq.errors import ConfigError, DataError
from kseq.forecaster import Forecaster
from kseq.pipeline.load import load_series
from kseq.recipes.config import validate


def load_saved_run(run_dir):
    """The `Forecaster` of a run directory (or of its ``forecaster/`` folder) and its recipe."""
    run_dir = Path(run_dir)
    folder = run_dir / "forecaster" if (run_dir / "forecaster").is_dir() else run_dir
    forecaster = Forecaster.load(folder)
    raw = forecaster.saved_state_.get("extra", {}).get("recipe")
    if raw is None:
        raise DataError(f"{folder} records no recipe; it was not saved by `kseq run`.")
    return forecaster, validate(raw, source=f"the recipe saved in {folder}")


def read_history(recipe, csv=None):
    """The series to forecast from: the recipe's data, or `csv` read with its columns."""
    if csv is None:
        return load_series(recipe.data, recipe.recipe.seed)
    data = recipe.data
    if data.source != "csv":
        raise ConfigError(
            "--csv needs a run whose recipe read a CSV file (it names the time and target "
            f"columns); this run's data source is {data.source!r}."
        )
    # The same columns and fill rules as the run, from the newer file.
    return load_series(dataclasses.replace(data, path=str(csv)))


def forecast_saved_run(run_dir, horizon, csv=None):
    """Forecasts `horizon` steps after the history; a DataFrame indexed by the future dates."""
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ConfigError(f"--horizon must be a positive number of steps; received {horizon!r}.")
    forecaster, recipe = load_saved_run(run_dir)
    series = read_history(recipe, csv)
    forecasts = forecaster.predict(series.values, horizon)
    future = make_future_index(series.index, horizon)
    frame = pd.DataFrame(
        np.asarray(forecasts), index=future, columns=series.columns[: forecaster.num_targets]
    )
    frame.index.name = series.index.name or "time"
    return frame
