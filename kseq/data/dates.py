"""Dates after the end of a series: the one place future timestamps are made."""

import numpy as np
import pandas as pd

from kseq.errors import TimeIndexError


def make_future_index(index, steps):
    """The `steps` positions that follow `index`.

    Dates continue with the index's pandas frequency (``MS``, ``QS``, ``D``, ...), inferred
    when the index carries none, so a monthly series goes on at the first of each month.
    Numeric positions continue with their last step.

    Raises:
        TimeIndexError: the dates have no regular frequency to continue.
    """
    steps = int(steps)
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freq
        if freq is None and len(index) >= 3:
            freq = pd.DatetimeIndex(index, freq="infer").freq
        if freq is None:
            raise TimeIndexError(
                f"The dates ending {index[-1]} have no regular frequency, so forecast dates "
                "cannot be continued; resample the series to a regular frequency."
            )
        return pd.date_range(index[-1], periods=steps + 1, freq=freq, name=index.name)[1:]
    if len(index) < 2:
        return pd.Index(np.arange(1, steps + 1) + (index[-1] if len(index) else -1))
    step = index[-1] - index[-2]
    return pd.Index(index[-1] + step * np.arange(1, steps + 1), name=index.name)


def format_dates(index):
    """Positions as strings for JSON and CSV (dates as ``YYYY-MM-DD``, with a time if any)."""
    if isinstance(index, pd.DatetimeIndex):
        with_time = bool((index != index.normalize()).any())
        return [str(t) if with_time else t.strftime("%Y-%m-%d") for t in index]
    return [f"{v:.12g}" if isinstance(v, float) else str(v) for v in index.tolist()]
