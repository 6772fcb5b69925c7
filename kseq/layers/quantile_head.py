"""Quantile forecasts, trained with `kseq.losses.PinballLoss`."""

import numpy as np

from kseq._keras import keras
from kseq.layers._projection_head import ProjectionHead


@keras.saving.register_keras_serializable(package="kseq")
class QuantileHead(ProjectionHead):
    """Maps features to quantiles of shape ``(batch, horizon, num_targets, num_quantiles)``.

    Train it with ``PinballLoss(quantiles)`` using the same quantiles, in the same order.

    Args:
        quantiles: the probability levels, each in (0, 1), e.g. ``(0.1, 0.5, 0.9)``.
        horizon, num_targets, dense_units, activation, dropout, seed: as `PointHead`.
        **kwargs: base layer arguments.
    """

    def __init__(self, quantiles=(0.1, 0.5, 0.9), horizon=1, num_targets=1, **kwargs):
        quantiles = [float(q) for q in quantiles]
        if not quantiles or any(not 0.0 < q < 1.0 for q in quantiles):
            raise ValueError(f"`quantiles` must be levels in (0, 1). Received: {quantiles!r}")
        if quantiles != sorted(set(quantiles)):
            raise ValueError(
                f"`quantiles` must be increasing and distinct. Received: {quantiles!r}"
            )
        self.quantiles = quantiles
        super().__init__(horizon=horizon, num_targets=num_targets, **kwargs)

    @property
    def outputs_per_target(self):
        return len(self.quantiles)

    def output_tail(self):
        return (len(self.quantiles),)

    @property
    def is_probabilistic(self):
        return True

    def default_loss(self):
        # Imported here: kseq.losses imports kseq.layers' helpers.
        from kseq.losses import PinballLoss

        return PinballLoss(self.quantiles)

    @staticmethod
    def _rearranged(outputs):
        # Separately trained levels can cross; sorting them (rearrangement, Chernozhukov et
        # al. 2010) gives monotone quantiles that are never further from the truth.
        return np.sort(np.asarray(outputs), axis=-1)

    def point_forecast(self, outputs):
        # The level nearest the median.
        median = int(np.argmin(np.abs(np.asarray(self.quantiles) - 0.5)))
        return self._rearranged(outputs)[..., median]

    def quantile_forecast(self, outputs, levels):
        """The trained levels among `levels` (each must be one of `quantiles`)."""
        columns = []
        for level in levels:
            matches = [i for i, q in enumerate(self.quantiles) if abs(q - level) < 1e-9]
            if not matches:
                raise ValueError(
                    f"This head was trained for the levels {self.quantiles}; {level} is not "
                    f"one of them. Received: levels={list(levels)!r}"
                )
            columns.append(matches[0])
        return self._rearranged(outputs)[..., columns]

    def get_config(self):
        return {**super().get_config(), "quantiles": list(self.quantiles)}
