"""The three reference architectures, reproduced layer for layer."""

from kseq.models.builders import build_forecaster, build_seq2seq


def build_airpassengers_tutorial(lookback=60, seed=None, name="airpassengers_tutorial"):
    """The AirPassengers tutorial's model: 4 × (LSTM(50) + Dropout(0.2)), then Dense(1).

    Args:
        lookback: input steps (the tutorial used 60).
        seed: seed of the dropout.
        name: model name.
    """
    return build_forecaster(
        lookback,
        units=(50, 50, 50, 50),
        dropout=0.2,
        seed=seed,
        name=name,
    )


def build_sine_study_model(
    lookback=30, forget_bias=1.0, num_layers=2, units=128, seed=None, name="sine_study"
):
    """The sine study's base model: 2 × LSTM(128), forget bias 1.0, keep_prob 0.8, Dense(1).

    TF1 ``DropoutWrapper(output_keep_prob=0.8)`` is dropout 0.2 after each layer.

    Args:
        lookback: input steps (the study used 30).
        forget_bias: initial forget-gate bias (the study tried 1.0, 0.5, 0.1).
        num_layers: LSTM layers (the study tried 1, 2, 3, 5, 7) when `units` is one width.
        units: units per layer, or a list of widths, one per layer.
        seed: seed of the dropout.
        name: model name.
    """
    layer_units = [units] * num_layers if isinstance(units, int) else list(units)
    return build_forecaster(
        lookback,
        units=layer_units,
        dropout=0.2,
        forget_bias=forget_bias,
        seed=seed,
        name=name,
    )


def build_ar1_model(num_steps=None, seed=None):
    """The AR(1) lag-function net: SimpleRNN(10, tanh) → Dense(20, relu) → Dense(1) per step.

    Args:
        num_steps: steps per sequence, or `None` for any length.
        seed: unused by this dropout-free net; kept for a uniform preset signature.
    """
    return build_seq2seq(
        lookback=num_steps,
        cell="simple_rnn",
        units=(10,),
        dense_units=(20,),
        dense_activation="relu",
        seed=seed,
        name="ar1_net",
    )
