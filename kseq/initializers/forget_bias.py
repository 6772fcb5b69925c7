"""LSTM bias initializer with a settable forget-gate bias."""

from kseq._keras import keras


@keras.saving.register_keras_serializable(package="kseq")
class ForgetBias(keras.initializers.Initializer):
    """Initializes an LSTM bias to zeros except the forget gate, set to `forget_bias`.

    Keras lays the LSTM bias out as ``[input, forget, cell, output]`` gates of ``units`` each;
    ``ForgetBias(1.0)`` equals ``unit_forget_bias=True``. Use it with ``unit_forget_bias=False``.

    TF1's ``LSTMCell(forget_bias=b)`` adds a constant ``b`` to a zero-initialised learned
    bias; starting the learned bias at ``b`` instead gives the same forward pass and the same
    gradients, so this reproduces studies that vary TF1's forget bias (1.0, 0.5, 0.1).

    Args:
        forget_bias: the initial forget-gate bias.
    """

    def __init__(self, forget_bias=1.0):
        self.forget_bias = float(forget_bias)

    def __call__(self, shape, dtype=None):
        if len(shape) != 1 or shape[0] % 4:
            raise ValueError(
                f"ForgetBias initializes an LSTM bias of shape (4 * units,). Received: {shape}"
            )
        units = shape[0] // 4
        ops = keras.ops
        dtype = dtype or keras.config.floatx()
        return ops.concatenate(
            [
                ops.zeros((units,), dtype=dtype),
                ops.full((units,), self.forget_bias, dtype=dtype),
                ops.zeros((2 * units,), dtype=dtype),
            ]
        )

    def get_config(self):
        return {"forget_bias": self.forget_bias}
