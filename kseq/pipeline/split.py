"""Stage 2, split: `SeriesData` → `SplitSeries` (cut at ``[split] end``, time-ordered parts)."""

import numpy as np
import pandas as pd

from kseq.data import split_series
from kseq.errors import ConfigError
from kseq.pipeline.values import SeriesData, SplitSeries


def cut_series(index, values, end):
    """Keeps the series up to `end`: a count of points, or the last date kept (inclusive)."""
    if end is None:
        return index, values
    if isinstance(end, int):
        if not 1 <= end <= len(values):
            raise ConfigError(
                f"[split] end = {end} must be between 1 and the series length {len(values)}."
            )
        stop = end
    else:
        if not isinstance(index, pd.DatetimeIndex):
            raise ConfigError(
                f"[split] end = {end!r} is a date, but this series has no dates; use a count."
            )
        try:
            stamp = pd.Timestamp(end)
        except ValueError:
            raise ConfigError(f"[split] end = {end!r} is not a date.") from None
        stop = int(index.searchsorted(stamp, side="right"))
        if stop == 0:
            raise ConfigError(f"[split] end = {end!r} is before the first point {index[0]}.")
    return index[:stop], values[:stop]


def split_run(series, section):
    """Cuts `series` at ``section.end`` and splits it into train, validation and test."""
    index, values = cut_series(series.index, series.values, section.end)
    cut = SeriesData(index, values, series.columns, series.num_targets)
    try:
        split = split_series(
            pd.Series(values[:, 0], index=index), test=section.test, validation=section.validation
        )
    except (ValueError, TypeError) as error:
        # The library speaks of arguments; say which recipe keys to change.
        message = (
            str(error)
            .replace("`test`=", "[split] test = ")
            .replace("`validation`=", "[split] validation = ")
        )
        raise type(error)(
            f"{message.rstrip('.')}; set it in the recipe's [split] section or with "
            "--set split.test=... / --set split.validation=..."
        ) from None
    return SplitSeries(cut, split)


def list_reasons(reasons, shown=5):
    """``"id: why; id: why (and N more)"`` for an error message naming series."""
    listed = "; ".join(f"{sid}: {why}" for sid, why in list(reasons.items())[:shown])
    more = f" (and {len(reasons) - shown} more)" if len(reasons) > shown else ""
    return listed + more


def cut_panel(panel, end, min_length, on_short="raise"):
    """Keeps each series of `panel` up to `end` (its last date, inclusive; `None`: all).

    A series that ends before `end` has no points at the cut's test dates, and one left with
    fewer than `min_length` points has no room for its windows, validation and test parts:
    each is an error naming it, or with ``on_short="skip"`` left out and listed in
    `Panel.skipped` (the run card reports them)."""
    if end is None:
        return panel
    if isinstance(end, int):
        raise ConfigError(
            f"[split] end = {end} is a count; a panel's series end on different dates, so its "
            'end is a date (the last one kept), e.g. end = "2015-12-01".'
        )
    try:
        stamp = pd.Timestamp(end)
        counts = panel.count_until(stamp)
    except ValueError:
        raise ConfigError(f"[split] end = {end!r} is not a date.") from None
    reasons = {}
    ends = panel.end_dates()
    for i in np.flatnonzero(ends < stamp):
        reasons[panel.ids[i]] = f"ends on {ends[i].date()}, before [split] end {end}"
    for i in np.flatnonzero(counts < min_length):
        reasons.setdefault(
            panel.ids[i],
            f"{counts[i]} points up to [split] end {end}; needs {min_length} (lookback + "
            "horizon + validation + test)",
        )
    if reasons and on_short != "skip":
        raise ConfigError(
            f"[split] end = {end!r} leaves series without their test part: "
            f"{list_reasons(reasons)}. "
            'Choose an earlier end, or set [data] on_short = "skip" to leave them out (listed '
            "in the run card)."
        )
    if len(reasons) == len(panel):
        raise ConfigError(f"[split] end = {end!r} leaves no series with its test part.")
    return panel.drop(reasons).head(counts[~np.isin(panel.ids, list(reasons))])


def check_feature_steps(recipe, data):
    """Refuses, before anything trains, forecasts past the net's horizon when the series has
    feature columns: such a forecast feeds the net's outputs back as inputs, and the features'
    future values are not forecast."""
    features = list(data.series.columns[data.series.num_targets :])
    horizon, evaluation = recipe.windows.horizon, recipe.evaluation
    if not features:
        return
    test_steps = min(evaluation.test_steps or data.num_test, data.num_test)
    for key, steps in (
        ("[evaluation] test_steps (or the test part)", test_steps),
        ("[evaluation] forecast_steps", evaluation.forecast_steps),
    ):
        if steps > horizon:
            raise ConfigError(
                f"{key} asks for {steps} steps, past the net's [windows] horizon = {horizon}: "
                f"that would feed forecasts back as inputs, and the feature columns {features} "
                f"are not forecast. Set [windows] horizon = {steps} (a direct forecast), ask for "
                "fewer steps, or drop the feature columns."
            )
