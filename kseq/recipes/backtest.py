"""Rolling-origin backtests: one recipe run per forecast origin, scored on the months after it.

The backend must be chosen before this module is imported (the CLI does it).
"""

import copy
import statistics
from pathlib import Path

import pandas as pd

from kseq._io import write_json_atomic, write_text_atomic
from kseq.errors import ConfigError
from kseq.recipes.runner import load_data, run_recipe


def _origin_position(index, origin):
    if isinstance(origin, int):
        return origin
    if not isinstance(index, pd.DatetimeIndex):
        raise ConfigError(f"Origin {origin!r} is a date, but this series has no dates; use counts.")
    try:
        stamp = pd.Timestamp(origin)
    except ValueError:
        raise ConfigError(f"Origin {origin!r} is not a date.") from None
    return int(index.searchsorted(stamp, side="left"))


def backtest_recipe(config, origins, *, length=None, run_dir="runs/backtest", verbose=0):
    """Runs `config` once per origin and averages the scores of the parts after the origins.

    For an origin at position ``t`` the series is cut at ``t + length``; the last `length`
    points are the run's test part, the recipe's ``[split] validation`` comes before them, and
    everything is fitted on what precedes. Origins inside the training period make a
    rolling-origin evaluation that never looks at the real test part.

    Example:

    >>> config = load_recipe(recipe_path("airpassengers"))
    >>> summary = backtest_recipe(config, ["1956-01", "1957-01", "1958-01"], length=12)
    >>> summary["mean"]["model (one-step)"]["mape"]

    Args:
        config: a validated recipe (`kseq.recipes.config.load_recipe`).
        origins: first forecast points, as dates (``"1958-01"``) or positions (`int`).
        length: points scored after each origin; ``[evaluation] horizon`` by default.
        run_dir: one sub-directory per origin is written here, plus ``backtest.json``/``.md``.
        verbose: Keras progress-bar setting.

    Returns:
        ``{"origins": [...], "runs": [metrics per origin], "mean": {row: {metric: mean}}}``.
    """
    if config["data"]["source"] == "ar1":
        raise ConfigError("Backtests need a single series; the ar1 recipe simulates paths.")
    if not origins:
        raise ConfigError("A backtest needs at least one origin.")
    length = int(length or config["evaluation"]["horizon"] or 0)
    if length < 1:
        raise ConfigError("Backtest `length` must be >= 1 (or set [evaluation] horizon).")
    index, values, _ = load_data(config["data"], config["recipe"]["seed"])
    run_dir = Path(run_dir)
    runs = []
    for origin in origins:
        start = _origin_position(index, origin)
        if not 0 < start <= len(values) - length:
            raise ConfigError(
                f"Origin {origin!r} leaves no room: it must have history before it and "
                f"{length} points after it (the series has {len(values)})."
            )
        run = copy.deepcopy(config)
        run["split"].update(test=length, end=start + length)
        run["evaluation"]["horizon"] = length
        label = str(origin)
        card = run_recipe(run, run_dir=run_dir / label.replace("/", "-"), verbose=verbose)
        runs.append({"origin": label, "metrics": card["metrics"]})
    rows = set.intersection(*(set(r["metrics"]) for r in runs))
    mean = {
        row: {
            key: statistics.fmean(r["metrics"][row][key] for r in runs)
            for key in runs[0]["metrics"][row]
        }
        for row in sorted(rows)
    }
    summary = {"recipe": config["recipe"]["name"], "length": length, "runs": runs, "mean": mean}
    summary["origins"] = [r["origin"] for r in runs]
    write_json_atomic(run_dir / "backtest.json", summary)
    write_text_atomic(run_dir / "backtest.md", render_backtest(summary))
    return summary


def render_backtest(summary):
    """A Markdown table: one row per model/baseline, MAPE per origin and the mean."""
    origins = summary["origins"]
    lines = [
        f"# Backtest of {summary['recipe']}: {summary['length']} points after each origin",
        "",
        "| | " + " | ".join(f"MAPE {o}" for o in origins) + " | mean MAPE | mean RMSE |",
        "|---|" + "---|" * (len(origins) + 2),
    ]
    for row, mean in summary["mean"].items():
        cells = [f"{r['metrics'][row]['mape']:.2f} %" for r in summary["runs"]]
        lines.append(
            f"| {row} | " + " | ".join(cells) + f" | {mean['mape']:.2f} % | {mean['rmse']:.2f} |"
        )
    return "\n".join(lines) + "\n"
