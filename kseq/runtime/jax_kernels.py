"""JAX kernels: no fused layers (Keras compiles its recurrent loop into one jitted `lax.scan`,
docs/speed.md); on an accelerator, windows gathered on the device from a series copied there
once; data parallelism through `keras.distribution.DataParallel`.

Tried and left out: projecting every step's inputs with one matmul before a `lax.scan` that
keeps only the recurrent matmul (what fused CPU kernels do) trained the us_employment global
model (2 x LSTM(64), batch 256) slower than Keras's own scan: ~1,430 against ~1,810 windows/s,
three interleaved pairs (2026-12-04, docs/speed.md)."""

import functools
import os

from kseq._keras import keras
from kseq.runtime import ACCELERATOR_STEPS, DataParallel, sliding_source


def run_recurrent(layer, inputs, training):
    return None


def run_stacked(stack, inputs, training):
    return None  # layer by layer, through `run_recurrent`


def window_dataset(dataset, endless=False):
    if not _on_accelerator() or keras.distribution.distribution() is not None:
        # On a CPU the host batches are the device's already; a distribution shards each batch
        # over its devices itself.
        return None
    series_x, series_y = sliding_source(dataset.x), sliding_source(dataset.y)
    if series_x is None or series_y is None:
        return None
    return _DeviceWindows(dataset, series_x, series_y)


def _on_accelerator():
    import jax  # backend-dispatch

    return jax.default_backend() != "cpu"


class _DeviceWindows(keras.utils.PyDataset):
    """A `WindowDataset`'s batches gathered on the accelerator from its series, copied there
    once: each batch moves only its window starts (batch_size ints) to the device, not
    batch_size x lookback floats, and costs one compiled gather."""

    def __init__(self, dataset, series_x, series_y):
        import jax  # backend-dispatch

        super().__init__()
        self.dataset = dataset
        self._series = (
            jax.device_put(series_x.astype(dataset.dtype)),
            jax.device_put(series_y.astype(dataset.dtype)),
        )
        self._gather = jax.jit(
            functools.partial(_gather, lookback=dataset.x.shape[1], horizon=dataset.y.shape[1])
        )

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        # The dataset's order of the current epoch.
        size = self.dataset.batch_size
        starts = self.dataset.order[index * size : (index + 1) * size]
        return self._gather(*self._series, starts)

    def on_epoch_end(self):
        # Keras calls this where it would call the dataset's own: the same orders, epoch by
        # epoch, as the dataset served on the host.
        self.dataset.on_epoch_end()


def _gather(series_x, series_y, starts, lookback, horizon):
    import jax.numpy as jnp  # backend-dispatch

    # (batch, lookback, num_features), (batch, horizon, num_targets)
    return (
        series_x[starts[:, None] + jnp.arange(lookback)],
        series_y[starts[:, None] + jnp.arange(horizon)],
    )


def batch_dataset(dataset):
    return None  # Keras iterates a PyDataset in Python, without tf.data in between


def steps_per_execution():
    return ACCELERATOR_STEPS if _on_accelerator() else 1


def predicts_any_batch(model):
    # `keras.distribution.DataParallel` shards each batch evenly over its devices.
    return keras.distribution.distribution() is None


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
