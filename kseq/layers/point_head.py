"""One-step and multi-step point forecasts."""

from kseq._keras import keras
from kseq.layers._projection_head import ProjectionHead


@keras.saving.register_keras_serializable(package="kseq")
class PointHead(ProjectionHead):
    """Maps features to point forecasts of shape ``(batch, horizon, num_targets)``.

    Optional hidden Dense layers, then ``Dense(horizon · num_targets)`` reshaped. With
    ``horizon=1`` it is the classic ``Dense(1)`` head; with ``horizon > 1`` a direct
    multi-step head.

    Args:
        horizon: output steps.
        num_targets: output columns.
        dense_units: units of hidden Dense layers before the projection.
        activation: activation of the hidden layers.
        dropout: dropout rate after each hidden layer.
        seed: seed of the dropout.
        **kwargs: base layer arguments.
    """
