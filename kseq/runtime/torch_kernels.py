"""PyTorch kernels: `torch.nn` fused RNN kernels (cuDNN's on a GPU) on the Keras weights.

A `StackedRNN` whose layers PyTorch can run as one multi-layer module (same cell and size, no
input dropout) is one call: one kernel launch on a GPU instead of one Keras layer call per
layer and per dropout, where each costs host time that the device then waits for."""

import contextlib
import warnings

from kseq._keras import keras
from kseq.runtime import cell_eligible

_MODULES = {}  # (kind, input_size, units, num_layers) -> weightless torch module (a template)
_NAMES = ("weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}")


def run_recurrent(layer, inputs, training):
    if not _torch_eligible(layer, inputs, training):
        return None
    return _torch_recurrent([layer], inputs, dropout=0.0, training=training)


def run_stacked(stack, inputs, training):
    layers = stack.rnn_layers
    if len(layers) < 2 or stack.input_dropout or len(set(stack.units)) != 1:
        return None  # one layer: `run_recurrent`; sizes that differ: no multi-layer module
    if not all(_torch_eligible(layer, inputs, training) for layer in layers):
        return None
    # PyTorch's inter-layer dropout (its own random stream, seeded by `keras.utils.
    # set_random_seed`) replaces the Dropout layers after each layer but the last.
    return _torch_recurrent(layers, inputs, dropout=stack.dropout, training=training)


def window_dataset(dataset, endless=False):
    return None  # Keras's PyDataset path


def batch_dataset(dataset):
    return None  # Keras iterates a PyDataset in Python, without tf.data in between


def data_parallel():
    # Keras 3.15's keras.distribution runs on JAX only; its torch trainer has no data-parallel
    # path. `make_data_parallel` turns this into one line naming the alternatives.
    return None


def steps_per_execution():
    return 1  # Keras's torch trainer runs one step per call


def predicts_any_batch(model):
    return True  # no data-parallel engine on PyTorch


def _torch_eligible(layer, inputs, training):
    import torch  # backend-dispatch

    if not isinstance(inputs, torch.Tensor) or inputs.device.type not in ("cpu", "cuda"):
        return False  # "meta": symbolic tracing, let Keras infer shapes
    if torch.compiler.is_compiling():
        return False  # torch.compile (jit_compile=True) traces Keras's own path
    return inputs.dtype == torch.float32 and cell_eligible(layer, training)


def _gru_order(weights):
    # Keras orders GRU gates [update z, reset r, candidate]; PyTorch [reset, update, candidate].
    z, r, h = keras.ops.split(weights, 3, axis=-1)
    return keras.ops.concatenate([r, z, h], axis=-1)


def _layer_params(layer, contiguous):
    import torch  # backend-dispatch

    cell = layer.cell
    kernel = cell.kernel.value
    recurrent = cell.recurrent_kernel.value
    bias = cell.bias.value
    if isinstance(layer, keras.layers.GRU):
        params = (
            _gru_order(kernel).T,
            _gru_order(recurrent).T,
            _gru_order(bias[0]),
            _gru_order(bias[1]),
        )
    else:
        params = (kernel.T, recurrent.T, bias, torch.zeros_like(bias))
    # cuDNN takes dense weights only ("view size is not compatible with input tensor's size
    # and stride" on the transposed views); the CPU kernels read the views as they are.
    return tuple(p.contiguous() for p in params) if contiguous else params


@contextlib.contextmanager
def _quiet_cudnn():
    # cuDNN copies weights that are not one memory block (these are Keras's variables, one
    # tensor each) and warns about it; the copy is the price of training Keras's variables.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="RNN module weights are not part")
        yield


def _torch_recurrent(layers, inputs, dropout, training):
    import torch  # backend-dispatch

    first = layers[0]
    kind = (
        "lstm"
        if isinstance(first, keras.layers.LSTM)
        else "gru"
        if isinstance(first, keras.layers.GRU)
        else "rnn"
    )
    input_size, units = int(first.cell.kernel.shape[0]), int(first.cell.units)
    key = (kind, input_size, units, len(layers), float(dropout))
    module = _MODULES.get(key)
    if module is None:
        factory = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
        module = factory(
            input_size,
            units,
            num_layers=len(layers),
            dropout=float(dropout),
            batch_first=True,
            device="meta",
        )
        _MODULES[key] = module
    module.train(bool(training))  # its dropout runs in training only
    device = first.cell.kernel.value.device
    params = {}
    for index, layer in enumerate(layers):
        names = (name.format(index) for name in _NAMES)
        params.update(zip(names, _layer_params(layer, device.type == "cuda"), strict=True))
    with _quiet_cudnn() if device.type == "cuda" else contextlib.nullcontext():
        outputs, _ = torch.func.functional_call(module, params, (inputs.to(device),))
    # (batch, time, units), or the last step (batch, units)
    return outputs if layers[-1].return_sequences else outputs[:, -1]
