"""Forecasts from a saved run (`kseq forecast`): load the forecaster, read the history it
forecasts from (the run's own data or a newer CSV with the same columns), forecast, date.
A panel run's saved ensemble forecasts every series (a long frame)."""

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from kseq.config import validate
from kseq.data import read_panel
from kseq.data.dates import count_steps, find_freq, format_dates, make_future_index
from kseq.errors import ConfigError, DataError, KseqWarning, TimeIndexError
from kseq.evaluation.combination import EQUAL_WEIGHT
from kseq.evaluation.conformal_intervals import ConformalIntervals
from kseq.evaluation.panel_baselines import BASELINE_CACHE
from kseq.evaluation.panel_intervals import add_panel_bounds
from kseq.forecaster import Forecaster
from kseq.pipeline.candidates import add_combinations, forecast_per_series, panel_intervals
from kseq.pipeline.evaluate import forecast_chosen, format_level
from kseq.pipeline.global_fit import is_saved_global_fit, load_global_fit
from kseq.pipeline.load import load_panel, load_series, speak_recipe
from kseq.pipeline.trust import describe_extrapolation
from kseq.pipeline.trust import warn as warn_trust
from kseq.pipeline.values import rename_old_candidate, rename_old_keys


def load_saved_run(run_dir):
    """The `Forecaster` of a run directory (or of its ``forecaster/`` folder) and its recipe."""
    run_dir = Path(run_dir)
    folder = run_dir / "forecaster" if (run_dir / "forecaster").is_dir() else run_dir
    forecaster = Forecaster.load(folder)
    extra = forecaster.saved_state_.get("extra", {})
    # Runs saved when the net's candidate was named "model" (now "kseq", as in panels).
    for key in ("weights", "intervals"):
        if key in extra:
            extra[key] = rename_old_keys(extra[key])
    if "chosen" in extra:
        extra["chosen"] = rename_old_candidate(extra["chosen"])
    raw = extra.get("recipe")
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
    try:
        return load_series(dataclasses.replace(data, path=str(csv)))
    except DataError as error:
        raise type(error)(speak_forecast(str(error))) from None


def speak_forecast(message):
    """`message` with a recipe's advice (``--set data.missing=...``, which `kseq forecast`
    does not take) turned into what a forecast can do: fix the file, or rerun the recipe."""
    recipe_words = 'set [data] missing = "ffill" or "interpolate" (--set data.missing=ffill)'
    return message.replace(
        recipe_words,
        "fill them in the file (the run reads them with its recipe's [data] missing; a run "
        'with missing = "ffill" or "interpolate" fills them itself)',
    )


def forecast_saved_run(run_dir, horizon=None, csv=None):
    """Forecasts `horizon` steps after the history (`None`: the steps the run was tested on);
    a DataFrame indexed by ``unique_id`` and ``ds``, with ``kseq``, ``chosen`` and their
    bounds, for a panel run as for a run of one series (`make_future_frame`)."""
    if horizon is not None and (
        isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1
    ):
        raise ConfigError(f"--horizon must be a positive number of steps; received {horizon!r}.")
    run_dir = Path(run_dir)
    folder = run_dir / "forecaster" if (run_dir / "forecaster").is_dir() else run_dir
    if is_saved_global_fit(folder):
        # The classical refits are cached next to the run folders, as the runs' baselines.
        cache_dir = run_dir.resolve().parent / BASELINE_CACHE
        return forecast_saved_panel(folder, horizon, csv, cache_dir=cache_dir)
    forecaster, recipe = load_saved_run(run_dir)
    if horizon is None:
        horizon = tested_steps(recipe, forecaster.horizon)
    series = read_history(recipe, csv)
    source = _name_history(csv)
    check_run_freq(source, find_freq(series.index), forecaster.saved_state_.get("extra", {}))
    features = list(series.columns[forecaster.num_targets :])
    if horizon > forecaster.horizon and features:
        raise ConfigError(
            f"--horizon {horizon} is past the net's horizon ({forecaster.horizon} steps): that "
            f"would feed forecasts back as inputs, and the feature columns {features} are not "
            f"forecast. Ask for at most {forecaster.horizon}, or run the recipe with a longer "
            "[windows] horizon."
        )
    # The dates first: a horizon past pandas' last date is refused before anything runs.
    future = make_future_index(series.index, horizon)
    warn_trust([describe_extrapolation(horizon, tested_steps(recipe, forecaster.horizon))])
    position = 0  # the run's own data starts where its transforms were fitted
    if csv is not None and forecaster.transforms.uses_position:
        position = locate_history(source, series.index, forecaster.saved_state_.get("extra", {}))
    try:
        forecasts = forecaster.predict(series.values, horizon, position=position)
    except DataError as error:
        # The forecaster speaks of its argument; say which data.
        message = str(error).replace("`history` has", "it has")
        raise type(error)(f"{source}: {message}") from None
    # The candidate the run chose on validation, when not the net: its baseline refitted on
    # the whole history (of the first target, which the baselines forecast).
    extra = forecaster.saved_state_.get("extra", {})
    chosen, net = extra.get("chosen"), np.asarray(forecasts)[:, 0]
    chosen_forecast = None
    if chosen not in (None, "kseq"):
        # Runs saved before combinations had weights recorded none: theirs were means.
        weight = extra.get("weights", {}).get(chosen, EQUAL_WEIGHT)
        chosen_forecast = forecast_chosen(
            chosen, net, series.values[:, 0], recipe.evaluation, weight
        )
    intervals = {k: ConformalIntervals.from_dict(v) for k, v in extra.get("intervals", {}).items()}
    targets = [str(c) for c in series.columns[: forecaster.num_targets]]
    return make_future_frame(targets, future, np.asarray(forecasts), chosen_forecast, intervals)


