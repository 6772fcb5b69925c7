"""Re-scores the AirPassengers quality protocol from its saved runs: intervals and picks.

    KERAS_BACKEND=jax python benchmarks/airpassengers_protocol.py runs/protocol-jax-seed0 ...

Each argument is a folder written by
`python -m kseq.recipes.airpassengers --protocol --out DIR` (the same as `kseq backtest
airpassengers --origins 1955-01 1955-07 1956-01 1956-07 1957-01 --length 24 --out DIR`; one
sub-folder per origin, each with its saved forecaster and run card). For
every origin the saved forecaster (trained on the origin's training part only; the recipe does
not refit) is loaded, its run's data rebuilt from the recipe in the card, and the evaluate
stage of today's pipeline is applied: the choice on the validation part, conformal intervals
of the model and of the chosen candidate from their validation residuals, the test part's
scores (and, for the record, a per-horizon pick that was tried and not kept). The
model's own test scores must equal the card's (checked), so the numbers describe the same
models. The folder's backend must be the one running this script.

Prints a table per folder and the means, and writes
benchmarks/results/airpassengers-protocol-<backend>.json (``--name``: another file name, e.g.
``airpassengers-protocol-related`` for runs of the recipe with ``[data] related``).
"""

import argparse
import dataclasses
import json
import statistics
import warnings
from pathlib import Path

from kseq.backend import ensure_backend

ensure_backend()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kseq.config import validate  # noqa: E402
from kseq.evaluation.metrics import score  # noqa: E402
from kseq.forecaster import Forecaster  # noqa: E402
from kseq.pipeline.evaluate import (  # noqa: E402
    calibrate_intervals,
    compute_baselines,
    evaluate_test,
    format_level,
    list_candidates,
    pick_lowest,
    score_candidates,
)
from kseq.pipeline.load import load_series  # noqa: E402
from kseq.pipeline.run_card import RunCard  # noqa: E402
from kseq.pipeline.split import split_run  # noqa: E402
from kseq.pipeline.values import ValidationScores  # noqa: E402

ROWS = ("kseq (recursive, 24-step)", "kseq (one-step)", "chosen (24-step)", "chosen (one-step)")


def rescore(origin_dir):
    """The evaluate stage on one saved origin: metrics, coverage, picks."""
    card = RunCard.from_json((origin_dir / "run_card.json").read_text())
    recipe = validate(card.config)
    forecaster = Forecaster.load(origin_dir / "forecaster")
    data = split_run(load_series(recipe.data, recipe.recipe.seed), recipe.split)
    split = data.split
    start = split.validation.start
    truth = data.values[split.validation][:, 0]
    history = data.values[split.train][:, 0]
    multi = forecaster.predict(data.values[:start], len(truth))[:, 0]
    one = forecaster.predict_one_step(data.values[: split.validation.stop], start)[:, 0]
    candidates = score_candidates(multi, one, history, truth, recipe.evaluation)
    season = recipe.evaluation.season_length
    validation = ValidationScores(
        best_val_loss=float("nan"),
        one_step=score(truth, one, history, season),
        recursive=score(truth, multi, history, season),
        choice=candidates.multi_step,
        chosen=pick_lowest(candidates.multi_step),
        weights=candidates.weights,
    )
    intervals, note = calibrate_intervals(
        forecaster, data, recipe, 24, validation.chosen, validation.weights
    )
    if not intervals:
        raise SystemExit(f"{origin_dir}: {note}")
    test = evaluate_test(forecaster, data, recipe, validation=validation, intervals=intervals)
    for row in ("kseq (recursive, 24-step)", "kseq (one-step)"):
        recorded, now = card.metrics[row]["mape"], test.metrics[row]["mape"]
        if not np.isclose(recorded, now, rtol=1e-4):
            raise SystemExit(f"{origin_dir}: {row} MAPE {now} here, {recorded} in the card.")
    # Tried and not kept: the one-step row picked on the validation part's one-step scores.
    one_step_pick = pick_lowest(candidates.one_step)
    test_truth = data.values[data.split.test][:, 0]
    baselines, _ = compute_baselines(
        data.values[: data.test_start, 0], test_truth, recipe.evaluation
    )
    one_candidates = list_candidates(
        test.one_step[:, 0], {k: v["one_step"] for k, v in baselines.items()}, validation.weights
    )
    per_horizon = score(test_truth, one_candidates[one_step_pick], history, season)["mape"]
    classical, wider = score_classical(forecaster, data, recipe, multi, one, test)
    coverage = test.band_coverage
    recorded = card.interval_coverage
    return {
        "chosen_coverage": {
            # The model itself chosen: its intervals are the chosen forecast's.
            horizon: coverage.get(f"chosen {horizon}", coverage[horizon])
            for horizon in ("24-step", "one-step")
        },
        # The run's own intervals, as its card records them (runs saved before the intervals
        # came from the validation part alone may have pooled earlier windows).
        "recorded_chosen_coverage": {
            horizon: recorded.get(f"chosen {horizon}", recorded[horizon])
            for horizon in ("24-step", "one-step")
        },
        "recorded_num_windows": card.intervals.get("chosen", card.intervals["kseq"]).get(
            "num_windows", 1
        ),
        "mape": {
            **{row: test.metrics[row]["mape"] for row in ROWS},
            "one-step picked on one-step validation": per_horizon,
            **wider["mape"],
        },
        # The classical baselines fitted on the same history as the recipe's (MAPE per horizon).
        "classical": classical,
        "picks_with_ets_theta": wider["pick"],
        "sarima_coverage": measure_sarima_coverage(data, season),
        "sarima": {
            "24-step": test.metrics["sarima (24-step)"]["mape"],
            "one-step": test.metrics["sarima (one-step)"]["mape"],
        },
        "coverage": {h: coverage[h] for h in ("24-step", "one-step")},
        "picks": {"24-step": validation.chosen, "one-step (not kept)": one_step_pick},
        "weights": validation.weights,
        "scale": intervals["kseq"].scale,
        "quantiles": dict(
            zip(map(str, intervals["kseq"].levels), intervals["kseq"].quantiles, strict=True)
        ),
    }


