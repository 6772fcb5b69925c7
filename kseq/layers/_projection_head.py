"""Base of the heads mapping a feature vector to ``(horizon, num_targets, ...)`` outputs."""

from kseq._keras import keras
from kseq.errors import check_positive
from kseq.layers._dense_stack import apply_stack, build_stack, make_dense_stack
from kseq.layers._point_decoding import PointDecoding


class ProjectionHead(PointDecoding, keras.layers.Layer):
    """Hidden Dense stack, then ``Dense(horizon · num_targets · outputs_per_target)``, reshaped.

    Subclasses set `outputs_per_target` and may post-process the reshaped outputs in
    `finalize`. Inputs are ``(batch, features)``.
    """

    def __init__(
        self,
        horizon=1,
        num_targets=1,
        dense_units=(),
        activation="relu",
        dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.horizon = check_positive("horizon", horizon)
        self.num_targets = check_positive("num_targets", num_targets)
        self.dense_units, self.hidden = make_dense_stack(
            dense_units, activation, dropout, seed, prefix="head"
        )
        self.activation = activation
        self.dropout = float(dropout)
        self.seed = seed
        self.projection = keras.layers.Dense(
            self.horizon * self.num_targets * self.outputs_per_target, name="projection"
        )

    @property
    def outputs_per_target(self):
        return 1

    def output_tail(self):
        """Output dimensions after ``(batch, horizon, num_targets)``."""
        return ()

    def build(self, input_shape):
        build_stack([*self.hidden, self.projection], input_shape)
        self.built = True

    def call(self, inputs, training=None):
        x = apply_stack([*self.hidden, self.projection], inputs, training)
        x = keras.ops.reshape(x, (-1, self.horizon, self.num_targets) + self.output_tail())
        return self.finalize(x)

    def finalize(self, outputs):
        return outputs

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon, self.num_targets) + self.output_tail()

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "horizon": self.horizon,
                "num_targets": self.num_targets,
                "dense_units": list(self.dense_units),
                "activation": self.activation,
                "dropout": self.dropout,
                "seed": self.seed,
            }
        )
        return config
