"""Chooses the AirPassengers recipe by rolling-origin backtests inside 1949-1958.

    KERAS_BACKEND=jax python benchmarks/airpassengers_backtest.py [--variants d12 "d12 d1" ...]
        [--final-validation] [--length 24] [--origins 1955-01 ...]

Each variant is the bundled `airpassengers` recipe with a few keys overridden. Every variant is
backtested from the same origins (1956-01, 1957-01, 1958-01; 12 months scored after each, the
year before each origin validates), so no variant ever sees 1959-1960, the test years. Prints
one row per variant (one-step and 12-step recursive MAPE per origin, their means, SARIMA in the
same runs) and writes benchmarks/results/airpassengers-backtest-<backend>.json
(`-<length>` added for lengths other than 12: with `--length 24` the origins are 1955-01,
1956-01 and 1957-01, each scored on 24 months that still end by 1958-12).
"""

import argparse
import json
import tempfile
from pathlib import Path

from kseq.backend import ensure_backend

ensure_backend()

import keras  # noqa: E402

from kseq.config import load_recipe, recipe_path  # noqa: E402
from kseq.pipeline.backtest import backtest_recipe  # noqa: E402
from kseq.pipeline.run import run_recipe  # noqa: E402

ORIGINS = ["1956-01", "1957-01", "1958-01"]
ORIGINS_BY_LENGTH = {12: ORIGINS, 24: ["1955-01", "1956-01", "1957-01"]}
D12 = ("transforms", "difference", [12])
D12_1 = ("transforms", "difference", [12, 1])
# name -> overrides of recipes/airpassengers.toml
VARIANTS = {
    "d12": [D12],
    "d12 refit": [D12, ("training", "refit", True)],
    "d12 d1": [D12_1],
    "d12 d1 refit": [D12_1, ("training", "refit", True)],
    "d12 d1 lookback 12": [D12_1, ("windows", "lookback", 12)],
    "d12 d1 lookback 36": [D12_1, ("windows", "lookback", 36)],
    "d12 d1 units 16": [D12_1, ("model", "units", [16])],
    "d12 d1 dropout 0": [D12_1, ("model", "dropout", 0.0)],
    "d12 d1 ensemble 10": [D12_1, ("training", "ensemble", 10)],
    "d12 d1 horizon 12": [D12_1, ("windows", "horizon", 12)],
    "d12 horizon 12": [D12, ("windows", "horizon", 12)],
    # 2026-11-22: early stopping may only keep weights from epoch 51 on.
    "d12 start 50": [D12, ("training", "start_from_epoch", 50)],
    "d12 d1 start 50": [D12_1, ("training", "start_from_epoch", 50)],
}
# The real split without its test part: train 1949-1957, validation 1958 (what the default
# recipe's own early stopping watches), scored on validation only; 1959-1960 are cut off.
FINAL_VALIDATION = [("split", "end", "1958-12"), ("split", "test", 0)]


def rows(length):
    return {"one-step": "kseq (one-step)", f"{length}-step": f"kseq ({length}-step)"}


def sarima_rows(length):
    return {
        "sarima one-step": "sarima (one-step)",
        f"sarima {length}-step": f"sarima ({length}-step)",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--final-validation",
        action="store_true",
        help="also run each variant on the real split cut before the test years and score its "
        "validation year (1958), the final origin's only out-of-training months",
    )
    parser.add_argument(
        "--length",
        type=int,
        default=12,
        help="months scored after each origin; the default origins are the last three years "
        "that leave `length` months before 1959 (12: 1956-1958; 24: 1955-1957)",
    )
    parser.add_argument("--origins", nargs="+", help="forecast origins, e.g. 1956-01")
    args = parser.parse_args(argv)
    length = args.length
    if args.final_validation and length != 12:
        parser.error("--final-validation scores the 12-month validation year: use --length 12")
    origins = args.origins or ORIGINS_BY_LENGTH.get(length)
    if not origins:
        parser.error(f"no default origins for --length {length}; pass --origins")
    backend = keras.backend.backend()
    suffix = "" if length == 12 else f"-{length}"
    out_path = (
        Path(__file__).with_name("results") / f"airpassengers-backtest-{backend}{suffix}.json"
    )
    out_path.parent.mkdir(exist_ok=True)
    for name in args.variants:
        seed = ("recipe", "seed", args.seed)
        overrides = VARIANTS[name] + [seed]
        config = load_recipe(recipe_path("airpassengers"), overrides)
        with tempfile.TemporaryDirectory() as out:
            summary = backtest_recipe(config, origins, length=length, run_dir=out)
        # The multi-step row is "kseq (recursive, 12-step)" or "(direct, 12-step)".
        steps = f"{length}-step"
        summary.mean[f"kseq ({steps})"] = next(
            v for k, v in summary.mean.items() if k.startswith("kseq (") and steps in k
        )
        for run in summary.runs:
            run.metrics[f"kseq ({steps})"] = next(
                v for k, v in run.metrics.items() if k.startswith("kseq (") and steps in k
            )
        result = {
            "overrides": [list(o) for o in VARIANTS[name]],
            "seed": args.seed,
            "origins": list(origins),
            "mape": {
                label: {
                    "origins": [r.metrics[row]["mape"] for r in summary.runs],
                    "mean": summary.mean[row]["mape"],
                }
                for label, row in rows(length).items() | sarima_rows(length).items()
            },
        }
        if args.final_validation:
            config = load_recipe(
                recipe_path("airpassengers"), VARIANTS[name] + FINAL_VALIDATION + [seed]
            )
            with tempfile.TemporaryDirectory() as out:
                card = run_recipe(config, run_dir=out, verbose=0)
            for label, key in (("one-step", "one_step"), ("12-step", "recursive")):
                mape = result["mape"][label]
                mape["final_validation"] = getattr(card.validation, key)["mape"]
                scores = [*mape["origins"], mape["final_validation"]]
                mape["mean_with_final"] = sum(scores) / len(scores)
            result["final_best_epochs"] = card.best_epoch_per_member
        # Re-read first: variants may run in parallel processes that share this file.
        merged = json.loads(out_path.read_text()) if out_path.exists() else {}
        merged[name] = result
        out_path.write_text(json.dumps(merged, indent=2))
        print(format_row(name, result, length), flush=True)


def format_row(name, result, length=12):
    cells = []
    for label in ("one-step", f"{length}-step", "sarima one-step", f"sarima {length}-step"):
        mape = result["mape"][label]
        cells.append(" / ".join(f"{v:.2f}" for v in mape["origins"]))
        cells.append(f"**{mape['mean']:.2f} %**")
        if "final_validation" in mape:
            cells.append(f"{mape['final_validation']:.2f} | **{mape['mean_with_final']:.2f} %**")
    return f"| {name} | " + " | ".join(cells) + " |"


if __name__ == "__main__":
    main()
