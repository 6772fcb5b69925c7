"""Shared plumbing of kseq's invertible transforms."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from kseq.errors import NotFittedError


def as_series_array(values):
    """Returns float64 values with time on axis -2: ``(time, cols)`` or ``(batch, time, cols)``.

    A 1-D array is read as one column. Returns the array and a function restoring the input's
    number of dimensions.
    """
    array = np.asarray(values, dtype="float64")
    if array.ndim == 1:
        return array[:, None], lambda out: out[:, 0]
    if array.ndim not in (2, 3):
        raise ValueError(
            f"Expected values of shape (time,), (time, columns) or (batch, time, columns). "
            f"Received shape {array.shape}."
        )
    return array, lambda out: out


class SeriesTransform(TransformerMixin, BaseEstimator):
    """Base of invertible transforms along the time axis (axis -2).

    Subclasses follow scikit-learn's contract (``__init__`` only stores its arguments, fitted
    attributes end in ``_``) and keep their fitted state in JSON-friendly ``get_state``.
    """

    #: Points of original-unit history that `inverse_transform` needs before its input.
    context_length = 0
    #: Whether `fit`, `transform` and `inverse_transform` take ``position``: the position of
    #: their input's first step in the series (a seasonal transform's phase).
    uses_position = False

    def _check_fitted(self):
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call `fit` first.")

    def _check_columns(self, array):
        if array.shape[-1] != self.n_features_in_:
            raise ValueError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} columns but received "
                f"{array.shape[-1]}."
            )

    def get_state(self):
        """Returns the fitted state as plain JSON-serialisable values."""
        self._check_fitted()
        return {"n_features_in_": int(self.n_features_in_)}

    def set_state(self, state):
        """Restores the fitted state written by `get_state`; returns self."""
        self.n_features_in_ = int(state["n_features_in_"])
        return self
