"""MinMax scaling on scikit-learn's `MinMaxScaler`, with JSON state."""

import numpy as np
from sklearn.preprocessing import MinMaxScaler

from kseq.transforms._base import SeriesTransform, as_series_array

_STATE = ("min_", "scale_", "data_min_", "data_max_", "data_range_")


class MinMaxScale(SeriesTransform):
    """Scales each column to `feature_range` with statistics of the data it is fitted on.

    Fit it on the training part only: a scaler fitted on the whole series leaks the test
    period's range into training.

    Args:
        feature_range: ``(min, max)`` of the scaled training data, e.g. ``(-1, 1)``.
    """

    def __init__(self, feature_range=(0.0, 1.0)):
        self.feature_range = feature_range

    def fit(self, values, y=None):
        array, _ = as_series_array(values)
        self.scaler_ = MinMaxScaler(feature_range=tuple(self.feature_range))
        self.scaler_.fit(array.reshape(-1, array.shape[-1]))
        self.n_features_in_ = array.shape[-1]
        return self

    def _apply(self, values, method):
        self._check_fitted()
        array, restore = as_series_array(values)
        self._check_columns(array)
        flat = getattr(self.scaler_, method)(array.reshape(-1, array.shape[-1]))
        return restore(flat.reshape(array.shape))

    def transform(self, values):
        return self._apply(values, "transform")

    def inverse_transform(self, values, context=None):
        """Maps scaled values back; `values` may hold only the first columns (a forecaster's
        targets, which come before its feature columns)."""
        self._check_fitted()
        array, restore = as_series_array(values)
        num = array.shape[-1]
        if num >= self.n_features_in_:
            return self._apply(values, "inverse_transform")
        # scikit-learn's inverse on the leading columns (the others padded, then dropped).
        padded = np.zeros((*array.shape[:-1], self.n_features_in_))
        padded[..., :num] = array
        return restore(self._apply(padded, "inverse_transform")[..., :num])

    def get_state(self):
        state = super().get_state()
        state.update({name: getattr(self.scaler_, name).tolist() for name in _STATE})
        state["n_samples_seen_"] = int(self.scaler_.n_samples_seen_)
        return state

    def set_state(self, state):
        super().set_state(state)
        self.scaler_ = MinMaxScaler(feature_range=tuple(self.feature_range))
        for name in _STATE:
            setattr(self.scaler_, name, np.asarray(state[name], dtype="float64"))
        self.scaler_.n_samples_seen_ = state["n_samples_seen_"]
        self.scaler_.n_features_in_ = self.n_features_in_
        return self
