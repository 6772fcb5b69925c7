"""Pinball (quantile) loss."""

from kseq._keras import keras


@keras.saving.register_keras_serializable(package="kseq")
class PinballLoss(keras.losses.Loss):
    """Mean pinball loss over quantile levels, for `kseq.layers.QuantileHead`.

    For level ``q`` and error ``e = y - ŷ_q``: ``max(q·e, (q - 1)·e)``, averaged over the
    levels. Its minimiser is the ``q``-quantile of ``y``.

    Args:
        quantiles: levels in (0, 1), in the order of the head's last axis.
        name, reduction, dtype: as `keras.losses.Loss`.

    Shapes: ``y_true`` ``(batch, horizon, num_targets)``; ``y_pred`` the same plus a last axis
    of ``len(quantiles)``.
    """

    def __init__(self, quantiles=(0.1, 0.5, 0.9), name="pinball", **kwargs):
        super().__init__(name=name, **kwargs)
        quantiles = [float(q) for q in quantiles]
        if not quantiles or any(not 0.0 < q < 1.0 for q in quantiles):
            raise ValueError(f"`quantiles` must be levels in (0, 1). Received: {quantiles!r}")
        self.quantiles = quantiles

    def call(self, y_true, y_pred):
        ops = keras.ops
        levels = ops.convert_to_tensor(self.quantiles, dtype=y_pred.dtype)
        error = ops.expand_dims(ops.cast(y_true, y_pred.dtype), -1) - y_pred
        loss = ops.maximum(levels * error, (levels - 1.0) * error)
        # Mean over every axis but the batch: (batch,)
        return ops.mean(ops.reshape(loss, (ops.shape(loss)[0], -1)), axis=-1)

    def get_config(self):
        return {**super().get_config(), "quantiles": list(self.quantiles)}
