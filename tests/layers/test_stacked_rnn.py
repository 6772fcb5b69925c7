import keras
import numpy as np
import pytest

from kseq.initializers import ForgetBias
from kseq.layers import StackedRNN

X = np.random.default_rng(0).normal(size=(4, 7, 3)).astype("float32")


@pytest.mark.parametrize(
    "cell, per_layer",
    # Trainable weights of one layer with 3 inputs and 5 units.
    [
        ("lstm", 4 * (5 * (3 + 5) + 5)),
        ("gru", 3 * (5 * (3 + 5) + 2 * 5)),
        ("simple_rnn", 5 * (3 + 5) + 5),
    ],
)
def test_shapes_and_weight_counts(cell, per_layer):
    layer = StackedRNN([5, 4], cell=cell, dropout=0.2)
    out = layer(X)
    assert tuple(out.shape) == (4, 4)
    assert len(layer.rnn_layers) == 2
    assert layer.rnn_layers[0].count_params() == per_layer
    sequences = StackedRNN(5, cell=cell, return_sequences=True)(X)
    assert tuple(sequences.shape) == (4, 7, 5)


def test_dropout_is_active_only_in_training():
    layer = StackedRNN([8], dropout=0.5, input_dropout=0.3, seed=1)
    a = keras.ops.convert_to_numpy(layer(X, training=False))
    b = keras.ops.convert_to_numpy(layer(X, training=False))
    np.testing.assert_array_equal(a, b)
    c = keras.ops.convert_to_numpy(layer(X, training=True))
    assert not np.allclose(a, c)
    assert (c == 0).mean() > 0.2  # roughly half the outputs dropped


@pytest.mark.parametrize("forget_bias", [1.0, 0.5, 0.1])
def test_forget_bias_sets_exactly_the_forget_gate(forget_bias):
    layer = StackedRNN([6, 6], forget_bias=forget_bias)
    layer.build(X.shape)
    for rnn in layer.rnn_layers:
        bias = keras.ops.convert_to_numpy(rnn.cell.bias)
        np.testing.assert_array_equal(bias[6:12], np.full(6, forget_bias, "float32"))
        np.testing.assert_array_equal(np.delete(bias, np.s_[6:12]), np.zeros(18))


def test_forget_bias_one_matches_unit_forget_bias():
    ours = StackedRNN(6, forget_bias=1.0)
    ours.build(X.shape)
    stock = keras.layers.LSTM(6, unit_forget_bias=True)
    stock.build(X.shape)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(ours.rnn_layers[0].cell.bias),
        keras.ops.convert_to_numpy(stock.cell.bias),
    )
    init = ForgetBias(0.5)
    assert keras.initializers.deserialize(keras.initializers.serialize(init)).forget_bias == 0.5


def test_a_training_step_reduces_the_loss():
    inputs = keras.Input((7, 3))
    model = keras.Model(inputs, keras.layers.Dense(1)(StackedRNN([8, 8], cell="gru")(inputs)))
    model.compile(keras.optimizers.Adam(0.01), "mse")
    y = X.sum(axis=(1, 2))[:, None]
    first = model.train_on_batch(X, y)
    for _ in range(20):
        last = model.train_on_batch(X, y)
    assert last < 0.5 * first


def test_config_round_trip():
    layer = StackedRNN(
        [5, 4],
        cell="lstm",
        dropout=0.2,
        input_dropout=0.1,
        recurrent_dropout=0.05,
        forget_bias=0.5,
        return_sequences=True,
        seed=3,
    )
    clone = StackedRNN.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, StackedRNN) and restored.forget_bias == 0.5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "Received: units=0"),
        ({"units": [4, -1]}, r"Received: units=\[4, -1\]"),
        ({"units": 4, "cell": "transformer"}, "Received: cell='transformer'"),
        ({"units": 4, "dropout": 1.5}, "Received: dropout=1.5"),
        (
            {"units": 4, "cell": "gru", "forget_bias": 0.5},
            "LSTM cells only. Received: forget_bias=0.5",
        ),
    ],
)
def test_invalid_arguments_quote_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StackedRNN(**kwargs)
