"""Seasonal adjustment by fixed per-phase indices (classical decomposition)."""

import numpy as np

from kseq.errors import SeriesTooShortError
from kseq.transforms._base import SeriesTransform, as_series_array


class SeasonalAdjust(SeriesTransform):
    """``z_t = x_t - s[(position + t) mod m]``: removes additive seasonal indices.

    After a log the indices are multiplicative seasonal factors in original units, as in
    ES-RNN's per-series seasonality (there smoothed and learned with the net; here fixed,
    estimated once on the values `fit` sees). The indices come from a classical
    decomposition: the centred moving average over one season (``2×m`` for an even `m`) is the
    trend, each phase's index is the mean of the values minus the trend at that phase, and the
    indices are centred to sum to zero (the level stays in the series).

    A value's phase is its position in the series the transform was fitted on, counted from
    the first fitted value: `transform` and `inverse_transform` take the position of their
    input's first step (``position``; one per row of a batch), so windows and forecasts cut
    anywhere in the series get their own months' indices.

    Args:
        season_length: ``m``, steps per season (12 for monthly data); at least 2.
        seasons: estimate the indices from the last `seasons` seasons of detrended values
            only (a seasonal pattern that drifts is better described by its recent years);
            `None`: from all of them. The centred average needs ``m // 2`` steps on either
            side, so the last detrended value is half a season before the end.
    """

    #: `transform` and `inverse_transform` need the position of their first step.
    uses_position = True

    def __init__(self, season_length=12, seasons=None):
        self.season_length = season_length
        self.seasons = seasons

    def fit(self, values, y=None, position=0):
        m = self.season_length
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
            raise ValueError(f"`season_length` must be an integer >= 2. Received: {m!r}")
        n = self.seasons
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
            raise ValueError(f"`seasons` must be a positive integer or None. Received: {n!r}")
        array, _ = as_series_array(values)
        if array.ndim != 2:
            raise ValueError(f"SeasonalAdjust fits one series (time, columns); got {array.shape}.")
        if len(array) < 2 * m:
            raise SeriesTooShortError(
                f"SeasonalAdjust(season_length={m}) needs at least {2 * m} steps (two seasons) "
                f"to estimate seasonal indices; received {len(array)}."
            )
        half = m // 2
        if m % 2:
            kernel = np.full(m, 1.0 / m)
        else:
            kernel = np.concatenate([[0.5], np.ones(m - 1), [0.5]]) / m
        # trend[i] is centred on step i + half: ``len(array) - 2 * half`` of them.
        trend = np.stack(
            [np.convolve(array[:, j], kernel, mode="valid") for j in range(array.shape[1])],
            axis=1,
        )
        detrended = array[half : len(array) - half] - trend
        phases = (int(position) + half + np.arange(len(detrended))) % m
        if n is not None:
            # The last `n` seasons (all there are when fewer; every phase has one at least).
            detrended, phases = detrended[-n * m :], phases[-n * m :]
        indices = np.stack([detrended[phases == p].mean(axis=0) for p in range(m)])
        self.indices_ = indices - indices.mean(axis=0)  # (m, columns)
        self.n_features_in_ = array.shape[-1]
        return self

    def _indices_at(self, array, position):
        """The indices of each step of `array` ``(time, cols)`` or ``(batch, time, cols)``,
        the first step at `position` (one per batch row, or one for all)."""
        m = int(self.season_length)
        steps = np.arange(array.shape[-2])
        position = np.asarray(position, dtype="int64")
        if array.ndim == 3:
            position = np.broadcast_to(position.reshape(-1), (array.shape[0],))[:, None]
        elif position.ndim:
            raise ValueError(f"`position` must be one integer for 2-D values; got {position!r}.")
        phases = (position + steps) % m  # (time,) or (batch, time)
        return self.indices_[phases][..., : array.shape[-1]]

    def transform(self, values, position=0):
        self._check_fitted()
        array, restore = as_series_array(values)
        self._check_columns(array)
        return restore(array - self._indices_at(array, position))

    def inverse_transform(self, values, context=None, position=0):
        """Adds the indices back; `values` may be the leading columns only (targets)."""
        self._check_fitted()
        array, restore = as_series_array(values)
        return restore(array + self._indices_at(array, position))

    def get_state(self):
        state = super().get_state()
        state["indices_"] = self.indices_.tolist()
        return state

    def set_state(self, state):
        super().set_state(state)
        self.indices_ = np.asarray(state["indices_"], dtype="float64")
        return self
