"""AirPassengers accuracy of the default recipe over seeds, with the baselines of the same run.

    KERAS_BACKEND=jax python benchmarks/airpassengers_accuracy.py [--seeds 0 1 2] [--set K=V]

Runs `recipes/airpassengers.toml` once per seed on the current backend and prints the test
metrics (1959-01..1960-12, scored once) per seed and their mean, next to seasonal naive and the
SARIMA airline model computed in the same run, and the validation-chosen candidate. Writes
benchmarks/results/airpassengers-<backend>.json (``--name``: another file name).
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from kseq.backend import ensure_backend

ensure_backend()

import keras  # noqa: E402

from kseq.config import load_recipe, parse_override, recipe_path  # noqa: E402
from kseq.pipeline.run import run_recipe  # noqa: E402

ROWS = ("kseq (recursive, 24-step)", "kseq (one-step)")
CHOSEN = ("chosen (24-step)", "chosen (one-step)")
BASELINES = ("seasonal_naive (24-step)", "sarima (24-step)", "sarima (one-step)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--name", default="airpassengers", help="results/<name>-<backend>.json")
    args = parser.parse_args(argv)
    overrides = [parse_override(text) for text in args.set]
    cards = []
    with tempfile.TemporaryDirectory() as out:
        for seed in args.seeds:
            config = load_recipe(
                recipe_path("airpassengers"), [*overrides, ("recipe", "seed", seed)]
            )
            cards.append(run_recipe(config, run_dir=Path(out) / str(seed), verbose=0))
    backend = keras.backend.backend()
    lines = [
        f"backend {backend}, seeds {args.seeds}",
        "",
        "| | 24-step MAPE | 24-step RMSE | one-step MAPE | one-step RMSE | training s |",
        "|---|---|---|---|---|---|",
    ]
    for seed, card in zip(args.seeds, cards, strict=True):
        multi, one = (card.metrics[row] for row in ROWS)
        lines.append(
            f"| seed {seed} | {multi['mape']:.2f} % | {multi['rmse']:.1f} | "
            f"{one['mape']:.2f} % | {one['rmse']:.1f} | "
            f"{card.timings['training_s']:.1f} |"
        )
    mean = {
        row: {k: statistics.mean(c.metrics[row][k] for c in cards) for k in ("mape", "rmse")}
        for row in ROWS
    }
    lines.append(
        f"| **mean** | **{mean[ROWS[0]]['mape']:.2f} %** | {mean[ROWS[0]]['rmse']:.1f} | "
        f"**{mean[ROWS[1]]['mape']:.2f} %** | {mean[ROWS[1]]['rmse']:.1f} | |"
    )
    for row in CHOSEN:
        if all(row in c.metrics for c in cards):
            mean[row] = {
                k: statistics.mean(c.metrics[row][k] for c in cards) for k in ("mape", "rmse")
            }
            lines.append(
                f"| {row}, mean | {mean[row]['mape']:.2f} % | {mean[row]['rmse']:.1f} | | | |"
            )
    base = cards[0].metrics
    for row in BASELINES:
        if row in base:
            lines.append(f"| {row} | {base[row]['mape']:.2f} % | {base[row]['rmse']:.1f} | | | |")
    print("\n".join(lines))
    out_path = Path(__file__).with_name("results") / f"{args.name}-{backend}.json"
    out_path.parent.mkdir(exist_ok=True)
    out_path.write_text(
        json.dumps(
            {
                "backend": backend,
                "seeds": args.seeds,
                "overrides": args.set,
                "chosen": [c.validation.chosen if c.validation else None for c in cards],
                "mean": mean,
                "runs": [c.metrics for c in cards],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
