"""How panel reading, transforms, windows and training grow with the number of series.

A synthetic panel of N series × 1,000 monthly points (ragged starts) is built as a long
DataFrame, then: read + validate (`read_panel`), transform (log, calendar phases), index the
windows (`make_panel_starts`), and train a global 2×LSTM(64) for a fixed number of steps
(windows/s after a warm-up). Each size runs in a fresh process so its peak RSS is its own; a
single series of the same total length is timed in the same way for comparison.

Usage: ``KERAS_BACKEND=jax python benchmarks/panel_scale.py --series 1000 10000 100000``.
Results: ``benchmarks/results/panel_scale-<backend>.json`` and docs/panels.md.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

LOOKBACK, HORIZON, POINTS = 48, 24, 1000


def make_frame(num_series, points, seed=0, freq="MS"):
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
    return pd.DataFrame({"unique_id": series.astype(str), "ds": dates, "y": y})


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(num_series, steps, single):
    """One size, in this process: seconds per stage, windows/s and peak RSS."""
    import numpy as np

    from kseq.backend import ensure_backend

    ensure_backend()
    import keras

    from kseq.data import read_panel
    from kseq.data.panel_window_dataset import PanelWindowDataset, make_panel_starts
    from kseq.models import build_forecaster

    result = {"series": num_series, "single_series": single}
    # One long series needs a fine frequency to stay inside pandas' dates (minutes here); the
    # timings do not depend on it.
    freq = "min" if single else "MS"
    frame = make_frame(
        1 if single else num_series, POINTS * (num_series if single else 1), freq=freq
    )
    result["values"] = len(frame)
    result["frame_mb"] = round(frame.memory_usage(deep=True).sum() / 2**20, 1)
    tick = time.perf_counter()
    panel = read_panel(frame, freq=freq)
    result["read_validate_s"] = round(time.perf_counter() - tick, 2)
    del frame
    result["values_mb"] = round(panel.values.nbytes / 2**20, 1)
    tick = time.perf_counter()
    values = np.log(panel.values.astype("float64"))
    phases = panel.phases(12)
    scaled = np.zeros(len(values), dtype=bool)
    result["transform_s"] = round(time.perf_counter() - tick, 2)
    tick = time.perf_counter()
    starts = make_panel_starts(panel.offsets, panel.offsets[1:], LOOKBACK + HORIZON)
    result["windows_s"] = round(time.perf_counter() - tick, 3)
    result["windows"] = len(starts)
    result["window_index_mb"] = round(starts.nbytes / 2**20, 1)
    data = PanelWindowDataset(
        values,
        scaled,
        phases,
        starts,
        lookback=LOOKBACK,
        horizon=HORIZON,
        season_length=12,
        batch_size=256,
        steps_per_epoch=steps + 5,
        seed=0,
    )
    keras.utils.set_random_seed(0)
    model = build_forecaster(LOOKBACK, 3, horizon=HORIZON, units=[64, 64], seed=0)
    model.compile("adam", "mae")

    class Timer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 4:  # after warm-up (tracing / compilation)
                self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    timer = Timer()
    model.fit(data, epochs=1, verbose=0, callbacks=[timer], shuffle=False)
    result["train_windows_per_s"] = round(steps * 256 / timer.seconds, 1)
    result["model_mb"] = round(model.count_params() * 4 / 2**20, 2)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--steps", type=int, default=40, help="timed training steps")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: one size
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(args.one, args.steps, args.single)))
        return 0
    rows = []
    for num_series in args.series:
        for single in (False, True):
            command = [sys.executable, __file__, "--one", str(num_series), "--steps"]
            command += [str(args.steps)] + (["--single"] if single else [])
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    backend = os.environ.get("KERAS_BACKEND", "default")
    path = Path(__file__).with_name("results") / f"panel_scale-{backend}.json"
    path.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
