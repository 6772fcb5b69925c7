"""How panel reading, transforms, windows and training grow with the number of series.

A synthetic panel of N series × 1,000 monthly points (ragged starts) is read and validated
(`read_panel`), transformed (log, calendar phases, computed per batch as `GlobalForecaster`
does: `PreparedPanel`), its windows indexed (`WindowStarts`, per-series counts), and a
global 2×LSTM(64) trained for a fixed number of steps (windows/s after a warm-up). Each size
runs in a fresh process so its peak RSS is its own.

Two sources: ``frame`` (the default) builds the panel as one long DataFrame in the measuring
process, and a single series of the same total length is timed the same way for comparison;
``shards`` writes it first, in another process, as Parquet files of 1,000 series each, which
`read_panel` reads one file at a time — how a panel too large for one DataFrame is held.

Memory is reported against the goal "peak RSS ≤ 2 × the values' size plus the model": the
model's part is measured, not guessed — the RSS once Keras, the backend and the model are
loaded and the model has trained two steps on a tiny panel read and served the same way (its
compiled step included), before the panel is read; the data's part is the peak above it.

Usage: ``KERAS_BACKEND=jax python benchmarks/panel_scale.py --source shards --series 1000
10000 100000``. Results: ``benchmarks/results/panel_scale-<backend>[-shards].json`` and
docs/panels.md.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOOKBACK, HORIZON, POINTS = 48, 24, 1000


def make_frame(num_series, points, seed=0, freq="MS", first_id=0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    # Ragged: each series starts 0-23 months after the first.
    shift = rng.integers(0, 24, size=num_series)
    lengths = points - shift
    total = int(lengths.sum())
    series = np.repeat(np.arange(num_series), lengths)
    step = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    months = np.repeat(shift, lengths) + step
    base = pd.Timestamp("1930-01-01")
    dates = pd.DatetimeIndex(pd.date_range(base, periods=points + 24, freq=freq))[months]
    level = np.repeat(rng.uniform(10, 1000, size=num_series), lengths)
    y = level * (1 + 0.1 * np.sin(2 * np.pi * months / 12)) * (1 + 0.001 * step)
    ids = (series + first_id).astype(str)
    return pd.DataFrame({"unique_id": ids, "ds": dates, "y": y})


def write_shards(folder, num_series, per_shard=1000):
    """The panel as Parquet files of `per_shard` series (each its own seed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for k, first in enumerate(range(0, num_series, per_shard)):
        frame = make_frame(min(per_shard, num_series - first), POINTS, seed=k, first_id=first)
        frame.to_parquet(folder / f"part-{k:05d}.parquet", index=False)


def current_rss_mb():
    """The resident set now (Linux), not the high-water mark."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_dataset(panel, steps, result=None):
    """The training windows of `panel` as `GlobalForecaster` serves them: every series on log
    scale, calendar phases, both computed per batch (`PreparedPanel`), window starts from
    per-series counts (`WindowStarts`); the stages' seconds and RSS go into `result`."""
    import numpy as np

    from kseq.data.panel_window_dataset import PanelWindowDataset
    from kseq.data.prepared_panel import PreparedPanel
    from kseq.data.window_starts import WindowStarts

    result = {} if result is None else result
    tick = time.perf_counter()
    on_log = np.minimum.reduceat(panel.values, panel.offsets[:-1]) > 0
    values, scaled, phases = PreparedPanel.of(panel, on_log, season_length=12).arrays()
    result["transform_s"] = round(time.perf_counter() - tick, 2)
    result["rss_after_transform_mb"] = round(current_rss_mb(), 1)
    tick = time.perf_counter()
    starts = WindowStarts.of(panel.offsets, panel.offsets[1:], LOOKBACK + HORIZON)
    result["windows_s"] = round(time.perf_counter() - tick, 3)
    result["windows"] = len(starts)
    result["window_index_mb"] = round((starts.first.nbytes + starts.counts.nbytes) / 2**20, 1)
    result["rss_after_windows_mb"] = round(current_rss_mb(), 1)
    return PanelWindowDataset(
        values,
        scaled,
        phases,
        starts,
        lookback=LOOKBACK,
        horizon=HORIZON,
        season_length=12,
        batch_size=256,
        steps_per_epoch=steps,
        seed=0,
    )


def measure(num_series, steps, single, folder=None):
    """One size, in this process: seconds per stage, windows/s and peak RSS (`folder`: read
    the panel from its shards there)."""

    from kseq.backend import ensure_backend

    ensure_backend()
    import keras

    from kseq.data import read_panel
    from kseq.models import build_forecaster
    from kseq.runtime import make_fit_inputs

    result = {
        "series": num_series,
        "single_series": single,
        "source": "shards" if folder else "frame",
    }
    # The model's part of the memory: Keras, the backend, pandas and pyarrow, and a model that
    # has trained two steps on a tiny panel read the same way (its compiled step included).
    keras.utils.set_random_seed(0)
    model = build_forecaster(LOOKBACK, 3, horizon=HORIZON, units=[64, 64], seed=0)
    model.compile("adam", "mae")
    tiny = make_fit_inputs(make_dataset(read_panel(make_frame(8, 200)), steps=2))
    model.fit(tiny.data, epochs=1, verbose=0)
    result["model_rss_mb"] = round(current_rss_mb(), 1)
    result["model_peak_rss_mb"] = round(peak_rss_mb(), 1)
    freq = "min" if single else "MS"
    tick = time.perf_counter()
    if folder is None:
        # One long series needs a fine frequency to stay inside pandas' dates (minutes here);
        # the timings do not depend on it.
        frame = make_frame(
            1 if single else num_series, POINTS * (num_series if single else 1), freq=freq
        )
        result["frame_mb"] = round(frame.memory_usage(deep=True).sum() / 2**20, 1)
        tick = time.perf_counter()
        panel = read_panel(frame, freq=freq)
        del frame
    else:
        panel = read_panel(folder, freq=freq)
    result["read_validate_s"] = round(time.perf_counter() - tick, 2)
    result["rss_after_read_mb"] = round(current_rss_mb(), 1)
    result["values"] = len(panel.values)
    result["values_mb"] = round(panel.values.nbytes / 2**20, 1)
    data = make_dataset(panel, steps + 5, result)
    result["rss_after_dataset_mb"] = round(current_rss_mb(), 1)

    class Timer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 4:  # after warm-up (tracing / compilation)
                self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    timer = Timer()
    # What GlobalForecaster.fit passes to Keras (on TensorFlow a tf.data pipeline).
    served = make_fit_inputs(data)
    model.fit(served.data, epochs=1, verbose=0, callbacks=[timer], shuffle=False)
    result["train_windows_per_s"] = round(steps * 256 / timer.seconds, 1)
    result["model_mb"] = round(model.count_params() * 4 / 2**20, 2)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    # The goal: the data's part of the peak within 2 × the values.
    result["data_rss_mb"] = round(result["peak_rss_mb"] - result["model_peak_rss_mb"], 1)
    result["data_rss_over_values"] = round(result["data_rss_mb"] / result["values_mb"], 2)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--steps", type=int, default=40, help="timed training steps")
    parser.add_argument("--source", choices=("frame", "shards"), default="frame")
    parser.add_argument("--workdir", default=None, help="where the shards go (a temp folder)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: one size
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)  # child: read these shards
    parser.add_argument("--write", help=argparse.SUPPRESS)  # child: write the shards here
    args = parser.parse_args(argv)
    if args.write is not None:
        write_shards(args.write, args.one)
        return 0
    if args.one is not None:
        print(json.dumps(measure(args.one, args.steps, args.single, args.folder)))
        return 0
    rows = []
    # The children measure this checkout's kseq, not an installed copy.
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        for num_series in args.series:
            child = [sys.executable, __file__, "--one", str(num_series), "--steps", str(args.steps)]
            if args.source == "shards":
                folder = Path(workdir) / f"panel-{num_series}"
                tick = time.perf_counter()
                subprocess.run([*child, "--write", str(folder)], check=True, env=env)
                write_s = round(time.perf_counter() - tick, 1)
                files_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
                commands = [[*child, "--folder", str(folder)]]
            else:
                commands = [child, [*child, "--single"]]
            for command in commands:
                out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
                out = out.stdout
                rows.append(json.loads(out.strip().splitlines()[-1]))
                if args.source == "shards":
                    rows[-1].update(write_s=write_s, files_mb=round(files_mb, 1))
                print(json.dumps(rows[-1]), flush=True)
            if args.source == "shards":
                shutil.rmtree(folder)
    backend = os.environ.get("KERAS_BACKEND", "default")
    suffix = "-shards" if args.source == "shards" else ""
    path = Path(__file__).with_name("results") / f"panel_scale-{backend}{suffix}.json"
    path.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
