"""Backend kernels behind one protocol: fused recurrent layers, native window pipelines and
data-parallel training.

Keras runs LSTM/GRU/SimpleRNN on the torch backend's CPU as a Python loop over time steps (its
fused path is cuDNN, so CUDA-only); on TensorFlow's CPU as a `tf.while_loop` whose per-step op
overhead dominates small layers; on JAX as one jitted `lax.scan`. Each backend's module here
implements `Kernels` with its own public fused ops (`torch.nn` RNN kernels through
`torch.func.functional_call`, `tf.raw_ops.BlockLSTM`, `tf.data`) on the Keras weights, and
answers `None` ("not supported here") for anything it cannot express exactly (masks,
recurrent dropout, other activations, GPUs where Keras runs cuDNN itself, ...): the caller
then takes Keras's own path. Numbers match Keras's path (tests/layers/test_kernels.py).

Data-parallel training is each backend's own engine too: `keras.distribution.DataParallel` on
JAX, `tf.distribute.MirroredStrategy` (`MultiWorkerMirroredStrategy` across hosts) on
TensorFlow; Keras 3.15 offers none on PyTorch, so there it answers `None` and
`make_data_parallel` says so in one line.

Only these modules import a backend directly; those imports are marked ``# backend-dispatch``.
"""

import contextlib
import functools
import importlib
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from kseq._keras import keras
from kseq.errors import TORCH_DATA_PARALLEL, ConfigError


@dataclass(frozen=True)
class DataParallel:
    """A backend's data-parallel engine over every device it sees.

    Attributes:
        engine: what runs it (``"keras.distribution.DataParallel"``, ``"tf.distribute.
            MirroredStrategy"``, ...), for the run card.
        devices: the devices the batch is split over.
        processes: the hosts (processes) taking part; this one is `process_index`.
        batch_multiple: every batch must hold a multiple of this many windows (JAX shards
            the batch axis evenly over the devices; 1 where the engine splits unevenly).
        scope: ``scope()`` is the context in which models are built, compiled and fitted.
    """

    engine: str
    devices: tuple
    processes: int
    batch_multiple: int
    scope: object = field(repr=False)
    process_index: int = 0

    @property
    def replicas(self):
        return len(self.devices)

    def describe(self):
        """The run card's record of it."""
        return {
            "engine": self.engine,
            "replicas": self.replicas,
            "processes": self.processes,
            "devices": [str(d) for d in self.devices],
        }


class Kernels(Protocol):
    """What a backend's kernel module offers; `None` from either means "use Keras's path"."""

    def run_recurrent(self, layer, inputs, training):
        """The outputs of the Keras recurrent `layer` on `inputs` (no mask), or `None`."""

    def run_stacked(self, stack, inputs, training):
        """The outputs of a `StackedRNN`'s layers and the dropouts between them (not the one
        after its last layer) on `inputs` (no mask) as one fused call, or `None`."""

    def window_dataset(self, dataset, endless=False):
        """A native pipeline gathering the batches of a `WindowDataset` itself, or `None`.
        `endless`: the epochs from the dataset's current one on, each in its own order, one
        after another without end (`fit` then needs `steps_per_epoch`), so that one iterator
        serves a whole fit. A `PyDataset` it returns serves each epoch itself either way."""

    def batch_dataset(self, dataset):
        """A native pipeline serving any `keras.utils.PyDataset`'s batches, or `None`."""

    def data_parallel(self):
        """The backend's `DataParallel` engine over every visible device, or `None`."""

    def steps_per_execution(self):
        """Training steps per compiled call that suit the device the backend trains on."""

    def predicts_any_batch(self, model):
        """Whether `model.predict_on_batch` takes a batch of any size: not where a
        data-parallel engine splits each batch over its replicas (Keras's `predict` then pads
        and splits a partial batch itself)."""


# Steps per compiled call on a JAX or TensorFlow accelerator (`choose_steps_per_execution`): on
# a GPU a step of a small recurrent model takes a few ms of device time and Keras's per-call
# host work (callbacks, logs, the epoch iterator) ~1 ms; 16 steps per call left stock Keras on
# JAX at 0.98x cuDNN against 0.67x with 1 (H100, 2026-11-22, docs/speed.md).
ACCELERATOR_STEPS = 16

_MODULES = {
    "torch": "kseq.runtime.torch_kernels",
    "tensorflow": "kseq.runtime.tensorflow_kernels",
    "jax": "kseq.runtime.jax_kernels",
}


def get_kernels(backend=None):
    """Returns the `Kernels` of `backend` (the active Keras backend by default)."""
    return _kernels_of(backend or keras.backend.backend())


@functools.cache
def _kernels_of(backend):
    return importlib.import_module(_MODULES[backend])


def run_recurrent(layer, inputs, training=None, mask=None):
    """Runs a Keras recurrent `layer` on `inputs`, through a fused kernel when one applies."""
    if mask is None:
        outputs = get_kernels().run_recurrent(layer, inputs, training)
        if outputs is not None:
            return outputs
    return layer(inputs, training=training, mask=mask)


def run_stacked(stack, inputs, training=None, mask=None):
    """A `StackedRNN`'s layers and inner dropouts as one fused call, or `None` (run them one
    by one)."""
    if mask is not None:
        return None
    return get_kernels().run_stacked(stack, inputs, training)


def choose_steps_per_execution(setting):
    """Keras's `steps_per_execution` for a recipe's setting: an integer as it is, ``"auto"``
    the active backend's choice (several steps per call on a JAX or TensorFlow accelerator,
    where each call's host work would leave the device waiting; one elsewhere)."""
    if setting == "auto":
        return get_kernels().steps_per_execution()
    return int(setting)


