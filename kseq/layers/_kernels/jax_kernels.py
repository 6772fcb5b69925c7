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


def window_dataset(dataset):
    return None


def batch_dataset(dataset):
    return None  # Keras iterates a PyDataset in Python, without tf.data in between


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
