"""The pretrained network: stacked LSTMs over the context, a quantile head over the horizon.

Built from Keras's own layers only, so a saved network loads with ``safe_mode=True`` on any
backend without kseq's registrations, and its arithmetic can be checked against NumPy.
"""

from kseq._keras import keras
from kseq.pretrained.inputs import KINDS, NUM_STEP_FEATURES

# Quantile levels of the head: the median is the point forecast; 80 % and 95 % intervals.
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)


def build_network(*, lookback, horizon, units=64, num_layers=2, quantiles=QUANTILES, seed=1):
    """A Keras model ``[steps (batch, lookback, 2), kinds (batch, 4)] -> (batch, horizon,
    num_quantiles)``.

    The kind is repeated over the time steps and joined to each step's features, so every
    LSTM layer knows whether it reads a monthly or a yearly series.
    """
    if lookback < 1 or horizon < 1 or units < 1 or num_layers < 1:
        raise ValueError(
            "lookback, horizon, units and num_layers must be positive. Received: "
            f"lookback={lookback!r}, horizon={horizon!r}, units={units!r}, "
            f"num_layers={num_layers!r}"
        )
    steps = keras.Input((lookback, NUM_STEP_FEATURES), name="steps")
    kinds = keras.Input((len(KINDS),), name="kinds")
    x = keras.layers.Concatenate(name="step_and_kind")(
        [steps, keras.layers.RepeatVector(lookback, name="kind_per_step")(kinds)]
    )
    initializer = keras.initializers.GlorotUniform(seed=seed)
    for i in range(num_layers):
        x = keras.layers.LSTM(
            units,
            return_sequences=i < num_layers - 1,
            kernel_initializer=initializer,
            recurrent_initializer=keras.initializers.Orthogonal(seed=seed + i),
            name=f"lstm_{i}",
        )(x)
    x = keras.layers.Concatenate(name="summary_and_kind")([x, kinds])
    x = keras.layers.Dense(horizon * len(quantiles), kernel_initializer=initializer,
                           kernel_regularizer=None, name="quantiles")(x)  # fmt: skip
    outputs = keras.layers.Reshape((horizon, len(quantiles)), name="per_step")(x)
    return keras.Model([steps, kinds], outputs, name="kseq_pretrained_lstm")


def make_pinball_loss(quantiles=QUANTILES):
    """The mean pinball loss over the valid steps.

    ``y_true``: ``(batch, horizon, 2)`` — target and validity flag; ``y_pred``: ``(batch,
    horizon, num_quantiles)``.
    """
    levels = keras.ops.convert_to_tensor(list(quantiles), dtype="float32")

    def pinball(y_true, y_pred):
        target, valid = y_true[..., :1], y_true[..., 1:]
        error = target - y_pred
        loss = keras.ops.maximum(levels * error, (levels - 1.0) * error) * valid
        return keras.ops.sum(loss) / (keras.ops.sum(valid) * len(quantiles) + 1e-9)

    return pinball
