"""Training speed: kseq vs stock Keras layers vs plain PyTorch, side by side in one run.

    KERAS_BACKEND=jax python benchmarks/train_speed.py [--repeats 5] [--steps 60]
    for b in tensorflow torch jax; do KERAS_BACKEND=$b python benchmarks/train_speed.py; done

Workloads (see shared reference figures):
  A  AirPassengers tutorial model: MinMax(-1, 1), lookback 60 -> next value, 4 x (LSTM(50) +
     Dropout(0.2)), Dense(1); Adam, MSE, batch 32, all 84 windows. Seconds per steady epoch
     (median of epochs after the first) and the first epoch (tracing / compilation). Fed as
     arrays, like the other variants; "kseq, WindowDataset" feeds them as `Forecaster.fit`
     does (a shuffled `WindowDataset` through `make_fit_inputs`).
  B  Throughput: y = 5 sin(x) + 10 on 200k points, lookback 30 -> next value, 2 x LSTM(128),
     Dense(1), batch 256. Windows per second over `--steps` steps after warm-up.
  E  End to end: `python -m kseq.recipes.airpassengers` process wall time (import included).

Each variant runs `--repeats` times, in rounds (every variant once per round), each Keras run in
a fresh process of the same backend (`--same-process` to keep them here); medians, and the
ratio to plain PyTorch in each round (median and range over rounds), are printed as a Markdown
table and written to benchmarks/results/train_speed-<backend>.json.
Plain PyTorch needs torch installed (or `--torch-python` naming a Python that has it); without
it those columns are skipped. On a machine with a CUDA GPU, Keras trains there and plain
PyTorch runs cuDNN's `nn.LSTM` there (results go to `train_speed-<backend>-gpu.json`);
`--steps-per-execution N` compiles the Keras variants with Keras's `steps_per_execution` (JAX
and TensorFlow only; `auto`: kseq's choice for the device, 16 on a GPU, 1 on a CPU).
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kseq.backend import ensure_backend

ensure_backend()

import keras  # noqa: E402

from kseq.data import WindowDataset, load_airpassengers, make_windows  # noqa: E402
from kseq.models import build_airpassengers_tutorial, build_forecaster  # noqa: E402
from kseq.runtime import backend_dataset, choose_steps_per_execution, make_fit_inputs  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.epochs, self.batches = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(time.perf_counter() - self._start)

    def on_train_batch_end(self, batch, logs=None):
        # With steps_per_execution > 1 Keras calls this once per execution, with the index of
        # its last step.
        self.batches.append((batch, time.perf_counter()))


def windows_a():
    """A's windows as `make_windows` returns them: sliding views of the scaled series."""
    values = load_airpassengers().to_numpy()
    scaled = 2 * (values - values.min()) / (values.max() - values.min()) - 1
    return make_windows(scaled, lookback=60)


def data_a():
    x, y = windows_a()
    return np.ascontiguousarray(x, "float32"), np.ascontiguousarray(y[:, 0], "float32")


def data_b():
    series = 5 * np.sin(np.linspace(0, 2000, 200_000)) + 10
    return make_windows((series - 10) / 5, lookback=30)


def stock_a():
    layers = [keras.Input((60, 1))]
    for i in range(4):
        layers += [keras.layers.LSTM(50, return_sequences=i < 3), keras.layers.Dropout(0.2)]
    return keras.Sequential(layers + [keras.layers.Dense(1)])


def stock_b():
    return keras.Sequential(
        [
            keras.Input((30, 1)),
            keras.layers.LSTM(128, return_sequences=True, dropout=0.0),
            keras.layers.LSTM(128),
            keras.layers.Dense(1),
        ]
    )


def keras_a(model, epochs, steps_per_execution=1, kseq_pipeline=False):
    x, y = data_a()
    if len(model.output_shape) == 3:
        y = y[:, :, None]
    model.compile(keras.optimizers.Adam(1e-3), "mse", steps_per_execution=steps_per_execution)
    timer = EpochTimer()
    if kseq_pipeline:
        # What `Forecaster.fit` gives Keras: a shuffled `WindowDataset` of the windows through
        # `make_fit_inputs` (on TensorFlow one endless tf.data pipeline for the whole fit).
        data = WindowDataset(*windows_a(), 32, shuffle=True, seed=0)
        served = make_fit_inputs(data, steps_per_execution=steps_per_execution)
        model.fit(
            served.data,
            epochs=epochs,
            steps_per_epoch=served.steps_per_epoch,
            shuffle=False,
            verbose=0,
            callbacks=[timer, *served.callbacks],
        )
    else:
        model.fit(x, y, batch_size=32, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
    return {"first_epoch_s": timer.epochs[0], "epoch_s": statistics.median(timer.epochs[1:])}


class MeanSquaredError(keras.losses.Loss):
    """MSE reduced to its mean in the loss itself. Keras's own reduction divides by the number
    of values as a tensor made from the shape each step; on a CUDA device that host-to-device
    copy waits for the forward pass (docs/speed.md, 2026-12-04). A scalar passes its reduction
    untouched. Benchmark-only, to measure that wait."""

    def call(self, y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_pred - y_true))


