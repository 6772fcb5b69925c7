"""One LSTM layer's forward + backward: Keras's own loop against kseq's fused path, same run.

    KERAS_BACKEND=tensorflow python benchmarks/rnn_kernels.py
    KERAS_BACKEND=torch python benchmarks/rnn_kernels.py

For each shape (batch, time, features, units) times one training-style pass (outputs, a sum of
squares, gradients of every weight) through `keras.layers.LSTM` called directly (Keras's
path) and through `kseq.runtime.run_recurrent` (the fused kernel, where the dispatch
point picks one), alternating the two, median of `--repeats` passes after warm-up. Also
checks the two agree (relative gradient error). On TensorFlow the dispatch point uses the fused
op only up to `TF_FUSED_MAX_UNITS` units; this script forces it on every shape so the
threshold can be re-derived from the table. Writes JSON to `benchmarks/results/`.
"""

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from kseq.backend import ensure_backend

ensure_backend()

import keras  # noqa: E402

from kseq.runtime import get_kernels  # noqa: E402

SHAPES = [
    (16, 24, 1, 32),  # AirPassengers recipe size
    (32, 60, 1, 50),  # workload A, first layer
    (32, 60, 50, 50),  # workload A, later layers
    (64, 30, 1, 64),
    (128, 30, 64, 64),
    (256, 30, 1, 128),  # workload B, first layer
    (256, 30, 128, 128),  # workload B, second layer
]


def _pass_tensorflow(layer, fused):
    import tensorflow as tf

    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            y = get_kernels().run_recurrent(layer, x, True) if fused else layer(x)
            loss = tf.reduce_sum(y * y)
        return loss, tape.gradient(loss, [v.value for v in layer.trainable_variables])

    def call(x):
        loss, grads = run(x)
        return [g.numpy() for g in grads]

    return call


def _pass_torch(layer, fused):
    def call(x):
        for v in layer.trainable_variables:
            v.value.grad = None
        y = get_kernels().run_recurrent(layer, x, True) if fused else layer(x)
        (y * y).sum().backward()
        return [v.value.grad.numpy().copy() for v in layer.trainable_variables]

    return call


def measure(shape, repeats):
    batch, steps, features, units = shape
    keras.utils.set_random_seed(0)
    layer = keras.layers.LSTM(units, return_sequences=True)
    layer.build((batch, steps, features))
    x = keras.ops.convert_to_tensor(
        np.random.default_rng(0).normal(size=(batch, steps, features)).astype("float32")
    )
    make = _pass_tensorflow if keras.backend.backend() == "tensorflow" else _pass_torch
    passes = {"keras": make(layer, False), "fused": make(layer, True)}
    grads = {name: run(x) for name, run in passes.items()}  # warm-up and tracing
    error = max(
        float(np.abs(a - b).max() / np.abs(a).max())
        for a, b in zip(grads["keras"], grads["fused"], strict=True)
    )
    times = {name: [] for name in passes}
    for _ in range(repeats):
        for name, run in passes.items():
            start = time.perf_counter()
            run(x)
            times[name].append(time.perf_counter() - start)
    keras_ms, fused_ms = (1e3 * statistics.median(times[n]) for n in ("keras", "fused"))
    return {
        "shape": dict(zip(("batch", "time", "features", "units"), shape, strict=True)),
        "keras_ms": keras_ms,
        "fused_ms": fused_ms,
        "speedup": keras_ms / fused_ms,
        "max_relative_gradient_error": error,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "torch"):
        sys.exit(f"no fused recurrent path on {backend}: Keras's own scan is kseq's path there")
    rows = [measure(shape, args.repeats) for shape in SHAPES]
    print(f"backend {backend}; keras {keras.__version__}; {platform.machine()}")
    print("| batch, time, features, units | Keras loop ms | fused ms | speed-up | grad rel. err |")
    print("|---|---|---|---|---|")
    for row in rows:
        shape = ", ".join(str(v) for v in row["shape"].values())
        print(
            f"| {shape} | {row['keras_ms']:.1f} | {row['fused_ms']:.1f} | "
            f"{row['speedup']:.2f}x | {row['max_relative_gradient_error']:.1e} |"
        )
    out = Path(__file__).parent / "results" / f"rnn_kernels-{backend}.json"
    out.write_text(json.dumps({"backend": backend, "keras": keras.__version__, "rows": rows}))


if __name__ == "__main__":
    main()
