"""Training speed of one global model on us_employment: kseq vs neuralforecast's LSTM.

Both train the same sizes on the 148 series' training months (the recipe's last 48 months of
each series held out): a 2 × LSTM(64) encoder over 48 months, a direct 24-month output, 256
windows a step, Adam. kseq serves windows as `GlobalForecaster` does (log values, calendar
phases, per-batch transforms: `panel_scale.make_dataset`) to its ``forecaster`` builder.
neuralforecast 3.x trains ``LSTM(h=24, input_size=48, encoder_n_layers=2,
encoder_hidden_size=64, decoder_hidden_size=64, decoder_layers=1, windows_batch_size=256)``
with its robust scaler; its MLP decoder is neuralforecast's own, so the models are alike in
what costs (the LSTM over 48 steps), not identical.

Windows per second are counted over `--steps` steps after 5 warm-up steps (tracing,
compilation, first allocations), by a Keras callback and a Lightning callback. Every sample
runs in a fresh process; the two run in interleaved rounds (kseq, neuralforecast, kseq, ...),
and the ratio is taken within each round, so the machine's drift cancels.

neuralforecast is an optional dependency of this benchmark only; `--nf-python` names a Python
that has it (e.g. a virtual environment with ``torch==2.13.0 neuralforecast``).

Usage: ``KERAS_BACKEND=jax python benchmarks/global_speed.py --nf-python /tmp/nf/bin/python``.
Results: ``benchmarks/results/global_speed-<backend>.json`` and docs/speed.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

LOOKBACK, HORIZON, UNITS, BATCH, WARMUP, HELD_OUT = 48, 24, 64, 256, 5, 48


def load_training_frame():
    """The us_employment panel without each series' last `HELD_OUT` months, as a long frame."""
    from kseq.data import load_us_employment

    panel = load_us_employment()
    return panel.head(panel.lengths - HELD_OUT).to_frame()


def time_kseq(steps):
    from kseq.backend import ensure_backend

    ensure_backend()
    import keras
    from panel_scale import make_dataset

    from kseq.data import read_panel
    from kseq.models import build_forecaster
    from kseq.runtime import make_fit_inputs

    panel = read_panel(load_training_frame(), freq="MS")
    keras.utils.set_random_seed(0)
    # Inputs: the value and the month's phase as sine and cosine (3 features).
    model = build_forecaster(LOOKBACK, 3, horizon=HORIZON, units=[UNITS, UNITS], seed=0)
    model.compile(keras.optimizers.Adam(1e-3), "mae")

    class Timer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == WARMUP - 1:
                self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    timer = Timer()
    # What GlobalForecaster.fit passes to Keras (on TensorFlow a tf.data pipeline).
    served = make_fit_inputs(make_dataset(panel, steps + WARMUP))
    model.fit(served.data, epochs=1, verbose=0, callbacks=[timer], shuffle=False)
    return {"windows_per_s": steps * BATCH / timer.seconds, "params": model.count_params()}


def time_neuralforecast(steps):
    import pytorch_lightning as pl
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    # neuralforecast copies its trainer's arguments: the callback writes to this dict.
    marks = {}

    class Timer(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if trainer.global_step == WARMUP:
                marks["start"] = time.perf_counter()
            marks["steps"] = trainer.global_step

        def on_train_end(self, trainer, pl_module):
            marks["seconds"] = time.perf_counter() - marks["start"]

    timer = Timer()
    model = LSTM(
        h=HORIZON,
        input_size=LOOKBACK,
        encoder_n_layers=2,
        encoder_hidden_size=UNITS,
        decoder_hidden_size=UNITS,
        decoder_layers=1,
        windows_batch_size=BATCH,
        batch_size=32,
        max_steps=steps + WARMUP,
        learning_rate=1e-3,
        scaler_type="robust",
        random_seed=0,
        val_check_steps=10**6,
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        logger=False,
        callbacks=[timer],
    )
    NeuralForecast(models=[model], freq="MS").fit(load_training_frame())
    params = sum(p.numel() for p in model.parameters())
    timed = marks["steps"] - WARMUP
    return {"windows_per_s": timed * BATCH / marks["seconds"], "params": int(params)}


def run_child(python, which, steps):
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[1]), str(Path(__file__).parent)]),
    )
    command = [python, __file__, "--one", which, "--steps", str(steps)]
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"{which} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", "--repeat", type=int, default=5, help="rounds (interleaved)")
    parser.add_argument("--steps", type=int, default=100, help="timed steps after the warm-up")
    parser.add_argument("--nf-python", required=False, help="a Python with neuralforecast")
    parser.add_argument("--one", choices=("kseq", "neuralforecast"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        timer = time_kseq if args.one == "kseq" else time_neuralforecast
        print(json.dumps(timer(args.steps)))
        return 0
    if args.nf_python is None:
        parser.error("--nf-python is required: a Python where neuralforecast is installed.")
    samples = {"kseq": [], "neuralforecast": []}
    ratios = []
    for round_ in range(args.repeats):
        for which, python in (("kseq", sys.executable), ("neuralforecast", args.nf_python)):
            samples[which].append(run_child(python, which, args.steps))
            print(f"round {round_ + 1} {which}: {json.dumps(samples[which][-1])}", flush=True)
        ratios.append(
            samples["kseq"][-1]["windows_per_s"] / samples["neuralforecast"][-1]["windows_per_s"]
        )
    median = {k: statistics.median(s["windows_per_s"] for s in v) for k, v in samples.items()}
    backend = os.environ.get("KERAS_BACKEND", "default")
    print(f"\n| variant | windows/s, median of {args.repeats} |\n|---|---|")
    for which, value in median.items():
        print(f"| {which} | {value:,.0f} |")
    print(
        f"\nkseq ({backend}) vs neuralforecast, per-round ratio: median "
        f"{statistics.median(ratios):.2f}× (range {min(ratios):.2f}–{max(ratios):.2f})"
    )
    result = {
        "backend": backend,
        "args": {"repeats": args.repeats, "steps": args.steps},
        "samples": samples,
        "median_windows_per_s": median,
        "ratios": ratios,
        "median_ratio": statistics.median(ratios),
    }
    path = Path(__file__).with_name("results") / f"global_speed-{backend}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
