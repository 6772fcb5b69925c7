"""One output per input step, for sequence-to-sequence targets."""

from kseq._keras import keras
from kseq.errors import check_positive
from kseq.layers._dense_stack import apply_stack, build_stack, make_dense_stack
from kseq.layers._point_decoding import PointDecoding


@keras.saving.register_keras_serializable(package="kseq")
class SequenceHead(PointDecoding, keras.layers.Layer):
    """Maps ``(batch, time, features)`` to ``(batch, time, num_targets)`` step by step.

    The same hidden Dense layers and projection apply at every step (the AR(1) net's
    ``Dense(20) → Dense(1)``).

    Args:
        num_targets: outputs per step.
        dense_units: units of the hidden Dense layers.
        activation: activation of the hidden layers.
        dropout: dropout rate after each hidden layer.
        seed: seed of the dropout.
        **kwargs: base layer arguments.
    """

    def __init__(
        self, num_targets=1, dense_units=(), activation="relu", dropout=0.0, seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.num_targets = check_positive("num_targets", num_targets)
        self.dense_units, self.hidden = make_dense_stack(
            dense_units, activation, dropout, seed, prefix="step"
        )
        self.activation = activation
        self.dropout = float(dropout)
        self.seed = seed
        self.projection = keras.layers.Dense(self.num_targets, name="projection")
        self.supports_masking = True

    def build(self, input_shape):
        build_stack([*self.hidden, self.projection], input_shape)
        self.built = True

    def call(self, inputs, training=None):
        return apply_stack([*self.hidden, self.projection], inputs, training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.num_targets,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_targets": self.num_targets,
                "dense_units": list(self.dense_units),
                "activation": self.activation,
                "dropout": self.dropout,
                "seed": self.seed,
            }
        )
        return config
