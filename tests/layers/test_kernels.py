"""The fused-kernel dispatch point gives the numbers of Keras's own recurrent loop.

On torch these tests compare PyTorch's fused kernels with Keras's step loop; on the other
backends both runs take Keras's path, so they check the dispatch leaves it untouched.
"""

import keras
import numpy as np
import pytest

import kseq.runtime as kernels
from kseq.layers import StackedRNN
from kseq.runtime import choose_steps_per_execution, get_kernels

X = np.random.default_rng(0).normal(size=(8, 9, 3)).astype("float32")
Y = np.random.default_rng(1).normal(size=(8, 1)).astype("float32")


FUSED_CALLS = []


class _Counting:
    """The active backend's kernels, recording each call they did not decline."""

    def __init__(self, native):
        self.native = native

    def run_recurrent(self, layer, inputs, training):
        outputs = self.native.run_recurrent(layer, inputs, training)
        if outputs is not None:
            FUSED_CALLS.append(type(layer).__name__)
        return outputs

    def run_stacked(self, stack, inputs, training):
        outputs = self.native.run_stacked(stack, inputs, training)
        if outputs is not None:
            FUSED_CALLS.append("stack")
        return outputs

    def window_dataset(self, dataset):
        return self.native.window_dataset(dataset)

    def batch_dataset(self, dataset):
        return self.native.batch_dataset(dataset)


def _keras_on_gpu():
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    return False


def _atol(cell, cpu):
    # On a GPU (TF32 off) PyTorch's fused SimpleRNN is cuDNN's RNN_TANH and Keras's path its
    # own step loop of matmuls: up to 1.6e-5 apart on an H200 (2026-12-04); LSTM and GRU,
    # cuDNN on both sides there, matched at the CPU's tolerances.
    return 1e-4 if cell == "simple_rnn" and _keras_on_gpu() else cpu


def _model(cell, units=(6, 5), dropout=0.0):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((9, 3))
    outputs = keras.layers.Dense(1)(StackedRNN(list(units), cell=cell, dropout=dropout)(inputs))
    return keras.Model(inputs, outputs)


def _train(cell, monkeypatch, fused, units=(6, 5)):
    # Fused: the backend's kernels (counted); not fused: JAX's, which decline everything, so
    # Keras's own loop runs.
    chosen = _Counting(get_kernels()) if fused else get_kernels("jax")
    monkeypatch.setattr(kernels, "get_kernels", lambda backend=None: chosen)
    model = _model(cell, units)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    before = keras.ops.convert_to_numpy(model(X))
    model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    monkeypatch.undo()
    return before, [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_fused_path_matches_the_keras_loop_through_training(cell, monkeypatch):
    FUSED_CALLS.clear()
    out_fused, weights_fused = _train(cell, monkeypatch, fused=True)
    out_loop, weights_loop = _train(cell, monkeypatch, fused=False)
    np.testing.assert_allclose(out_fused, out_loop, atol=_atol(cell, 1e-6))
    # Four SGD steps: the gradients reached the same Keras variables with the same values.
    for fused, loop in zip(weights_fused, weights_loop, strict=True):
        np.testing.assert_allclose(fused, loop, atol=_atol(cell, 1e-5))
    backend = keras.backend.backend()
    fused_expected = backend == "torch" or (backend == "tensorflow" and cell == "lstm")
    if fused_expected and (backend == "torch" or not _keras_on_gpu()):
        assert FUSED_CALLS  # the fused kernel ran in the first run
    else:
        assert not FUSED_CALLS
    moved = [
        np.abs(a - b).max() for a, b in zip(weights_fused, _model(cell).get_weights(), strict=True)
    ]
    assert max(moved) > 1e-3  # training changed the weights: the comparison is not vacuous


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_a_stack_of_equal_layers_is_one_fused_call_with_the_keras_numbers(cell, monkeypatch):
    # Three layers of one size: PyTorch runs them as one multi-layer module.
    FUSED_CALLS.clear()
    out_fused, weights_fused = _train(cell, monkeypatch, fused=True, units=(4, 4, 4))
    out_loop, weights_loop = _train(cell, monkeypatch, fused=False, units=(4, 4, 4))
    np.testing.assert_allclose(out_fused, out_loop, atol=_atol(cell, 1e-6))
    for fused, loop in zip(weights_fused, weights_loop, strict=True):
        np.testing.assert_allclose(fused, loop, atol=_atol(cell, 1e-5))
    if keras.backend.backend() == "torch":
        assert FUSED_CALLS and set(FUSED_CALLS) == {"stack"}  # never layer by layer
    else:
        assert "stack" not in FUSED_CALLS  # (TensorFlow fuses LSTM layers one by one)


def test_a_fused_stack_drops_out_between_layers_in_training_only(monkeypatch):
    inputs = keras.ops.convert_to_tensor(X)

    def draw():
        # The same weights and dropout seeds each time; PyTorch's inner dropout draws from the
        # global stream that `set_random_seed` seeds.
        model = _model("lstm", units=(16, 16), dropout=0.5)
        stack = next(layer for layer in model.layers if isinstance(layer, StackedRNN))
        keras.utils.set_random_seed(7)
        return stack, keras.ops.convert_to_numpy(stack(inputs, training=True))

    stack, first = draw()
    np.testing.assert_array_equal(first, draw()[1])  # seeded: the same masks
    zeros = np.mean(first == 0)
    assert 0.35 < zeros < 0.65  # the last layer's dropout at rate 0.5 (128 values)
    inference = keras.ops.convert_to_numpy(stack(inputs, training=False))
    monkeypatch.setattr(kernels, "get_kernels", lambda backend=None: get_kernels("jax"))
    loop = keras.ops.convert_to_numpy(stack(inputs, training=False))
    np.testing.assert_allclose(inference, loop, atol=1e-6)  # no dropout outside training
    assert not np.allclose(first[first != 0], 2 * inference[first != 0], atol=1e-3)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="the fused kernels are torch's")
