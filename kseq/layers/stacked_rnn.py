"""A stack of recurrent layers with dropout between them."""

from kseq._keras import keras
from kseq.initializers.forget_bias import ForgetBias
from kseq.runtime import run_recurrent, run_stacked

CELLS = ("lstm", "gru", "simple_rnn")


def _check_rate(name, value):
    if isinstance(value, bool) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a rate in [0, 1). Received: {name}={value!r}")
    return float(value)


def _check_units(units):
    values = [units] if isinstance(units, int) else list(units)
    if not values or any(isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in values):
        raise ValueError(
            f"`units` must be a positive integer or a non-empty list of them. Received: "
            f"units={units!r}"
        )
    return values


@keras.saving.register_keras_serializable(package="kseq")
class StackedRNN(keras.layers.Layer):
    """Stacked LSTM, GRU or SimpleRNN layers, each followed by dropout.

    The AirPassengers tutorial's body is ``StackedRNN([50, 50, 50, 50], dropout=0.2)``; the
    sine study's is ``StackedRNN([128, 128], dropout=0.2, forget_bias=1.0)`` (TF1
    ``DropoutWrapper(output_keep_prob=0.8)``).

    Args:
        units: units of each layer; an int gives one layer.
        cell: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        dropout: rate of the dropout after each recurrent layer (TF1
            ``output_keep_prob = 1 - dropout``).
        input_dropout: rate of the dropout on each recurrent layer's inputs (TF1
            ``input_keep_prob = 1 - input_dropout``).
        recurrent_dropout: Keras's dropout on the recurrent state.
        forget_bias: initial forget-gate bias of LSTM layers (Keras's ``unit_forget_bias``
            is ``1.0``). Only for ``cell="lstm"``.
        activation: activation of the cells.
        return_sequences: return every step ``(batch, time, units[-1])`` instead of the last
            ``(batch, units[-1])``.
        seed: seed of the dropout layers.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(
        self,
        units,
        cell="lstm",
        dropout=0.0,
        input_dropout=0.0,
        recurrent_dropout=0.0,
        forget_bias=None,
        activation="tanh",
        return_sequences=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"`cell` must be one of {CELLS}. Received: cell={cell!r}")
        if forget_bias is not None and cell != "lstm":
            raise ValueError(
                f"`forget_bias` applies to LSTM cells only. Received: forget_bias={forget_bias!r} "
                f"with cell={cell!r}"
            )
        self.units = _check_units(units)
        self.cell = cell
        self.dropout = _check_rate("dropout", dropout)
        self.input_dropout = _check_rate("input_dropout", input_dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self.forget_bias = None if forget_bias is None else float(forget_bias)
        self.activation = activation
        self.return_sequences = return_sequences
        self.seed = seed
        self.supports_masking = True

        self.rnn_layers = []
        self.input_dropouts = []
        self.output_dropouts = []
        for i, layer_units in enumerate(self.units):
            sequences = return_sequences or i < len(self.units) - 1
            layer_seed = None if seed is None else seed + i
            options = {
                "units": layer_units,
                "activation": activation,
                "recurrent_dropout": self.recurrent_dropout,
                "return_sequences": sequences,
                "seed": layer_seed,
                "name": f"{cell}_{i}",
            }
            if cell == "lstm":
                rnn = keras.layers.LSTM(
                    unit_forget_bias=False,
                    bias_initializer=ForgetBias(1.0 if forget_bias is None else forget_bias),
                    **options,
                )
            elif cell == "gru":
                rnn = keras.layers.GRU(**options)
            else:
                rnn = keras.layers.SimpleRNN(**options)
            self.rnn_layers.append(rnn)
            self.input_dropouts.append(
                keras.layers.Dropout(self.input_dropout, seed=layer_seed, name=f"input_dropout_{i}")
                if self.input_dropout
                else None
            )
            self.output_dropouts.append(
                keras.layers.Dropout(self.dropout, seed=layer_seed, name=f"dropout_{i}")
                if self.dropout
                else None
            )

    def build(self, input_shape):
        shape = tuple(input_shape)
        for rnn, layer_units in zip(self.rnn_layers, self.units, strict=True):
            rnn.build(shape)
            shape = shape[:2] + (layer_units,)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        fused = run_stacked(self, inputs, training=training, mask=mask)
        if fused is not None:
            last = self.output_dropouts[-1]
            return fused if last is None else last(fused, training=training)
        x = inputs
        for i, rnn in enumerate(self.rnn_layers):
            if self.input_dropouts[i] is not None:
                x = self.input_dropouts[i](x, training=training)
            x = run_recurrent(rnn, x, training=training, mask=mask if i == 0 else None)
            if self.output_dropouts[i] is not None:
                x = self.output_dropouts[i](x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return tuple(input_shape[:2]) + (self.units[-1],)
        return (input_shape[0], self.units[-1])

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": list(self.units),
                "cell": self.cell,
                "dropout": self.dropout,
                "input_dropout": self.input_dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "forget_bias": self.forget_bias,
                "activation": self.activation,
                "return_sequences": self.return_sequences,
                "seed": self.seed,
            }
        )
        return config
