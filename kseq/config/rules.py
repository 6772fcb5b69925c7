"""Rules across keys: what one key allows given the others (a head's intervals, refit and a
validation part, a panel's keys, a backend's limits)."""

import dataclasses

import pandas as pd

from kseq.config.schema import (
    AR1_UNUSED_TRAINING,
    BASELINES,
    PANEL_BASELINES,
    PANEL_CLASSICAL,
    TrainingSection,
    field_default,
)
from kseq.errors import TORCH_DATA_PARALLEL, ConfigError

# [data] keys that only a file source reads.
FILE_KEYS = ("path", "time_column", "target_columns", "feature_columns")


def check_data_keys(data, source):
    """`[data]` keys the source does not read, and the frequency alias."""
    file_keys = [k for k in FILE_KEYS if getattr(data, k) is not None]
    if data.source not in ("csv", "panel") and file_keys:
        # Silently reading the bundled series instead of the user's file would be worse.
        raise ConfigError(
            f"{source}: [data] {', '.join(file_keys)} "
            f"{'describes' if len(file_keys) == 1 else 'describe'} a file, which source = "
            f"{data.source!r} does not read (the default source is the bundled "
            "AirPassengers series). Set [data] source = 'csv' for one series (or 'panel' for "
            "a long file), or remove the key."
        )
    if data.freq is not None:
        try:
            pd.tseries.frequencies.to_offset(data.freq)
        except ValueError:
            raise ConfigError(
                f"{source}: [data] freq = {data.freq!r} is not a pandas frequency alias; e.g. "
                "'MS' (month start), 'ME' (month end), 'QS', 'W', 'D', 'h'."
            ) from None


def check_forecast(recipe, source):
    data = recipe.data
    levels = recipe.evaluation.intervals
    if (
        any(isinstance(q, bool) or not isinstance(q, (int, float)) for q in levels)
        or any(not 0 < q < 1 for q in levels)
        or len(set(levels)) != len(levels)
    ):
        raise ConfigError(
            f"{source}: [evaluation] intervals must list distinct coverages in (0, 1), e.g. "
            f"[0.8, 0.95], or be []; received {levels!r}."
        )
    check_data_keys(data, source)
    if data.is_panel:
        if data.related is not None:
            raise ConfigError(
                f"{source}: [data] related adds series to a single series' training; a panel "
                "recipe trains one global model on all of its series already — put them in the "
                "panel."
            )
        _check_panel(recipe, source)
        return
    if data.related is not None and data.source == "sine":
        raise ConfigError(
            f"{source}: [data] related needs dated series to cut where the training part ends; "
            "the synthetic sines have no dates."
        )
    if recipe.evaluation.choice_origins != 1:
        raise ConfigError(
            f"{source}: [evaluation] choice_origins applies to panel recipes (source = 'panel'); "
            "a single series' recipe chooses on its validation part."
        )
    if recipe.model.series_embedding or recipe.data.static_columns:
        raise ConfigError(
            f"{source}: [model] series_embedding and [data] static_columns describe the series "
            "of a panel; a single series has neither."
        )
    if recipe.transforms.seasonal_adjust == 1:
        raise ConfigError(
            f"{source}: [transforms] seasonal_adjust is the season's length in steps (>= 2, "
            "e.g. 12 for monthly data), or 0 for none; received 1."
        )
    if recipe.transforms.scaler != "none":
        raise ConfigError(
            f"{source}: [transforms] scaler = {recipe.transforms.scaler!r} scales the series of "
            "a panel; a single series is scaled by [transforms] minmax."
        )
    if data.source == "csv":
        for key in ("path", "time_column", "target_columns"):
            if getattr(data, key) is None:
                raise ConfigError(f"{source}: [data] source = 'csv' needs [data] {key}.")
    for key in ("test", "validation"):
        value = getattr(recipe.split, key)
        if isinstance(value, int) and value < 0:
            raise ConfigError(f"{source}: [split] {key} must be >= 0; received {value}.")
        if isinstance(value, float) and not 0.0 < value < 1.0:
            raise ConfigError(
                f"{source}: [split] {key} as a fraction must be in (0, 1); received {value}."
            )
    _check_series_net(recipe, source)


