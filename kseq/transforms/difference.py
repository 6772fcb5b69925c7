"""Differencing at a lag (1 for trend, the season length for seasonality)."""

import numpy as np

from kseq.errors import SeriesTooShortError
from kseq.transforms._base import SeriesTransform, as_series_array


class Difference(SeriesTransform):
    """``z_t = x_t - x_{t-lag}``: the output is `lag` steps shorter than the input.

    The output's first step is the input's step ``lag``. `inverse_transform` rebuilds levels
    from differences and the `lag` original values just before them (``context``).

    Args:
        lag: the differencing lag (``1``; ``12`` for monthly seasonality).
    """

    def __init__(self, lag=1):
        self.lag = lag

    @property
    def context_length(self):
        return int(self.lag)

    def fit(self, values, y=None):
        if isinstance(self.lag, bool) or int(self.lag) != self.lag or self.lag < 1:
            raise ValueError(f"`lag` must be a positive integer. Received: {self.lag!r}")
        array, _ = as_series_array(values)
        self._check_length(array)
        self.n_features_in_ = array.shape[-1]
        return self

    def _check_length(self, array):
        if array.shape[-2] <= self.lag:
            raise SeriesTooShortError(
                f"Difference(lag={self.lag}) needs more than {self.lag} steps; received "
                f"{array.shape[-2]}."
            )

    def transform(self, values):
        self._check_fitted()
        array, restore = as_series_array(values)
        self._check_columns(array)
        self._check_length(array)
        return restore(array[..., self.lag :, :] - array[..., : -self.lag, :])

    def inverse_transform(self, values, context=None):
        """Rebuilds levels from differences.

        Args:
            values: differences, shape ``(time, columns)`` or ``(batch, time, columns)``.
            context: original values preceding them, same layout, at least `lag` steps.

        Returns:
            Levels of the same shape as `values`.
        """
        self._check_fitted()
        if context is None:
            raise ValueError(
                f"Difference(lag={self.lag}).inverse_transform needs `context`: the {self.lag} "
                "original values just before the differences."
            )
        array, restore = as_series_array(values)
        history, _ = as_series_array(context)
        if history.shape[-2] < self.lag:
            raise ValueError(
                f"`context` must hold at least {self.lag} steps. Received {history.shape[-2]}."
            )
        lag = int(self.lag)
        num_steps = array.shape[-2]
        history = np.broadcast_to(
            history[..., -lag:, :], array.shape[:-2] + (lag,) + array.shape[-1:]
        )
        levels = np.concatenate([history, np.zeros_like(array)], axis=-2)
        # x_t = z_t + x_{t-lag}, one block of `lag` steps at a time.
        for start in range(0, num_steps, lag):
            stop = min(start + lag, num_steps)
            levels[..., lag + start : lag + stop, :] = (
                array[..., start:stop, :] + levels[..., start : start + stop - start, :]
            )
        return restore(levels[..., lag:, :])
