"""Time-ordered train/validation/test splits."""

from typing import NamedTuple

import numpy as np
import pandas as pd

from kseq.errors import DataError, SeriesTooShortError


class Split(NamedTuple):
    """Positions of the three consecutive parts of a series, as slices.

    The parts never overlap and keep time order: ``train`` ends where ``validation`` starts,
    which ends where ``test`` starts. Fit every statistic on ``train`` only.
    """

    train: slice
    validation: slice
    test: slice

    def with_context(self, part, lookback):
        """Returns the slice of `part` extended back by `lookback` points of context.

        Windows cut from it have their targets inside the part and may read (but nothing
        fitted ever sees) the `lookback` points before it.
        """
        target = getattr(self, part)
        return slice(max(target.start - int(lookback), 0), target.stop)


def _size(spec, num_points, index, argument):
    if spec is None or (isinstance(spec, (int, np.integer)) and spec == 0):
        return 0
    if isinstance(spec, bool):
        raise TypeError(f"`{argument}` must be a count, a fraction or a date. Received: {spec!r}")
    if isinstance(spec, (int, np.integer)):
        if spec < 0:
            raise ValueError(f"`{argument}` must be >= 0. Received: {spec!r}")
        return int(spec)
    if isinstance(spec, float):
        if not 0.0 < spec < 1.0:
            raise ValueError(f"`{argument}` as a fraction must be in (0, 1). Received: {spec!r}")
        return int(round(spec * num_points))
    if index is None or not isinstance(index, pd.DatetimeIndex):
        raise TypeError(
            f"`{argument}`={spec!r} is a date, which needs data with a DatetimeIndex; pass a "
            "count or a fraction instead."
        )
    try:
        start = pd.Timestamp(spec)
    except ValueError:
        raise ValueError(f"`{argument}`={spec!r} is not a date, a count or a fraction.") from None
    if index.tz is not None and start.tz is None:
        start = start.tz_localize(index.tz)
    if len(index) and start > index[-1]:
        # Nothing would be left for this part: an empty test part scores nothing.
        raise DataError(
            f"`{argument}`={spec!r} starts after the last point ({index[-1]}), which leaves the "
            "part empty; choose a date inside the data."
        )
    return int(num_points - index.searchsorted(start, side="left"))


def split_series(data, *, test=None, validation=None):
    """Splits a series into consecutive train, validation and test parts.

    Each size is a count of points (`int`), a fraction of the series (`float` in (0, 1)) or,
    for data indexed by dates, the first timestamp of that part (a string or `Timestamp`).

    Example:

    >>> split = split_series(load_airpassengers(), test="1959-01", validation=12)
    >>> split.train, split.validation, split.test
    (slice(0, 108), slice(108, 120), slice(120, 144))

    Args:
        data: a `pandas.Series`/`DataFrame`, an array (time on axis 0) or an integer length.
        test: size of the last part.
        validation: size of the part before the test part. A date here is where validation
            starts.

    Returns:
        A `Split` of slices.
    """
    if isinstance(data, (int, np.integer)):
        num_points, index = int(data), None
    else:
        num_points, index = len(data), getattr(data, "index", None)
    num_test = _size(test, num_points, index, "test")
    if validation is not None and not isinstance(validation, (int, float, np.integer)):
        # A date marks where validation starts; its size runs up to the test part.
        num_validation = _size(validation, num_points, index, "validation") - num_test
        if num_validation < 0:
            raise DataError(f"validation start {validation!r} is after the test start {test!r}.")
    else:
        num_validation = _size(validation, num_points, index, "validation")
    num_train = num_points - num_test - num_validation
    if num_train < 1:
        raise SeriesTooShortError(
            f"The series has {num_points} points: too few for a test part of {num_test} and a "
            f"validation part of {num_validation} with any training data left."
        )
    return Split(
        train=slice(0, num_train),
        validation=slice(num_train, num_train + num_validation),
        test=slice(num_train + num_validation, num_points),
    )