# The alternative scored beside the recipe's choice (written down before it was run):
# statsforecast's AutoETS and AutoTheta join the candidates — alone and averaged with the
# model, as SARIMA is — and the lowest validation MASE picks, as in the recipe (ETS is not made
# the incumbent: one series' window never leaves it, so that rule would always pick ETS).
WIDER_BASELINES = ("naive", "seasonal_naive", "sarima", "ets", "theta")
WIDER = "chosen among model, SARIMA, ETS, Theta and means"


def score_classical(forecaster, data, recipe, multi, one, test):
    """Every classical baseline's test MAPE (``{name: {"24-step", "one-step"}}``), and the
    alternative `WIDER` choice: its pick on the validation part and its test MAPE."""
    evaluation = dataclasses.replace(recipe.evaluation, baselines=list(WIDER_BASELINES))
    split, season = data.split, evaluation.season_length
    truth = data.values[split.validation][:, 0]
    history = data.values[split.train][:, 0]
    candidates = score_candidates(multi, one, history, truth, evaluation)
    pick = pick_lowest(candidates.multi_step)
    test_truth = data.values[split.test][:, 0]
    baselines, _ = compute_baselines(data.values[: data.test_start, 0], test_truth, evaluation)
    steps = test.steps
    classical = {
        name: {
            f"{steps}-step": score(test_truth[:steps], f["multi_step"][:steps], history, season)[
                "mape"
            ],
            "one-step": score(test_truth, f["one_step"], history, season)["mape"],
        }
        for name, f in baselines.items()
    }
    multi_candidates = list_candidates(
        test.multi_step[:steps, 0],
        {k: v["multi_step"][:steps] for k, v in baselines.items()},
        candidates.weights,
    )
    one_candidates = list_candidates(
        test.one_step[:, 0], {k: v["one_step"] for k, v in baselines.items()}, candidates.weights
    )
    mape = {
        f"{WIDER} (24-step)": score(test_truth[:steps], multi_candidates[pick], history, season)[
            "mape"
        ],
        f"{WIDER} (one-step)": score(test_truth, one_candidates[pick], history, season)["mape"],
    }
    return classical, {"pick": pick, "mape": mape}


