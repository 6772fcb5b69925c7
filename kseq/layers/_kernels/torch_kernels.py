"""PyTorch kernels: `torch.nn` fused RNN kernels on the Keras weights (CPU only; on CUDA
Keras runs cuDNN itself, and cuDNN rejects the transposed weight views passed here)."""

from kseq._keras import keras
from kseq.layers._kernels import cell_eligible

_MODULES = {}  # (kind, input_size, units) -> weightless torch module used as a template


def run_recurrent(layer, inputs, training):
    if not _torch_eligible(layer, inputs, training):
        return None
    return _torch_recurrent(layer, inputs)


def window_dataset(dataset):
    return None  # Keras's PyDataset path


def batch_dataset(dataset):
    return None  # Keras iterates a PyDataset in Python, without tf.data in between


def data_parallel():
    # Keras 3.15's keras.distribution runs on JAX only; its torch trainer has no data-parallel
    # path. `make_data_parallel` turns this into one line naming the alternatives.
    return None


def _torch_eligible(layer, inputs, training):
    import torch  # backend-dispatch

    if not isinstance(inputs, torch.Tensor) or inputs.device.type != "cpu":
        # "meta": symbolic tracing, let Keras infer shapes. "cuda": Keras runs cuDNN itself
        # (and cuDNN rejects the transposed weight views this path passes).
        return False
    if torch.compiler.is_compiling():
        return False  # torch.compile (jit_compile=True) traces Keras's own path
    return inputs.dtype == torch.float32 and cell_eligible(layer, training)


def _gru_order(weights):
    # Keras orders GRU gates [update z, reset r, candidate]; PyTorch [reset, update, candidate].
    z, r, h = keras.ops.split(weights, 3, axis=-1)
    return keras.ops.concatenate([r, z, h], axis=-1)


def _torch_recurrent(layer, inputs):
    import torch  # backend-dispatch

    cell = layer.cell
    kernel = cell.kernel.value
    recurrent = cell.recurrent_kernel.value
    bias = cell.bias.value
    input_size, units = int(kernel.shape[0]), int(cell.units)
    if isinstance(layer, keras.layers.LSTM):
        kind = "lstm"
        params = (kernel.T, recurrent.T, bias, torch.zeros_like(bias))
    elif isinstance(layer, keras.layers.GRU):
        kind = "gru"
        params = (
            _gru_order(kernel).T,
            _gru_order(recurrent).T,
            _gru_order(bias[0]),
            _gru_order(bias[1]),
        )
    else:
        kind = "rnn"
        params = (kernel.T, recurrent.T, bias, torch.zeros_like(bias))
    key = (kind, input_size, units)
    module = _MODULES.get(key)
    if module is None:
        factory = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
        module = factory(input_size, units, batch_first=True, device="meta")
        _MODULES[key] = module
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    outputs, _ = torch.func.functional_call(
        module, dict(zip(names, params, strict=True)), (inputs.to(kernel.device),)
    )
    # (batch, time, units), or the last step (batch, units)
    return outputs if layer.return_sequences else outputs[:, -1]
