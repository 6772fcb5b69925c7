"""Negative log-likelihood of a Gaussian mixture."""

import math

from kseq._keras import keras
from kseq.errors import check_positive


@keras.saving.register_keras_serializable(package="kseq")
class MixtureNLL(keras.losses.Loss):
    """Negative log-likelihood of `kseq.layers.MixtureDensityHead` outputs.

    ``-log Σ_k π_k N(y; μ_k, σ_k)`` with ``π = softmax(logits)``, computed with a log-sum-exp,
    averaged over steps and targets. With one component it is the Gaussian NLL.

    Args:
        num_components: ``K``, as in the head.
        name, reduction, dtype: as `keras.losses.Loss`.

    Shapes: ``y_true`` ``(batch, horizon, num_targets)``; ``y_pred``
    ``(batch, horizon, num_targets, 3·K)``.
    """

    def __init__(self, num_components=1, name="mixture_nll", **kwargs):
        super().__init__(name=name, **kwargs)
        check_positive("num_components", num_components)
        self.num_components = num_components

    def call(self, y_true, y_pred):
        ops = keras.ops
        k = self.num_components
        logits, means, scales = y_pred[..., :k], y_pred[..., k : 2 * k], y_pred[..., 2 * k :]
        y = ops.expand_dims(ops.cast(y_true, y_pred.dtype), -1)
        z = (y - means) / scales
        log_normal = -0.5 * ops.square(z) - ops.log(scales) - 0.5 * math.log(2.0 * math.pi)
        log_weights = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
        nll = -ops.logsumexp(log_weights + log_normal, axis=-1)
        return ops.mean(ops.reshape(nll, (ops.shape(nll)[0], -1)), axis=-1)

    def get_config(self):
        return {**super().get_config(), "num_components": self.num_components}
