"""TensorFlow kernels: the fused `BlockLSTM` op for small LSTM layers on the CPU, and native
`tf.data` pipelines for window datasets.

Keras feeds a `PyDataset` to TensorFlow through `tf.data.Dataset.from_generator`, one Python
callback per batch through a generator, and every training step slows down next to it: on
workload B of benchmarks/train_speed.py ~500 windows/s against ~1,500 for the same batches
gathered natively from the series with `tf.gather`; on the us_employment global model ~1,200
against ~1,900 for the same `PanelWindowDataset` batches made by one `tf.numpy_function` call
each (docs/speed.md).
"""

import functools
import json
import os

import numpy as np

from kseq._keras import keras
from kseq.errors import ConfigError
from kseq.runtime import ACCELERATOR_STEPS, DataParallel, cell_eligible, sliding_source


def run_recurrent(layer, inputs, training):
    if not _tf_eligible(layer, inputs, training):
        return None
    return _tf_lstm(layer, inputs)


def run_stacked(stack, inputs, training):
    return None  # layer by layer, through `run_recurrent`


def window_dataset(dataset, endless=False):
    from kseq.data.window_dataset import WindowDataset

    return _tf_window_dataset(dataset, endless) if isinstance(dataset, WindowDataset) else None


def batch_dataset(dataset):
    return _tf_batch_dataset(dataset)


@functools.cache
def _split_host_cpu():
    # KSEQ_CPU_DEVICES=N: N logical CPU devices, so that data-parallel code runs (and is
    # tested) on a machine without accelerators. Must happen before TensorFlow runs an op.
    import tensorflow as tf  # backend-dispatch

    count = int(os.environ.get("KSEQ_CPU_DEVICES", "0") or 0)
    cpus = tf.config.list_physical_devices("CPU")
    # (Listing *logical* devices here would start TensorFlow's runtime, so it is not asked.)
    if count < 2 or tf.config.list_physical_devices("GPU") or not cpus:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError as error:
        raise ConfigError(
            f"KSEQ_CPU_DEVICES={count} must be set before TensorFlow starts; set it in the "
            "environment of a fresh process."
        ) from error