def make_future_frame(targets, dates, forecasts, chosen_forecast=None, intervals=None):
    """A run of one series' forecasts past the end in a panel forecast's columns, indexed by
    ``unique_id`` (each target) and ``ds``: ``kseq`` (`forecasts`, ``(steps, targets)``),
    ``chosen`` (`chosen_forecast`, the validation's pick; the net's when `None`) and their
    conformal bounds (`intervals`: ``{"kseq" | "chosen": ConformalIntervals}``; the net's
    around ``chosen`` when it is the net; NaN past the steps they were calibrated for). The
    pick and the intervals are the first target's, as the baselines are; other targets get
    the net's forecast alone."""
    steps, intervals = len(dates), dict(intervals or {})
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(targets, steps),
            "ds": format_dates(dates) * len(targets),
            "kseq": forecasts.T.ravel(),
        }
    )
    first = (frame["unique_id"] == targets[0]).to_numpy()
    values = {"kseq": forecasts[:, 0], "chosen": forecasts[:, 0]}
    if chosen_forecast is not None:
        values["chosen"] = np.asarray(chosen_forecast)
    elif "kseq" in intervals:
        intervals["chosen"] = intervals["kseq"]
    frame["chosen"] = np.where(first, np.resize(values["chosen"], len(frame)), np.nan)
    for name in ("kseq", "chosen"):
        for level in intervals[name].levels if name in intervals else ():
            # Calibrated for the steps the run validated; none past them (NaN).
            covered = min(steps, intervals[name].steps)
            bounds = intervals[name].bounds(values[name][:covered], level)
            for side, bound in zip(("lo", "hi"), bounds, strict=True):
                bound = np.r_[bound, np.full(steps - covered, np.nan)]
                column = np.where(first, np.resize(bound, len(frame)), np.nan)
                frame[f"{name}-{side}-{format_level(level)}"] = column
    return frame.set_index(["unique_id", "ds"])


def tested_steps(recipe, horizon):
    """The steps a run's test part scored: its ``[evaluation] test_steps``, else its test part
    (when a count), else the net's `horizon`."""
    test = recipe.split.test
    counted = test if isinstance(test, int) and not isinstance(test, bool) else 0
    return recipe.evaluation.test_steps or counted or horizon


def _name_history(csv):
    return f"--csv {csv}" if csv is not None else "The run's data"


def locate_history(source, index, extra):
    """Where a newer history (dated by `index`) starts, in steps from the start of the
    series the run's transforms were fitted on (``extra["start"]``): a seasonal adjustment
    reads each value's season from it."""
    freq = find_freq(index)
    start = extra.get("start")
    if start is None or freq is None:
        raise DataError(
            f"{source}: the run's [transforms] seasonal_adjust places each value in its season "
            "by its date, and this history or the run has no regular dates to do it with."
        )
    try:
        return count_steps(start, index[0], freq)
    except TimeIndexError as error:
        raise DataError(f"{source}: {error}") from None


def check_run_freq(source, freq, extra):
    """Refuses history on another frequency (an offset; `None`: undated) than the data the
    run was trained on (``extra["freq"]``, saved with the run; runs saved before it was
    recorded are not checked): the net's lookback, lags and calendar count the run's steps."""
    trained = extra.get("freq")
    if trained and freq is not None and freq != to_offset(trained):
        raise DataError(
            f"{source} is on frequency {freq.freqstr!r}; the run was trained on {trained!r} "
            "data, and its lookback, lags and calendar count those steps. Forecast data of the "
            "run's frequency, or run the recipe on this one."
        )