def test_eligibility_is_decided_without_serializing(monkeypatch):
    # `keras.activations.serialize` imported TensorFlow (4.9 s) on the first training step and
    # ran on every step; the check must not need it.
    def refuse(*args, **kwargs):
        raise AssertionError("serialize called")

    monkeypatch.setattr(keras.activations, "serialize", refuse)
    import torch

    inputs = torch.zeros((2, 4, 3))
    for layer, expected in [
        (keras.layers.LSTM(5), True),
        (keras.layers.GRU(5), True),
        (keras.layers.SimpleRNN(5), True),
        (keras.layers.LSTM(5, activation="relu"), False),
        (keras.layers.LSTM(5, recurrent_activation="hard_sigmoid"), False),
        (keras.layers.GRU(5, reset_after=False), False),
        (keras.layers.LSTM(5, go_backwards=True), False),
    ]:
        layer.build((2, 4, 3))
        fused = get_kernels("torch").run_recurrent(layer, inputs, training=True)
        assert (fused is not None) is expected, layer
    # Symbolic ("meta") tracing takes Keras's path.
    layer = keras.layers.LSTM(5)
    layer.build((2, 4, 3))
    assert get_kernels("torch").run_recurrent(layer, inputs.to("meta"), training=True) is None


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="BlockLSTM is TensorFlow's")
def test_tensorflow_fuses_only_small_lstm_layers():
    import tensorflow as tf

    def eligible(layer, batch_size):
        layer.build((batch_size, 4, 3))
        inputs = tf.zeros((batch_size, 4, 3))
        return get_kernels("tensorflow").run_recurrent(layer, inputs, training=True) is not None

    assert eligible(keras.layers.LSTM(32), 16)
    assert eligible(keras.layers.LSTM(64), 64)
    assert not eligible(keras.layers.LSTM(128), 16)  # the while_loop's matmuls win
    assert not eligible(keras.layers.LSTM(64), 128)
    assert not eligible(keras.layers.GRU(32), 16)  # no fused GRU op
    assert not eligible(keras.layers.LSTM(32, activation="relu"), 16)
    assert not eligible(keras.layers.LSTM(32, go_backwards=True), 16)


def test_automatic_steps_per_execution_follows_the_device(monkeypatch):
    assert choose_steps_per_execution(3) == 3
    # This machine's choice: several steps per call on a JAX or TensorFlow accelerator, one on
    # a CPU and always on PyTorch (its Keras trainer runs one step per call).
    on_accelerator = keras.backend.backend() != "torch" and _keras_on_accelerator()
    assert choose_steps_per_execution("auto") == (16 if on_accelerator else 1)

    class OnAccelerator:
        def steps_per_execution(self):
            return 16

    monkeypatch.setattr(kernels, "get_kernels", lambda backend=None: OnAccelerator())
    assert choose_steps_per_execution("auto") == 16


def _keras_on_accelerator():
    if keras.backend.backend() == "jax":
        import jax

        return jax.default_backend() != "cpu"
    return _keras_on_gpu()
