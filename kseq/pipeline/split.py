"""Stage 2, split: `SeriesData` → `SplitSeries` (cut at ``[split] end``, time-ordered parts)."""

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
