"""Window construction: kseq's zero-copy windows against a Python-loop builder, same run.

    python benchmarks/windows.py [--points 10000000] [--lookback 60] [--batch-size 256]

Measures wall time and peak extra memory (tracemalloc, which sees NumPy's allocations) of:
a Python loop of slices stacked into an array (the usual hand-written builder),
`kseq.data.make_windows` (views), and one epoch of batches served by
`kseq.data.WindowDataset`. Time is measured untraced, memory in a second, traced
run. Prints a Markdown table and writes JSON next to this script.
"""

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np


def measure(fn):
    # Time without tracing (tracemalloc slows Python-level allocation ~8x), then trace memory.
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak


def loop_windows(series, lookback):
    x = np.array([series[i : i + lookback] for i in range(len(series) - lookback)])
    y = np.array([series[i + lookback] for i in range(len(series) - lookback)])
    return x[..., None], y[:, None, None]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--lookback", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--skip-loop", action="store_true", help="skip the slow loop builder")
    args = parser.parse_args(argv)

    from kseq.data import WindowDataset, make_windows

    series = np.sin(np.linspace(0, 2000, args.points))
    series_bytes = series.nbytes
    rows = {}

    (x, y), seconds, peak = measure(lambda: make_windows(series, lookback=args.lookback))
    rows["kseq make_windows (views)"] = {
        "seconds": seconds,
        "peak_extra_bytes": peak,
        "windows": len(x),
    }

    def one_epoch():
        data = WindowDataset(x, y, args.batch_size, shuffle=True, seed=0)
        checksum = 0.0
        for i in range(len(data)):
            batch_x, _ = data[i]
            checksum += float(batch_x[0, 0, 0])
        return len(data)

    batches, seconds, peak = measure(one_epoch)
    batch_bytes = args.batch_size * args.lookback * 4
    rows["kseq WindowDataset, one shuffled epoch"] = {
        "seconds": seconds,
        "peak_extra_bytes": peak,
        "batches": batches,
    }

    if not args.skip_loop:
        (lx, ly), seconds, peak = measure(lambda: loop_windows(series, args.lookback))
        assert np.array_equal(lx[:1000], x[:1000]) and np.array_equal(ly[:1000], y[:1000])
        rows["Python loop of slices -> array"] = {
            "seconds": seconds,
            "peak_extra_bytes": peak,
            "windows": len(lx),
        }
        del lx, ly

    print(
        f"series: {args.points:,} float64 points ({series_bytes / 1e6:.0f} MB), "
        f"lookback {args.lookback}, batch {args.batch_size} ({batch_bytes / 1e6:.2f} MB)\n"
    )
    print("| builder | time | peak extra memory |\n|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['seconds']:.3g} s | {row['peak_extra_bytes'] / 1e6:.1f} MB |")
    loop = rows.get("Python loop of slices -> array")
    if loop:
        ours = rows["kseq make_windows (views)"]
        print(
            f"\nmake_windows is {loop['seconds'] / ours['seconds']:.0f}x faster and uses "
            f"{loop['peak_extra_bytes'] / max(ours['peak_extra_bytes'], 1):.0f}x less memory."
        )
    epoch = rows["kseq WindowDataset, one shuffled epoch"]
    print(
        f"Iterating: peak {epoch['peak_extra_bytes'] / 1e6:.1f} MB extra over the "
        f"{series_bytes / 1e6:.0f} MB series (goal: < series + one batch)."
    )
    out = Path(__file__).with_name("windows.json")
    out.write_text(
        json.dumps({"args": vars(args), "series_bytes": series_bytes, "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
