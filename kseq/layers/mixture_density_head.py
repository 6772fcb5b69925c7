"""Gaussian and Gaussian-mixture forecasts, trained with `kseq.losses.MixtureNLL`."""

from kseq._keras import keras
from kseq.layers._dense_stack import check_positive
from kseq.layers._projection_head import ProjectionHead


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

    def get_config(self):
        return {
            **super().get_config(),
            "num_components": self.num_components,
            "min_scale": self.min_scale,
        }
