"""Natural-log transform."""

import numpy as np

from kseq.errors import DataError
from kseq.transforms._base import SeriesTransform, as_series_array


class LogTransform(SeriesTransform):
    """``log(x + offset)``; the inverse is ``exp(z) - offset``.

    Multiplicative seasonality (AirPassengers) becomes additive on the log scale.

    Args:
        offset: added before the log; values plus offset must be positive.
    """

    def __init__(self, offset=0.0):
        self.offset = offset

    def fit(self, values, y=None):
        array, _ = as_series_array(values)
        self._check_positive(array)
        self.n_features_in_ = array.shape[-1]
        return self

    def _check_positive(self, array):
        shifted = array + self.offset
        if (shifted <= 0).any():
            count = int((shifted <= 0).sum())
            raise DataError(
                f"LogTransform needs values + offset > 0; {count} value(s) are not (minimum "
                f"{float(array.min()):g} with offset={float(self.offset):g}); pass a larger "
                "`offset` or drop the log."
            )

    def transform(self, values):
        self._check_fitted()
        array, restore = as_series_array(values)
        self._check_columns(array)
        self._check_positive(array)
        return restore(np.log(array + self.offset))

    def inverse_transform(self, values, context=None):
        self._check_fitted()
        array, restore = as_series_array(values)
        return restore(np.exp(array) - self.offset)
