"""JAX kernels: no fused layers (Keras compiles its recurrent loop into one jitted `lax.scan`
and feeds a `PyDataset` without per-batch Python overhead that matters, docs/speed.md); data
parallelism through `keras.distribution.DataParallel`."""

import functools
import os

from kseq._keras import keras
from kseq.layers._kernels import DataParallel


def run_recurrent(layer, inputs, training):
    return None


def window_dataset(dataset):
    return None


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
