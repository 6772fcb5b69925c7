"""Gaussian and Gaussian-mixture forecasts, trained with `kseq.losses.MixtureNLL`."""

import numpy as np
from scipy.special import ndtr

from kseq._keras import keras
from kseq.errors import check_positive
from kseq.layers._projection_head import ProjectionHead

# Bisection steps of the mixture quantiles: the bracket shrinks 2**-60-fold, below float64
# resolution of any bracket the components span.
_BISECTION_STEPS = 60


@keras.saving.register_keras_serializable(package="kseq")
class MixtureDensityHead(ProjectionHead):
    """Maps features to a mixture of `num_components` Gaussians per step and target.

    The output has shape ``(batch, horizon, num_targets, 3 · num_components)``: the mixture
    logits, the means, then the standard deviations (softplus, so positive). One component is
    a Gaussian head. Train it with ``MixtureNLL(num_components)``.

    Args:
        num_components: number of Gaussian components ``K``.
        min_scale: floor added to the standard deviations for numerical safety.
        horizon, num_targets, dense_units, activation, dropout, seed: as `PointHead`.
        **kwargs: base layer arguments.
    """

    def __init__(self, num_components=1, horizon=1, num_targets=1, min_scale=1e-3, **kwargs):
        check_positive("num_components", num_components)
        if not min_scale >= 0:
            raise ValueError(f"`min_scale` must be >= 0. Received: {min_scale!r}")
        self.num_components = num_components
        self.min_scale = float(min_scale)
        super().__init__(horizon=horizon, num_targets=num_targets, **kwargs)

    @property
    def outputs_per_target(self):
        return 3 * self.num_components

    def output_tail(self):
        return (3 * self.num_components,)

    def finalize(self, outputs):
        k = self.num_components
        ops = keras.ops
        logits, means, raw_scales = outputs[..., :k], outputs[..., k : 2 * k], outputs[..., 2 * k :]
        scales = ops.softplus(raw_scales) + self.min_scale
        return ops.concatenate([logits, means, scales], axis=-1)

    @property
    def is_probabilistic(self):
        return True

    def default_loss(self):
        # Imported here: kseq.losses imports kseq.layers' helpers.
        from kseq.losses import MixtureNLL

        return MixtureNLL(self.num_components)

    def mixture_parameters(self, outputs):
        """``(weights, means, scales)`` of the mixture, each ``(..., num_components)``."""
        k = self.num_components
        outputs = np.asarray(outputs, dtype="float64")
        logits = outputs[..., :k]
        weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        return weights, outputs[..., k : 2 * k], outputs[..., 2 * k :]

    def point_forecast(self, outputs):
        """The mixture mean."""
        weights, means, _ = self.mixture_parameters(outputs)
        return (weights * means).sum(axis=-1)

    def quantile_forecast(self, outputs, levels):
        """Quantiles of the mixture: the CDF inverted by bisection (exact for one component)."""
        weights, means, scales = self.mixture_parameters(outputs)
        result = []
        for level in levels:
            if not 0.0 < level < 1.0:
                raise ValueError(f"Quantile levels must be in (0, 1). Received: {level!r}")
            # The mixture's quantile lies between its components' quantiles at that level.
            low = (means - 10.0 * scales).min(axis=-1)
            high = (means + 10.0 * scales).max(axis=-1)
            for _ in range(_BISECTION_STEPS):
                middle = 0.5 * (low + high)
                cdf = (weights * ndtr((middle[..., None] - means) / scales)).sum(axis=-1)
                below = cdf < level
                low = np.where(below, middle, low)
                high = np.where(below, high, middle)
            result.append(0.5 * (low + high))
        return np.stack(result, axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "num_components": self.num_components,
            "min_scale": self.min_scale,
        }