def _check_series_net(recipe, source):
    """The transforms, net and training of a single series' recipe."""
    model, training = recipe.model, recipe.training
    feature_range = recipe.transforms.feature_range
    if feature_range is not None and (
        len(feature_range) != 2
        or not all(isinstance(v, (int, float)) for v in feature_range)
        or not feature_range[0] < feature_range[1]
    ):
        raise ConfigError(
            f"{source}: [transforms] minmax must be [low, high] with low < high, or false; "
            f"received {recipe.transforms.minmax!r}."
        )
    if model.num_layers is not None and isinstance(model.units, list) and len(model.units) != 1:
        raise ConfigError(
            f"{source}: [model] num_layers = {model.num_layers} repeats one width; units must be "
            f"a single number, not {model.units}."
        )
    if isinstance(model.units, list) and not model.units:
        raise ConfigError(f"{source}: [model] units must name at least one layer.")
    if model.forget_bias is not None and model.cell != "lstm":
        raise ConfigError(
            f"{source}: [model] forget_bias applies to cell = 'lstm' only; received cell = "
            f"{model.cell!r}."
        )
    levels = model.quantiles
    if (
        not levels
        or any(isinstance(q, bool) or not isinstance(q, (int, float)) for q in levels)
        or any(not 0 < q < 1 for q in levels)
        or levels != sorted(set(levels))
    ):
        raise ConfigError(
            f"{source}: [model] quantiles must be increasing levels in (0, 1); received {levels!r}."
        )
    if model.head == "quantile":
        _check_quantile_levels(recipe, source)
    if training.ensemble > 1 and model.head == "mixture":
        raise ConfigError(
            f"{source}: [training] ensemble = {training.ensemble} averages the members' outputs, "
            "which is wrong for mixture parameters; use ensemble = 1 or head = 'quantile'."
        )
    if training.refit and (training.train_on != "train" or not _has_validation(recipe)):
        raise ConfigError(
            f"{source}: [training] refit = true retrains on train + validation for the epochs "
            "that scored best on validation; it needs a validation part ([split] validation > "
            "0) and train_on = 'train'."
        )
    for baseline in recipe.evaluation.baselines:
        if baseline not in BASELINES:
            raise ConfigError(
                f"{source}: [evaluation] baselines has {baseline!r}; choose from "
                f"{', '.join(BASELINES)}."
            )


def _has_validation(recipe):
    """Whether the recipe has a validation part (set, or left out to be chosen from the data)."""
    return bool(recipe.split.validation) or "split.validation" in recipe.auto


def _check_quantile_levels(recipe, source):
    if recipe.evaluation.interval is None:
        return  # no intervals: the head's quantiles are not scored
    levels = recipe.model.quantiles
    missing = [q for q in recipe.evaluation.interval_levels if not _has_level(levels, q)]
    if missing:
        raise ConfigError(
            f"{source}: [evaluation] intervals starts with {recipe.evaluation.interval}, the "
            "quantile head's own interval, which needs the quantile levels "
            f"{list(recipe.evaluation.interval_levels)}; [model] quantiles = {levels} lacks "
            f"{missing}. Add them, or put a level they bound first in evaluation.intervals."
        )


