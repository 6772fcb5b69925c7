"""Dates: which way numeric day/month dates are read, and the dates after the end of a series
(the one place future timestamps are made)."""

import re
import warnings

import numpy as np
import pandas as pd

from kseq.errors import DataWarning, TimeIndexError

# 01/02/2015, 1.2.15, 01-02-2015 10:00: a day and a month in an order the text does not say.
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?!\d)")


def find_dayfirst(times, sample, where):
    """Whether `times` (a column of date strings) are written day first.

    Returns `None` unless every value is written like ``01/02/2015`` (two numbers before the
    year). Then a first number above 12 means day first, a second above 12 month first; when
    neither exceeds 12 (monthly data on the 1st, say) both readings are made of `sample` (the
    dates of one series) and the one that is regular wins — month first, pandas' own reading,
    without a word, day first with a `DataWarning`. Both or neither regular, or both orders
    in one column: a `TimeIndexError` naming `where` (the column and file), since either
    reading could be silently wrong.
    """
    if not (pd.api.types.is_object_dtype(times) or pd.api.types.is_string_dtype(times)):
        return None
    values = times.dropna()
    # A look at the first values first: a long column of ISO dates costs next to nothing.
    if values.empty or not values.iloc[:1000].astype(str).str.match(_NUMERIC_DATE).all():
        return None
    text = pd.Series(pd.unique(values.astype(str)))
    parts = text.str.extract(_NUMERIC_DATE)
    if parts[0].isna().any():
        return None
    first, second = parts[0].astype(int), parts[1].astype(int)
    if (first > 12).any() and (second > 12).any():
        raise TimeIndexError(
            f"{where} has dates written day first ({text[first > 12].iloc[0]!r}) and month "
            f"first ({text[second > 12].iloc[0]!r}); write them all as YYYY-MM-DD."
        )
    if (first > 12).any() or (second > 12).any():
        return bool((first > 12).any())
    sample = pd.Series(pd.unique(sample.dropna().astype(str)))
    readings = {
        dayfirst: pd.DatetimeIndex(
            pd.to_datetime(sample, dayfirst=dayfirst, format="mixed", errors="coerce")
        )
        for dayfirst in (False, True)
    }
    if readings[False].hasnans or readings[True].hasnans:
        return None  # 00/01/2015 and the like: the reader names the rows that are not dates
    if readings[False].equals(readings[True]):
        return False  # 01/01, 02/02, ...: the same either way
    regular = {d: regular_freq(index) is not None for d, index in readings.items()}
    which = int(np.flatnonzero(readings[True] != readings[False])[0])
    example, month_first, day_first = sample[which], readings[False][which], readings[True][which]
    if regular[False] != regular[True]:
        if regular[True]:
            warnings.warn(
                f"{where}: dates such as {example!r} are read day first ({day_first:%Y-%m-%d}): "
                "that reading is regular, month first is not. Write the dates as YYYY-MM-DD "
                "to leave no doubt.",
                DataWarning,
                stacklevel=3,
            )
        return regular[True]
    raise TimeIndexError(
        f"{where}: dates such as {example!r} read as {month_first:%Y-%m-%d} (month first) or "
        f"{day_first:%Y-%m-%d} (day first), and "
        f"{'both readings give' if regular[True] else 'neither reading gives'} a regular "
        "series; write the dates as YYYY-MM-DD."
    )


def regular_freq(index):
    """The frequency alias pandas infers from the distinct dates of `index` (any order), or
    `None`: fewer than three, a missing date, or no regular spacing."""
    if index.hasnans:
        return None
    try:
        return pd.infer_freq(index.sort_values().unique())
    except (TypeError, ValueError):
        return None


def find_freq(index):
    """The pandas frequency (an offset) of a `DatetimeIndex`: its own, or inferred from three
    or more dates; `None` for irregular dates or other indexes."""
    if not isinstance(index, pd.DatetimeIndex):
        return None
    freq = index.freq
    if freq is None and len(index) >= 3:
        freq = pd.DatetimeIndex(index, freq="infer").freq
    return freq


def make_future_index(index, steps):
    """The `steps` positions that follow `index`.

    Dates continue with the index's pandas frequency (``MS``, ``QS``, ``D``, ...), inferred
    when the index carries none, so a monthly series goes on at the first of each month.
    Numeric positions continue with their last step.

    Raises:
        TimeIndexError: the dates have no regular frequency to continue, or would end past
            the last date pandas can hold.
    """
    steps = int(steps)
    if isinstance(index, pd.DatetimeIndex):
        freq = find_freq(index)
        if freq is None:
            raise TimeIndexError(
                f"The dates ending {index[-1]} have no regular frequency, so forecast dates "
                "cannot be continued; resample the series to a regular frequency."
            )
        try:
            return pd.date_range(index[-1], periods=steps + 1, freq=freq, name=index.name)[1:]
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            raise TimeIndexError(
                f"{steps} steps of {freq.freqstr} after {index[-1]:%Y-%m-%d} end past "
                f"{pd.Timestamp.max:%Y-%m-%d}, the last date pandas can hold; ask for fewer "
                "steps."
            ) from None
    if len(index) < 2:
        return pd.Index(np.arange(1, steps + 1) + (index[-1] if len(index) else -1))
    step = index[-1] - index[-2]
    return pd.Index(index[-1] + step * np.arange(1, steps + 1), name=index.name)


def count_steps(start, stop, freq):
    """Steps of `freq` (a pandas offset) from date `start` to date `stop`; negative when
    `stop` comes first.

    Raises:
        TimeIndexError: `stop` does not lie on the grid of `freq` steps through `start`.
    """
    start, stop = pd.Timestamp(start), pd.Timestamp(stop)
    first, last = sorted((start, stop))
    grid = pd.date_range(first, last, freq=freq)
    if not len(grid) or grid[0] != first or grid[-1] != last:
        raise TimeIndexError(
            f"{stop} is not a whole number of {freq.freqstr!r} steps from {start}; the dates "
            "must continue the series' calendar."
        )
    return len(grid) - 1 if stop >= start else 1 - len(grid)


def format_dates(index):
    """Positions as strings for JSON and CSV (dates as ``YYYY-MM-DD``, with a time if any)."""
    if isinstance(index, pd.DatetimeIndex):
        with_time = bool((index != index.normalize()).any())
        return [str(t) if with_time else t.strftime("%Y-%m-%d") for t in index]
    return [f"{v:.12g}" if isinstance(v, float) else str(v) for v in index.tolist()]