def keras_b(
    model,
    steps,
    warmup=5,
    kseq_pipeline=False,
    steps_per_execution=1,
    host_windows=False,
    loss="mse",
):
    x, y = data_b()
    if len(model.output_shape) == 2:
        y = y[:, 0]
    model.compile(keras.optimizers.Adam(1e-3), loss, steps_per_execution=steps_per_execution)
    timer = EpochTimer()
    if kseq_pipeline:
        data = WindowDataset(x, y, 256, shuffle=True, steps_per_epoch=warmup + steps, seed=0)
        # host_windows: the PyDataset itself, without the backend's native pipeline.
        served = data if host_windows else backend_dataset(data)
        model.fit(served, epochs=1, verbose=0, callbacks=[timer])
    else:
        count = (warmup + steps) * 256
        rows = np.random.default_rng(0).permutation(len(x))[:count]
        xs, ys = np.asarray(x[rows], "float32"), np.asarray(y[rows], "float32")
        model.fit(xs, ys, batch_size=256, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
    # From the first callback at or after the warm-up steps to the last one.
    first_step, start = next((b, t) for b, t in timer.batches if b >= warmup - 1)
    last_step, end = timer.batches[-1]
    return {"windows_per_s": (last_step - first_step) * 256 / (end - start)}


def torch_device():
    import torch

    # On a GPU machine plain PyTorch runs there: nn.LSTM is then cuDNN's fused kernel.
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def torch_sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()  # GPU work is asynchronous: time what has finished


def torch_a(epochs):
    import torch

    torch.manual_seed(0)
    device = torch_device()
    x, y = (torch.from_numpy(a).to(device) for a in data_a())

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(1, 50, num_layers=4, dropout=0.2, batch_first=True)
            self.drop = torch.nn.Dropout(0.2)
            self.head = torch.nn.Linear(50, 1)

        def forward(self, inputs):
            return self.head(self.drop(self.lstm(inputs)[0][:, -1]))

    net = Net().to(device)
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for rows in torch.randperm(len(x), device=device).split(32):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x[rows]), y[rows])  # (32, 1) both
            loss.backward()
            optimizer.step()
        torch_sync()
        times.append(time.perf_counter() - start)
    return {"first_epoch_s": times[0], "epoch_s": statistics.median(times[1:])}


def torch_b(steps, warmup=5):
    import torch

    torch.manual_seed(0)
    device = torch_device()
    x, y = data_b()
    lstm = torch.nn.LSTM(1, 128, num_layers=2, batch_first=True).to(device)
    head = torch.nn.Linear(128, 1).to(device)
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], 1e-3)
    rows = np.random.default_rng(0).permutation(len(x))[: (warmup + steps) * 256]
    xs = torch.from_numpy(np.asarray(x[rows], "float32"))
    ys = torch.from_numpy(np.asarray(y[rows, 0], "float32"))
    for step in range(warmup + steps):
        if step == warmup:
            torch_sync()
            start = time.perf_counter()
        batch = slice(step * 256, (step + 1) * 256)
        # Batches start in host memory, as Keras's do.
        inputs, targets = xs[batch].to(device), ys[batch].to(device)
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(head(lstm(inputs)[0][:, -1]), targets)  # (256, 1) both
        loss.backward()
        optimizer.step()
    torch_sync()
    return {"windows_per_s": steps * 256 / (time.perf_counter() - start)}


def plain_torch(workload, args):
    command = [
        args.torch_python or sys.executable,
        __file__,
        "--plain-torch",
        workload,
        "--epochs",
        str(args.epochs),
        "--steps",
        str(args.steps),
    ]
    result = subprocess.run(
        command,
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ, KERAS_BACKEND="torch"),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def fresh_process(key, args):
    # Same backend (KERAS_BACKEND is inherited), same settings, one run of one variant.
    command = [sys.executable, __file__, "--one", key, "--epochs", str(args.epochs)]
    command += ["--steps", str(args.steps)]
    command += ["--steps-per-execution", str(args.steps_per_execution)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def end_to_end():
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "kseq.recipes.airpassengers", "--quiet", "--out", out],
            check=True,
            capture_output=True,
        )
        return {"wall_s": time.perf_counter() - start}


