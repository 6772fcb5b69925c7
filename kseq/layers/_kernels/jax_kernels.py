"""JAX kernels: no fused layers (Keras compiles its recurrent loop into one jitted `lax.scan`
and feeds a `PyDataset` without per-batch Python overhead that matters, docs/speed.md); data
parallelism through `keras.distribution.DataParallel`.

Tried and left out: projecting every step's inputs with one matmul before a `lax.scan` that
keeps only the recurrent matmul (what fused CPU kernels do) trained the us_employment global
model (2 x LSTM(64), batch 256) slower than Keras's own scan: ~1,430 against ~1,810 windows/s,
three interleaved pairs (session 13, docs/speed.md)."""

import functools
import os

from kseq._keras import keras
from kseq.layers._kernels import DataParallel


def run_recurrent(layer, inputs, training):
    return None


def run_stacked(stack, inputs, training):
    return None  # layer by layer, through `run_recurrent`


def window_dataset(dataset):
    return None


def batch_dataset(dataset):
    return None  # Keras iterates a PyDataset in Python, without tf.data in between


# Steps per call on an accelerator: on a GPU a step of a small recurrent model takes a few ms
# of device time and Keras's per-call host work (callbacks, logs, the epoch iterator) ~1 ms;
# 16 steps per call left stock Keras on JAX at 0.98x cuDNN against 0.67x with 1 (H100,
# session 4, docs/speed.md).
ACCELERATOR_STEPS = 16


def steps_per_execution():
    import jax  # backend-dispatch

    return 1 if jax.default_backend() == "cpu" else ACCELERATOR_STEPS


@functools.cache
def _initialize_processes():
    # Several hosts: `keras.distribution.initialize` (jax.distributed underneath) reads
    # KERAS_DISTRIBUTION_JOB_ADDRESSES / _NUM_PROCESSES / _PROCESS_ID; it must run before any
    # JAX computation, once per process.
    if int(os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "1")) > 1:
        keras.distribution.initialize()


def data_parallel():
    import jax  # backend-dispatch

    _initialize_processes()
    devices = keras.distribution.list_devices()
    distribution = keras.distribution.DataParallel(devices=devices)
    return DataParallel(
        engine="keras.distribution.DataParallel",
        devices=tuple(devices),
        processes=jax.process_count(),
        # The batch axis is sharded evenly over this process's devices.
        batch_multiple=jax.local_device_count(),
        scope=distribution.scope,
        process_index=jax.process_index(),
    )