def measure_sarima_coverage(data, season):
    """Coverage of the airline SARIMA's own (Gaussian, log-scale) 80 % and 95 % intervals on
    the test part, fitted on the same history as its forecasts: the classical reference."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    history = np.log(data.values[: data.test_start, 0])
    test = data.values[data.split.test][:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = SARIMAX(history, order=(0, 1, 1), seasonal_order=(0, 1, 1, season)).fit(disp=False)
        extended = fitted.append(np.log(test), refit=False)
        predictions = {
            "24-step": fitted.get_forecast(len(test)),
            "one-step": extended.get_prediction(
                start=len(history), end=len(history) + len(test) - 1
            ),
        }
    coverage = {}
    for horizon, prediction in predictions.items():
        coverage[horizon] = {}
        for level in (0.8, 0.95):
            bounds = np.exp(np.asarray(prediction.conf_int(alpha=1 - level)))
            inside = (test >= bounds[:, 0]) & (test <= bounds[:, 1])
            coverage[horizon][format_level(level)] = float(inside.mean())
    return coverage


def summarise(origins):
    rows = list(next(iter(origins.values()))["mape"])
    mean = {row: statistics.fmean(o["mape"][row] for o in origins.values()) for row in rows}
    coverage = {
        source: {
            horizon: {
                level: statistics.fmean(o[source][horizon][level] for o in origins.values())
                for level in ("80", "95")
            }
            for horizon in ("24-step", "one-step")
        }
        for source in ("coverage", "sarima_coverage")
    }
    for source in ("chosen_coverage", "recorded_chosen_coverage"):
        chosen = [o[source] for o in origins.values()]
        coverage[source] = {
            horizon: {
                level: statistics.fmean(c[horizon][level] for c in chosen) for level in ("80", "95")
            }
            for horizon in ("24-step", "one-step")
        }
    classical = {
        name: {
            horizon: statistics.fmean(o["classical"][name][horizon] for o in origins.values())
            for horizon in ("24-step", "one-step")
        }
        for name in next(iter(origins.values()))["classical"]
    }
    return {
        "mean_mape": mean,
        "classical_mean_mape": classical,
        "mean_coverage": coverage["coverage"],
        "sarima_mean_coverage": coverage["sarima_coverage"],
        "chosen_mean_coverage": coverage["chosen_coverage"],
        "recorded_chosen_mean_coverage": coverage["recorded_chosen_coverage"],
    }


def measure_gap(coverage):
    """Mean absolute gap, in points, between empirical and nominal coverage over the four
    numbers (24-step and one-step, 80 % and 95 %)."""
    return statistics.fmean(
        abs(100 * coverage[horizon][level] - float(level))
        for horizon in ("24-step", "one-step")
        for level in ("80", "95")
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument(
        "--name",
        default="airpassengers-protocol",
        help="results file: benchmarks/results/<name>-<backend>.json",
    )
    args = parser.parse_args(argv)
    backend = keras.backend.backend()
    results = {}
    for folder in args.folders:
        origins = {
            d.name: rescore(d) for d in sorted(folder.iterdir()) if (d / "run_card.json").exists()
        }
        results[folder.name] = {"origins": origins, **summarise(origins)}
        s = results[folder.name]
        print(f"\n{folder.name}")
        for name, o in origins.items():
            cov = o["coverage"]
            print(
                f"  {name}: chosen 24-step {o['mape']['chosen (24-step)']:.2f} % "
                f"({o['picks']['24-step']}, weights {o['weights']}), one-step "
                f"{o['mape']['chosen (one-step)']:.2f} % "
                f"; coverage 24-step 80/95 "
                f"{cov['24-step']['80']:.2f}/{cov['24-step']['95']:.2f}, one-step "
                f"{cov['one-step']['80']:.2f}/{cov['one-step']['95']:.2f}; with ETS and Theta "
                f"among the candidates: {o['picks_with_ets_theta']}"
            )
        print("  mean MAPE:", {k: round(v, 2) for k, v in s["mean_mape"].items()})
        print("  classical, mean MAPE:", s["classical_mean_mape"])
        print("  mean coverage:", s["mean_coverage"])
        print("  SARIMA's own intervals, mean coverage:", s["sarima_mean_coverage"])
        print("  chosen's conformal intervals:", s["chosen_mean_coverage"])
    pooled = {
        horizon: {
            level: statistics.fmean(r["mean_coverage"][horizon][level] for r in results.values())
            for level in ("80", "95")
        }
        for horizon in ("24-step", "one-step")
    }
    means = {
        row: statistics.fmean(r["mean_mape"][row] for r in results.values())
        for row in next(iter(results.values()))["mean_mape"]
    }
    print("\nall folders, mean MAPE:", {k: round(v, 2) for k, v in means.items()})
    print("\nall folders, mean coverage:", pooled)
    chosen = {}
    for source in ("chosen_mean_coverage", "recorded_chosen_mean_coverage"):
        chosen[source] = {
            horizon: {
                level: statistics.fmean(r[source][horizon][level] for r in results.values())
                for level in ("80", "95")
            }
            for horizon in ("24-step", "one-step")
        }
        print(f"all folders, {source}:", chosen[source], f"gap {measure_gap(chosen[source]):.2f}")
    out = Path(__file__).parent / "results" / f"{args.name}-{backend}.json"
    summary = {
        "folders": results,
        "mean_mape": means,
        "mean_coverage": pooled,
        **chosen,
        "gap": {source: measure_gap(c) for source, c in chosen.items()},
    }
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