def predict_windows(model, x, batch_size):
    """`model`'s outputs on the windows `x`, `batch_size` windows per call.

    `model.predict` builds a data pipeline on every call and runs batches of 32, which was most
    of a forecast's time (one LSTM(32) call on 24 windows: ~100 ms through `predict` on
    TensorFlow, 1.4 ms through `predict_on_batch`; torch 3.9 / 1.1 ms, JAX 1.6 / 0.7 ms;
    docs/speed.md, 2026-12-04); `predict` stays where a data-parallel engine needs it."""
    if not get_kernels().predicts_any_batch(model):
        return model.predict(x, batch_size=batch_size, verbose=0)
    if len(x) <= batch_size:
        return model.predict_on_batch(x)
    outputs = [model.predict_on_batch(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return keras.tree.map_structure(lambda *parts: np.concatenate(parts), *outputs)


def make_data_parallel():
    """The active backend's `DataParallel`; `ConfigError` where Keras offers none (PyTorch)."""
    engine = get_kernels().data_parallel()
    if engine is None:
        raise ConfigError(TORCH_DATA_PARALLEL)
    return engine


def distribution_scope(engine):
    """The scope to build and fit models in: the engine's, or none."""
    return contextlib.nullcontext() if engine is None else engine.scope()


def backend_dataset(dataset):
    """Returns what `model.fit` should receive for a `keras.utils.PyDataset` on the active
    backend: a native pipeline of the same batches in the same order, or `dataset` itself.

    A native pipeline reads the dataset's order as it serves it; Keras calls `on_epoch_end`
    only for a `PyDataset` (one that serves another forwards it), so whoever fits on any other
    pipeline advances the epoch (`make_fit_inputs`)."""
    kernels = get_kernels()
    native = kernels.window_dataset(dataset)
    if native is None:
        native = kernels.batch_dataset(dataset)
    return dataset if native is None else native


@dataclass(frozen=True)
class FitInputs:
    """What `model.fit` receives for a training and a validation `PyDataset`.

    Attributes:
        data, validation_data: what fit trains and validates on (`validation_data` may be
            `None`): the datasets themselves, or native pipelines of the same batches.
        callbacks: the callbacks fit then needs (each epoch's order drawn after the epoch
            where a native pipeline reads the dataset's current order).
        steps_per_epoch, validation_steps: for fit, where `data` or `validation_data` is an
            endless pipeline; else `None`.
    """

    data: object
    validation_data: object
    callbacks: tuple
    steps_per_epoch: int | None = None
    validation_steps: int | None = None


def make_fit_inputs(data, validation_data=None, steps_per_execution=1):
    """`FitInputs` of the `PyDataset`s `data` and `validation_data` on the active backend, for
    a model compiled with `steps_per_execution`."""
    served, steps = _serve(data, steps_per_execution)
    callbacks = ()
    if steps is None and not isinstance(served, keras.utils.PyDataset):
        callbacks = (
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: data.on_epoch_end()),
        )
    validation_steps = None
    if validation_data is not None:
        validation_data, validation_steps = _serve(validation_data, steps_per_execution)
    return FitInputs(
        data=served,
        validation_data=validation_data,
        callbacks=callbacks,
        steps_per_epoch=steps,
        validation_steps=validation_steps,
    )


def _serve(dataset, steps_per_execution):
    """What fit receives for `dataset`, and its steps per epoch where that is an endless
    pipeline (else `None`).

    Keras makes a new iterator of a finite `tf.data` pipeline for every epoch and another
    after its last batch (twice per validation too); each took ~12 ms on the 2-core CPU, as
    long as 3 training steps of the AirPassengers tutorial model. An endless pipeline with
    `steps_per_epoch` keeps one training iterator for the whole fit. Only where every compiled
    call stays inside one epoch: Keras's multi-step call runs its `steps_per_execution` steps
    while the data lasts, and endless data always lasts."""
    steps = len(dataset)
    if steps % steps_per_execution == 0:
        endless = get_kernels().window_dataset(dataset, endless=True)
        if isinstance(endless, keras.utils.PyDataset):
            return endless, None
        if endless is not None:
            return endless, steps
    return backend_dataset(dataset), None


def sliding_source(windows):
    """The series that `windows` slide over, or `None`.

    (num, length, columns) windows with ``windows[i, j] == series[i + j]`` (what `make_windows`
    returns: consecutive windows one time step apart in memory) -> series (num + length - 1,
    columns); `None` for any other array. Native pipelines gather batches from it."""
    if windows.ndim != 3 or not len(windows):
        return None
    if windows.shape[1] > 1 and windows.strides[0] != windows.strides[1]:
        return None
    return np.concatenate([windows[:, 0], windows[-1, 1:]])


def cell_eligible(layer, training):
    """Whether `layer` computes the standard cell a fused kernel computes."""
    # What the fused kernels compute: the standard cell, no per-step randomness or state tricks.
    cell = layer.cell
    if cell.kernel.dtype != "float32":
        return False
    if layer.go_backwards or layer.stateful or layer.unroll or layer.return_state:
        return False
    if not cell.use_bias or (training and cell.recurrent_dropout) or (training and cell.dropout):
        return False
    # Identity checks, not `keras.activations.serialize`: that runs on every training step
    # and its first call imports TensorFlow when it is installed (4.9 s, and TF's thread pools
    # then slow torch down for the rest of the process).
    if cell.activation is not keras.activations.tanh:
        return False
    if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
        if cell.recurrent_activation is not keras.activations.sigmoid:
            return False
    if isinstance(layer, keras.layers.GRU):
        return cell.reset_after
    return isinstance(layer, (keras.layers.LSTM, keras.layers.SimpleRNN))
