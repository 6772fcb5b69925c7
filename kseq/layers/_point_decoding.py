"""Decoding shared by the heads: what a head's outputs mean (NumPy arrays, after predict)."""

import numpy as np


class PointDecoding:
    """Decoding of point outputs: MSE loss, the outputs are the forecast, no quantiles.

    Probabilistic heads override all four.
    """

    @property
    def is_probabilistic(self):
        """Whether `quantile_forecast` can give levels other than the point forecast."""
        return False

    def default_loss(self):
        """The training loss that matches the outputs (MSE for point forecasts)."""
        return "mse"

    def point_forecast(self, outputs):
        """Reduces outputs to point forecasts (``(batch, horizon, num_targets)`` for the
        projection heads, ``(batch, time, num_targets)`` for the sequence head)."""
        return np.asarray(outputs)

    def quantile_forecast(self, outputs, levels):
        """Forecast quantiles ``(..., len(levels))`` in the model's (transformed) units. A
        point head has none."""
        raise ValueError(
            f"{type(self).__name__} gives point forecasts only; use a quantile or mixture head "
            f"for intervals. Received: levels={list(levels)!r}"
        )