def _workers():
    """(workers, this worker's index) from TF_CONFIG (tf.distribute's convention)."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    except ValueError as error:
        raise ConfigError("TF_CONFIG is not valid JSON; fix or unset it.") from error
    cluster = config.get("cluster", {})
    chiefs = len(cluster.get("chief", []))
    task = config.get("task", {})
    index = task.get("index", 0) + (chiefs if task.get("type") == "worker" else 0)
    return len(cluster.get("worker", [])) + chiefs, index


def data_parallel():
    import tensorflow as tf  # backend-dispatch

    workers, index = _workers()
    if workers > 1:
        # Several hosts: TF_CONFIG names them (tf.distribute's convention).
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        engine = "tf.distribute.MultiWorkerMirroredStrategy"
    else:
        _split_host_cpu()
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
        engine = "tf.distribute.MirroredStrategy"
    return DataParallel(
        engine=engine,
        devices=tuple(strategy.extended.worker_devices),
        processes=max(workers, 1),
        batch_multiple=1,  # tf.distribute splits a batch unevenly where it must
        scope=strategy.scope,
        process_index=index if workers > 1 else 0,
    )


# TensorFlow's fused CPU LSTM op (`BlockLSTM`) against Keras's `tf.while_loop`, one layer's
# forward + backward (benchmarks/rnn_kernels.py, docs/speed.md): 2.3x faster at batch 32 x 50
# units, 1.2x at 64 x 64, 0.9x at 128 x 64, 0.74x at 256 x 128. Small layers are where the
# loop's per-step op overhead dominates; larger ones where its bigger matmuls win. So: up to 64
# units, and up to 4096 batch rows x units when the batch size is known at tracing time (kseq's
# pipelines make it known when every batch is full: `full_batch_size`).
TF_FUSED_MAX_UNITS = 64
TF_FUSED_MAX_BATCH_UNITS = 4096


def steps_per_execution():
    return ACCELERATOR_STEPS if _tf_has_gpu() else 1


def predicts_any_batch(model):
    # A model built under a MirroredStrategy splits a batch over its replicas; one window on
    # two replicas came back as two forecasts.
    return model.distribute_strategy.num_replicas_in_sync == 1


@functools.cache
def _tf_has_gpu():
    import tensorflow as tf  # backend-dispatch

    return bool(tf.config.list_physical_devices("GPU"))


def _tf_eligible(layer, inputs, training):
    import tensorflow as tf  # backend-dispatch

    if not isinstance(layer, keras.layers.LSTM) or layer.cell.units > TF_FUSED_MAX_UNITS:
        return False
    if not tf.is_tensor(inputs) or inputs.dtype != tf.float32:
        return False
    batch_size = inputs.shape[0]
    if batch_size is not None and batch_size * layer.cell.units > TF_FUSED_MAX_BATCH_UNITS:
        return False
    if _tf_has_gpu():
        return False  # Keras runs cuDNN there
    return cell_eligible(layer, training)


def _block_order(weights):
    # Keras orders LSTM gates [input, forget, cell, output]; BlockLSTM [input, cell, forget,
    # output].
    i, f, c, o = keras.ops.split(weights, 4, axis=-1)
    return keras.ops.concatenate([i, c, f, o], axis=-1)


def _tf_lstm(layer, inputs):
    import tensorflow as tf  # backend-dispatch

    cell = layer.cell
    units = cell.units
    kernel = cell.kernel
    if inputs.shape[-1] % 2:
        # BlockLSTM logs "inefficient when both batch_size and input_size are odd" on every
        # such call (a recipe's odd last batch and batch-1 forecasts: 1,315 lines in one TF
        # accuracy run). One zero feature with zero weights makes the input size even and
        # changes nothing else: the zeros are constants, so no gradient reaches them.
        inputs = tf.pad(inputs, [[0, 0], [0, 0], [0, 1]])
        kernel = tf.concat([kernel, tf.zeros([1, 4 * units], kernel.dtype)], axis=0)
    # (input_size + units, 4 * units): BlockLSTM multiplies [x_t, h_{t-1}] by one matrix.
    weights = _block_order(tf.concat([kernel, cell.recurrent_kernel], axis=0))
    zeros = tf.zeros(tf.stack([tf.shape(inputs)[0], units]), inputs.dtype)
    no_peephole = tf.zeros([units], inputs.dtype)
    outputs = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.cast(tf.shape(inputs)[1], tf.int64),
        x=tf.transpose(inputs, [1, 0, 2]),  # (time, batch, features)
        cs_prev=zeros,
        h_prev=zeros,
        w=weights,
        wci=no_peephole,
        wcf=no_peephole,
        wco=no_peephole,
        b=_block_order(cell.bias),
        forget_bias=0.0,  # Keras keeps the forget bias in `b`
        cell_clip=-1.0,  # no clipping
        use_peephole=False,
    )
    hidden = outputs[6]  # (time, batch, units)
    return tf.transpose(hidden, [1, 0, 2]) if layer.return_sequences else hidden[-1]


def _tf_window_dataset(dataset, endless=False):
    import tensorflow as tf  # backend-dispatch

    source_x, source_y = sliding_source(dataset.x), sliding_source(dataset.y)
    if source_x is None or source_y is None:
        return None  # not sliding views: Keras's PyDataset path
    num, batch_size, steps = len(dataset.x), dataset.batch_size, len(dataset)
    # Every batch full: a static batch axis (the LSTM kernel is chosen by its size).
    full = dataset.full_batch_size is not None
    series_x = tf.constant(source_x.astype(dataset.dtype))
    series_y = tf.constant(source_y.astype(dataset.dtype))
    offsets_x = tf.range(dataset.x.shape[1], dtype=tf.int64)
    offsets_y = tf.range(dataset.y.shape[1], dtype=tf.int64)

    def gather(starts):
        # (batch, lookback, num_features), (batch, horizon, num_targets)
        return (
            tf.gather(series_x, starts[:, None] + offsets_x),
            tf.gather(series_y, starts[:, None] + offsets_y),
        )

    def batch(positions):
        return positions.batch(batch_size, drop_remainder=full).take(steps)

    if dataset.random_windows or dataset.shuffle:
        # The dataset's order of each epoch (seeded by (seed, epoch), so the same on every
        # backend and in a resumed run), drawn in Python by one `numpy_function` call per epoch
        # — not `from_generator`: a generator source left training 2.4x slower on B (667 vs
        # 1,615 windows/s, 2026-12-04), the same batches from a constant order 1,615, this
        # 1,404 (docs/speed.md). Endless: every epoch from the dataset's current one, each
        # keyed by its number, so batches made ahead of an epoch boundary are that next
        # epoch's. One epoch: the current order, advanced by the caller's
        # `dataset.on_epoch_end()` after each epoch.
        def draw(epoch):
            order = dataset.order_at(int(epoch)) if endless else dataset.order
            return order.astype(np.int64)

        epochs = tf.data.Dataset.range(dataset.epoch, dataset.epoch + (2**62 if endless else 1))
        orders = epochs.map(
            lambda epoch: tf.ensure_shape(
                tf.numpy_function(draw, [epoch], tf.int64, stateful=True), [None]
            )
        )
        batches = orders.flat_map(lambda order: batch(tf.data.Dataset.from_tensor_slices(order)))
        if not endless:
            # Known length: Keras then plans the epoch's steps (and steps_per_execution).
            batches = batches.apply(tf.data.experimental.assert_cardinality(steps))
    else:
        positions = tf.data.Dataset.range(num)
        if dataset.steps_per_epoch is not None:
            positions = positions.repeat()
        batches = batch(positions)
        if endless:
            batches = batches.repeat()
    return batches.map(gather).prefetch(1)


def _tf_batch_dataset(dataset):
    import tensorflow as tf  # backend-dispatch

    # The first batch gives the structure ((x or {name: x}, y)) and dtypes; batches differ
    # only in their first dimension (a last partial batch), which is static when the dataset
    # says that every batch is full: the LSTM kernel is chosen by the batch size
    # (`_tf_eligible`), and an unknown size takes the fused op, which is slower on large
    # batches (us_employment's 256 windows x 64 units: ~3,200 against ~4,000 windows/s).
    first = tf.nest.map_structure(np.asarray, dataset[0])
    batch_size = getattr(dataset, "full_batch_size", None)
    specs = [tf.TensorSpec((batch_size, *a.shape[1:]), a.dtype) for a in tf.nest.flatten(first)]

    def serve(index):
        return [np.asarray(a) for a in tf.nest.flatten(dataset[int(index)])]

    def load(index):
        # One Python call per batch, made by tf.data's own thread: the dataset's order of the
        # current epoch is read as each batch is made.
        arrays = tf.numpy_function(serve, [index], [s.dtype for s in specs], stateful=True)
        arrays = [tf.ensure_shape(a, s.shape) for a, s in zip(arrays, specs, strict=True)]
        return tf.nest.pack_sequence_as(first, arrays)

    steps = len(dataset)
    batches = tf.data.Dataset.range(steps).map(load).prefetch(2)
    # Known length: Keras then plans the epoch's steps (and steps_per_execution) from it.
    return batches.apply(tf.data.experimental.assert_cardinality(steps))