def read_panel_history(recipe, min_length, csv=None):
    """The panel to forecast from: the recipe's data, or `csv` (long format) read with the
    recipe's columns (``unique_id``, ``ds``, ``y`` for the bundled panel). Series too short to
    forecast from are an error, or skipped with a warning when the recipe skips short
    series."""
    data = recipe.data
    if csv is not None:
        data = dataclasses.replace(data, source="panel", path=str(csv))
        series_id = one_series_id(recipe, csv)
        if series_id is not None:
            return read_one_series(data, csv, series_id, min_length)
    panel = load_panel(data, min_length)
    if panel.skipped:
        warnings.warn(
            f'Not forecast (too short to forecast from, [data] on_short = "skip"): {panel.skipped}',
            KseqWarning,
            stacklevel=2,
        )
    return panel


def one_series_id(recipe, csv):
    """The series id of a panel-of-one run (`kseq.pipeline.load.make_panel_of_one`) when
    `csv` is a file of that one series (its columns, no id column); else `None`."""
    data = recipe.data
    if data.source != "panel" or data.path is None or not Path(data.path).is_file():
        return None
    if not str(csv).endswith(".csv") or data.id_column in _read_header(csv):
        return None
    ids = pd.read_csv(data.path, usecols=[data.id_column])[data.id_column].unique()
    return str(ids[0]) if len(ids) == 1 else None


def read_one_series(data, csv, series_id, min_length):
    """`csv` (one series, the run's time and target columns) as the run's panel of one."""
    try:
        frame = pd.read_csv(csv)
    except (OSError, ValueError) as error:
        raise DataError(f"--csv {csv} could not be read as CSV: {error}") from None
    frame.insert(0, data.id_column, series_id)
    try:
        return read_panel(
            frame,
            data.id_column,
            data.time_column or "ds",
            data.target_columns or "y",
            min_length=min_length,
            freq=data.freq,
            name=f"--csv {csv}",
            missing=data.missing,
            fill_gaps=data.missing,
        )
    except DataError as error:
        raise type(error)(speak_recipe(str(error))) from None


def _read_header(csv):
    try:
        return list(pd.read_csv(csv, nrows=0).columns)
    except (OSError, ValueError):
        return []  # the panel reader names what is wrong with the file


def forecast_saved_panel(folder, horizon, csv=None, *, cache_dir=None):
    """A panel run's forecasts `horizon` steps after each series: the ensemble's mean
    (``kseq``), the forecast of the method the run chose on its validation part (``chosen``;
    a classical model is refitted on the whole history), and the intervals: a quantile head's
    own, and the run's conformal intervals (``chosen-lo-80``, ...) scaled by each series'
    whole history. The refitted classical forecasts are cached in `cache_dir` (`None`: not
    cached)."""
    fit, extra = load_global_fit(folder)
    if "recipe" not in extra:
        raise DataError(f"{folder} records no recipe; it was not saved by `kseq run`.")
    recipe = validate(extra["recipe"], source=f"the recipe saved in {folder}")
    lookback, most = fit.members[0].lookback, fit.members[0].horizon
    horizon = min(recipe.split.test, most) if horizon is None else horizon
    if horizon > most:
        raise ConfigError(
            f"--horizon {horizon} is beyond what this run's net forecasts ({most} steps, its "
            "[windows] horizon): ask for at most that, or run the recipe with a longer horizon."
        )
    history = read_panel_history(recipe, lookback, csv)
    check_run_freq(_name_history(csv), to_offset(history.freq), extra)
    frame = fit.forecast(history, horizon, panel_intervals(recipe))
    chosen = extra.get("chosen", "kseq")
    if chosen != "kseq":
        # The classical models the choice names ("ets", "kseq+arima", "ets+theta+arima"),
        # refitted on the whole history. With `cache_dir`, keyed by the history's checksum and
        # the horizon: a second forecast from the same data does not refit AutoARIMA.
        classical = [name for name in chosen.split("+") if name != "kseq"]
        baselines = forecast_per_series(
            history, horizon, recipe.evaluation.season_length, classical, cache_dir
        )
        frame = frame.merge(baselines.frame, on=["unique_id", "ds"], validate="one_to_one")
        # Runs saved before combinations had weights recorded none: theirs were means.
        add_combinations(frame, [chosen], extra.get("weights"))
    frame["chosen"] = frame[chosen]
    intervals = {
        name: ConformalIntervals.from_dict(config)
        for name, config in extra.get("intervals", {}).items()
    }
    add_panel_bounds(frame, intervals, history, recipe.evaluation.season_length)
    return frame.set_index(["unique_id", "ds"])