def _check_panel(recipe, source):
    data, split, evaluation = recipe.data, recipe.split, recipe.evaluation
    if recipe.transforms.seasonal_adjust:
        raise ConfigError(
            f"{source}: [transforms] seasonal_adjust (seasonal adjustment) is built for a "
            "single series; a panel's global model reads the season from its calendar "
            "features. Remove the key."
        )
    if data.source == "panel" and data.path is None:
        raise ConfigError(f"{source}: [data] source = 'panel' needs [data] path (a long CSV).")
    for key in ("test", "validation"):
        value = getattr(split, key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                f"{source}: [split] {key} of a panel is a number of points per series; "
                f"received {value!r}."
            )
    auto = recipe.auto  # left out: chosen from the panel so that these checks hold
    if split.test < 1 and "split.test" not in auto:
        raise ConfigError(f"{source}: [split] test must be >= 1 point per series for a panel.")
    if split.test > recipe.windows.horizon and not {"split.test", "windows.horizon"} & auto:
        raise ConfigError(
            f"{source}: [split] test = {split.test} is longer than [windows] horizon = "
            f"{recipe.windows.horizon}; the global model forecasts its horizon directly."
        )
    if recipe.model.head not in ("point", "quantile") or recipe.model.builder != "forecaster":
        raise ConfigError(
            f"{source}: panels train builder = 'forecaster' with head = 'point' or 'quantile' "
            f"for now; received builder = {recipe.model.builder!r}, head = "
            f"{recipe.model.head!r}."
        )
    if recipe.model.head == "quantile":
        _check_quantile_levels(recipe, source)
    _check_panel_columns(data, source)
    if evaluation.choice_origins > 1 and not (evaluation.choose and _has_validation(recipe)):
        raise ConfigError(
            f"{source}: [evaluation] choice_origins = {evaluation.choice_origins} scores the "
            "choice on validation windows; it needs choose = true and [split] validation > 0."
        )
    if any(not isinstance(c, str) for c in data.static_columns):
        raise ConfigError(
            f"{source}: [data] static_columns must list column names; received "
            f"{data.static_columns!r}."
        )
    for baseline in evaluation.baselines:
        if baseline not in PANEL_BASELINES:
            raise ConfigError(
                f"{source}: [evaluation] baselines has {baseline!r}; for panels choose from "
                f"{', '.join(PANEL_BASELINES)} (statsforecast's, and kseq's pretrained network)."
            )
    if evaluation.choose:
        if split.validation < split.test and not {"split.test", "split.validation"} & auto:
            raise ConfigError(
                f"{source}: [evaluation] choose = true picks a method on the validation part; "
                f"set [split] validation >= test ({split.test}), or choose = false."
            )
        if not set(evaluation.baselines) & set(PANEL_CLASSICAL):
            raise ConfigError(
                f"{source}: [evaluation] choose = true compares kseq with the classical models "
                "and their combinations; add 'ets' (or 'theta', 'arima') to [evaluation] "
                "baselines, or set choose = false."
            )


def _check_panel_columns(data, source):
    """Keys that read or fix a long CSV's columns, refused for the bundled panel."""
    if data.missing != "raise" and data.source not in ("panel", "csv"):
        raise ConfigError(
            f"{source}: [data] missing fills a CSV's NaN or gaps (source = 'csv' or 'panel'); "
            f"{data.source} has none. Remove the key."
        )
    if data.static_columns and data.source != "panel":
        raise ConfigError(
            f"{source}: [data] static_columns reads columns of a long CSV (source = 'panel'); "
            f"{data.source} has none."
        )


def _has_level(levels, level):
    return any(abs(q - level) < 1e-9 for q in levels)


def check_ar1(raw, source):
    training = raw.get("training", {})
    defaults = {f.name: f for f in dataclasses.fields(TrainingSection)}
    for key in AR1_UNUSED_TRAINING:
        if key in training and training[key] != field_default(defaults[key]):
            raise ConfigError(
                f"{source}: [training] {key} does not apply to source = 'ar1' (fresh simulated "
                "paths every epoch); remove it."
            )
    weights = raw.get("data", {}).get("lag_weights", [0.0])
    if not weights or any(isinstance(w, bool) or not isinstance(w, (int, float)) for w in weights):
        raise ConfigError(f"{source}: [data] lag_weights must list numbers; received {weights!r}.")


def check_training(training, source, backend):
    if backend == "torch" and training.distribution == "data_parallel":
        raise ConfigError(f"{source}: {TORCH_DATA_PARALLEL}")
    start = training.start_from_epoch
    if start:
        if not training.early_stopping:
            raise ConfigError(
                f"{source}: [training] start_from_epoch = {start} only delays early stopping; "
                "set early_stopping = true or remove it."
            )
        if not start < training.epochs:
            raise ConfigError(
                f"{source}: [training] start_from_epoch must be between 0 and epochs - 1 "
                f"({training.epochs - 1}); received {start}."
            )
    steps = training.steps_per_execution
    if isinstance(steps, str) and steps != "auto":
        raise ConfigError(
            f'{source}: [training] steps_per_execution must be a positive integer or "auto"; '
            f"received {steps!r}."
        )
    if backend == "torch" and isinstance(steps, int) and steps > 1:
        # Keras's torch trainer raises deep inside compile(); say it in the recipe's terms.
        raise ConfigError(
            f"{source}: [training] steps_per_execution = {training.steps_per_execution}: "
            "Keras's PyTorch backend runs one step per call; set it to 1, or use the JAX or "
            "TensorFlow backend."
        )
