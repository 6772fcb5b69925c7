"""Stage 3, transform: a ``[transforms]`` section → an unfitted `TransformPipeline`; and the
leaks a recipe's fitting policy lets through."""

import numpy as np

from kseq.errors import DataError, SeriesTooShortError
from kseq.transforms import (
    Difference,
    LogTransform,
    MinMaxScale,
    SeasonalAdjust,
    TransformPipeline,
)


def build_transforms(section):
    """Log, then seasonal adjustment, then each difference lag, then MinMax scaling, as the
    section says."""
    steps = []
    if section.log:
        steps.append(LogTransform())
    if section.seasonal_adjust:
        steps.append(SeasonalAdjust(section.seasonal_adjust))
    for lag in section.difference:
        steps.append(Difference(lag))
    if section.feature_range is not None:
        steps.append(MinMaxScale(section.feature_range))
    return TransformPipeline(steps)


def fit_transforms(transforms, section, fit_values, values, columns=None):
    """Fits `transforms` on `fit_values`, after checking that every value of the series (the
    later parts are transformed too) suits them; the error speaks the recipe's words."""
    check_transforms(section, values, columns)
    transforms.fit(fit_values)
    return transforms


def check_transforms(section, values, columns=None):
    """Refuses a series the ``[transforms]`` section cannot transform, in the recipe's words;
    `columns` (the names of `values`' columns) to name the column at fault."""
    values = np.asarray(values, dtype="float64")
    if section.log and (values <= 0).any():
        where = "the series has"
        if values.ndim == 2 and columns is not None and len(columns) > 1:
            column = int(np.flatnonzero((values <= 0).any(axis=0))[0])
            values = values[:, column]
            where = f"column {columns[column]!r} has"
        raise DataError(
            f"[transforms] log = true needs positive values; {where} "
            f"{int((values <= 0).sum())} value(s) <= 0 (minimum {values.min():g}); turn the log "
            "off with --set transforms.log=false."
        )


def check_window_room(recipe, data):
    """Refuses a run whose training part (a `SplitSeries`'s) cannot give one window, in the
    recipe's words, before the backend is imported or anything trains."""
    train = data.values if recipe.training.train_on == "all" else data.train
    lost = build_transforms(recipe.transforms).context_length  # the differences' lags
    lookback, horizon = recipe.windows.lookback, recipe.windows.horizon
    if len(train) - lost < lookback + horizon:
        taken = f", {lost} of them taken by [transforms] difference" if lost else ""
        raise SeriesTooShortError(
            f"The training part has {len(train)} points{taken}; one window needs "
            f"[windows] lookback {lookback} + horizon {horizon} = {lookback + horizon}. Lower "
            "the lookback (--set windows.lookback=...) or shorten [split] validation and test."
        )
    season = recipe.transforms.seasonal_adjust
    if season and len(train) < 2 * season:
        raise SeriesTooShortError(
            f"The training part has {len(train)} points; [transforms] seasonal_adjust = "
            f"{season} estimates its seasonal indices from at least two seasons "
            f"({2 * season} points). Shorten [split] validation and test, or remove the key."
        )


def find_leaks(recipe):
    """What in the recipe lets the test period reach a fitted statistic (plain sentences)."""
    leaks = []
    if recipe.transforms.fit_on == "all":
        leaks.append("transforms (scaler) fitted on the whole series, test period included")
    if recipe.training.train_on == "all":
        leaks.append("model trained on windows of the whole series, test period included")
    return leaks