def flops_b():
    # Forward multiply-adds of one LSTM step: 4·units·(inputs + units); training ~3x forward.
    per_window = 30 * (4 * 128 * (1 + 128) + 4 * 128 * (128 + 128)) + 128
    return 2 * 3 * per_window * 256  # FLOP per training step of 256 windows


def accelerator():
    """The GPU Keras trains on here (its name), or None on a CPU-only machine."""
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return None if device.platform == "cpu" else device.device_kind
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return gpus[0].name if gpus else None


def cpu_peak():
    """Measured float32 matmul rates (GFLOP/s): a large square one and one of B's per-step size."""

    def rate(m, k, n, repeats):
        rng = np.random.default_rng(0)
        a, b = rng.random((m, k), "float32"), rng.random((k, n), "float32")
        a @ b
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start)
        return 2 * m * k * n / statistics.median(times) / 1e9

    # B's LSTM step: (batch 256, units 128) by (128, 4 gates x 128); every FLOP of B is in
    # matmuls of this size, so their rate bounds B's throughput.
    return {"square_4096": rate(4096, 4096, 4096, 5), "lstm_step_b": rate(256, 128, 512, 300)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", "--repeat", type=int, default=5, help="rounds (interleaved)")
    parser.add_argument("--epochs", type=int, default=12, help="epochs per run of workload A")
    parser.add_argument("--steps", type=int, default=60, help="timed steps of workload B")
    parser.add_argument(
        "--steps-per-execution",
        default="1",
        help="Keras compile(steps_per_execution=...) for the Keras variants: a number, or "
        "'auto' for kseq's choice on this device (16 on a JAX/TensorFlow GPU, else 1)",
    )
    parser.add_argument("--skip", default="", help="comma list of workloads to skip: A,B,E")
    parser.add_argument(
        "--e-repeats",
        type=int,
        default=1,
        help="repetitions of E (a full recipe run: minutes each)",
    )
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="run every Keras variant in this process (by default each repetition gets a fresh "
        "process: on TensorFlow a process's speed drifts after its first training run)",
    )
    parser.add_argument(
        "--torch-python",
        help="the Python that runs plain PyTorch (one with torch and kseq installed, such as "
        ".tox/torch/bin/python), when this backend's environment lacks torch",
    )
    parser.add_argument("--plain-torch", choices=("A", "B"), help=argparse.SUPPRESS)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # "B: kseq": run once, print JSON
    args = parser.parse_args(argv)
    if args.plain_torch:
        result = torch_a(args.epochs) if args.plain_torch == "A" else torch_b(args.steps)
        print(json.dumps(result))
        return
    skip = set(args.skip.upper().split(",")) - {""}
    backend = keras.backend.backend()

    spe = choose_steps_per_execution(args.steps_per_execution)
    variants = {
        "A": {
            "kseq": lambda: keras_a(build_airpassengers_tutorial(), args.epochs, spe),
            "kseq, WindowDataset": lambda: keras_a(
                build_airpassengers_tutorial(), args.epochs, spe, kseq_pipeline=True
            ),
            "stock Keras": lambda: keras_a(stock_a(), args.epochs, spe),
        },
        "B": {
            "kseq": lambda: keras_b(
                _kseq_b(), args.steps, kseq_pipeline=True, steps_per_execution=spe
            ),
            "stock Keras": lambda: keras_b(stock_b(), args.steps, steps_per_execution=spe),
        },
        "E": {"kseq": end_to_end},
    }
    if accelerator() is not None:
        # What the GPU run of 2026-12-04 could not measure: the device-side window gather
        # against the host PyDataset (JAX), and the loss's per-step wait on the device (torch).
        if backend == "jax":
            variants["B"]["kseq, host windows"] = lambda: keras_b(
                _kseq_b(),
                args.steps,
                kseq_pipeline=True,
                steps_per_execution=spe,
                host_windows=True,
            )
        variants["B"]["kseq, loss reduced in the loss"] = lambda: keras_b(
            _kseq_b(),
            args.steps,
            kseq_pipeline=True,
            steps_per_execution=spe,
            loss=MeanSquaredError(),
        )
    if HAS_TORCH or args.torch_python:
        # A separate process: another framework's thread pools in this one slow torch down
        # (measured: 2.4x on workload A next to JAX).
        variants["A"]["plain PyTorch"] = lambda: plain_torch("A", args)
        variants["B"]["plain PyTorch"] = lambda: plain_torch("B", args)

    if args.one:
        workload, name = args.one.split(": ")
        print(json.dumps(variants[workload][name]()))
        return

    # Rounds: every variant once per round, so drifts of the machine hit all variants alike.
    samples = {}
    for repeat in range(max(args.repeats, args.e_repeats)):
        for workload, runs in variants.items():
            if workload in skip or repeat >= (args.e_repeats if workload == "E" else args.repeats):
                continue
            for name, run in runs.items():
                key = f"{workload}: {name}"
                if args.same_process or workload == "E" or name == "plain PyTorch":
                    keras.backend.clear_session()
                    samples.setdefault(key, []).append(run())
                else:
                    samples.setdefault(key, []).append(fresh_process(key, args))
    results = {
        key: {k: statistics.median(s[k] for s in runs) for k in runs[0]} | {"samples": runs}
        for key, runs in samples.items()
    }

    gpu = accelerator()
    lines = [
        f"backend {backend}; keras {keras.__version__}; {platform.processor() or 'cpu'}; "
        f"{os.cpu_count()} cores; GPU {gpu or 'none'}; steps_per_execution {spe}; "
        f"medians of {args.repeats} (E: {args.e_repeats})",
        "",
        "| workload | variant | s/epoch (A) | first epoch s (A) | windows/s (B) | wall s (E) | "
        "vs plain PyTorch, median (range) of rounds |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, row in results.items():
        workload, name = key.split(": ")
        ratio = ""
        paired = round_ratios(samples, workload, name)
        if paired:
            row["ratios_to_plain_pytorch"] = paired
            ratio = f"{statistics.median(paired):.2f}x ({min(paired):.2f}-{max(paired):.2f})"
        lines.append(
            f"| {workload} | {name} | {_fmt(row, 'epoch_s')} | {_fmt(row, 'first_epoch_s')} | "
            f"{_fmt(row, 'windows_per_s', '.0f')} | {_fmt(row, 'wall_s')} | {ratio} |"
        )
    peak = None
    if "B: kseq" in results and gpu is None:  # the CPU's peak says nothing about a GPU run
        peak = cpu_peak()
        gflops = flops_b() * results["B: kseq"]["windows_per_s"] / 256 / 1e9
        ceiling = peak["lstm_step_b"] * 1e9 / flops_b() * 256
        lines.append(
            f"\nB: ~{flops_b() / 1e9:.1f} GFLOP per training step; kseq sustains ~{gflops:.0f} "
            f"GFLOP/s, {gflops / peak['square_4096']:.0%} of this CPU's measured float32 peak "
            f"({peak['square_4096']:.0f} GFLOP/s, NumPy 4096^2 matmul). B's per-step matmuls "
            f"(256x128 by 128x512) run at {peak['lstm_step_b']:.0f} GFLOP/s alone: with every "
            f"FLOP at that rate and nothing else, B would reach ~{ceiling:.0f} windows/s."
        )
    print("\n".join(lines))
    name = f"train_speed-{backend}" + ("-gpu" if gpu else "") + (f"-spe{spe}" if spe > 1 else "")
    out = Path(__file__).with_name("results") / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "backend": backend,
                "versions": {"keras": keras.__version__, "python": platform.python_version()},
                "gpu": gpu,
                "args": vars(args),
                "results": results,
                "matmul_gflops": peak,
            },
            indent=2,
        )
    )


def _kseq_b():
    # The sine study's body without its dropout, like for like with the other variants.
    return build_forecaster(30, units=(128, 128))


def round_ratios(samples, workload, name):
    """Speed relative to plain PyTorch in each round (higher is faster): each sample is divided
    by the plain-PyTorch sample of its own round, so the machine's drift between rounds
    cancels; empty without a plain-PyTorch reference."""
    reference = samples.get(f"{workload}: plain PyTorch")
    runs = samples[f"{workload}: {name}"]
    if not reference:
        return []
    if "epoch_s" in runs[0]:
        return [ref["epoch_s"] / run["epoch_s"] for run, ref in zip(runs, reference, strict=True)]
    if "windows_per_s" in runs[0]:
        pairs = zip(runs, reference, strict=True)
        return [run["windows_per_s"] / ref["windows_per_s"] for run, ref in pairs]
    return []


def _fmt(row, key, spec=".3g"):
    return format(row[key], spec) if key in row else ""


if __name__ == "__main__":
    main()
