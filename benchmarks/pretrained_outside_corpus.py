"""The pretrained network on real series outside its corpus, next to statsforecast in one run.

Two bundled data sets are in none of M1, M3 and Tourism: AirPassengers (its last 24 months,
1959-1960, forecast from 1949-1958) and US employment (148 series, each one's last 24 months).
For each: the network zero-shot, the network fine-tuned on the history
(`kseq.pretrained.fine_tuning`: early-stopped on each series' last 24 points of the history,
never the scored part), each averaged with AutoETS, and AutoETS / AutoTheta / AutoARIMA fitted
on the same history. Scores: MASE (seasonal scale, m = 12) and sMAPE per series, averaged, and
AirPassengers' MAPE.

    KERAS_BACKEND=jax python benchmarks/pretrained_outside_corpus.py [--model DIR] \
        [--out benchmarks/results/pretrained-outside-corpus-jax.json]

Baselines are cached in ``--cache`` (by the history's checksum), so a second network is
compared against the same statsforecast forecasts without refitting them.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kseq.backend import select_backend

H, SEASON = 24, 12


def load_histories():
    """``{name: (history Panel, truth long frame)}``: each series without its last `H` points."""
    from kseq.data import load_airpassengers, load_us_employment, read_panel

    air = load_airpassengers()
    frames = {
        "airpassengers": pd.DataFrame({"unique_id": "airpassengers", "ds": air.index, "y": air}),
        "us_employment": load_us_employment().to_frame(),
    }
    out = {}
    for name, frame in frames.items():
        frame = frame.sort_values(["unique_id", "ds"], kind="stable")
        truth = frame.groupby("unique_id", sort=False).tail(H).reset_index(drop=True)
        history = frame[frame.groupby("unique_id", sort=False).cumcount(ascending=False) >= H]
        out[name] = (read_panel(history.reset_index(drop=True), name=name), truth)
    return out


def forecast_methods(network, history, cache_dir, baselines):
    """``(long frame of forecasts, {method: seconds}, fine-tuning record)``."""
    from kseq.evaluation.panel_baselines import forecast_baselines
    from kseq.pretrained.fine_tuning import fine_tune

    tick = time.perf_counter()
    frame = network.forecast(history, H, level=()).rename(columns={"kseq": "pretrained"})
    seconds = {"pretrained": time.perf_counter() - tick}
    tick = time.perf_counter()
    tuned, record = fine_tune(network, history, H)
    tuned_frame = tuned.forecast(history, H, level=()).rename(columns={"kseq": "fine-tuned"})
    seconds["fine-tuned"] = time.perf_counter() - tick
    baselines = forecast_baselines(history, H, SEASON, baselines, cache_dir=cache_dir)
    seconds.update(baselines.seconds)
    frame = frame.merge(tuned_frame, on=["unique_id", "ds"]).merge(
        baselines.frame, on=["unique_id", "ds"]
    )
    frame["pretrained+ets"] = (frame["pretrained"] + frame["ets"]) / 2
    frame["fine-tuned+ets"] = (frame["fine-tuned"] + frame["ets"]) / 2
    return frame, seconds, record


def score(frame, truth, history):
    from kseq.evaluation.panel_metrics import score_panel, summarise_scores

    summary = summarise_scores(score_panel(truth, frame, history, SEASON))
    joined = truth.merge(frame, on=["unique_id", "ds"])
    methods = [c for c in frame.columns if c not in ("unique_id", "ds")]
    summary["mape"] = {
        m: float(np.mean(np.abs(joined[m] - joined["y"]) / np.abs(joined["y"])) * 100)
        for m in methods
    }
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved pretrained network (default: the shipped one)")
    parser.add_argument("--cache", default=".kseq-baseline-cache", help="baseline cache folder")
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    parser.add_argument(
        "--baselines", default="ets,theta,arima", help="statsforecast models (ets always runs)"
    )
    args = parser.parse_args(argv)
    backend = select_backend()

    from kseq.pretrained import load_pretrained

    network = load_pretrained(args.model)
    results = {"backend": backend, "model": args.model or "shipped", "h": H}
    for name, (history, truth) in load_histories().items():
        baselines = ["ets", *(b for b in args.baselines.split(",") if b and b != "ets")]
        frame, seconds, record = forecast_methods(network, history, args.cache, baselines)
        results[name] = {
            **score(frame, truth, history),
            "seconds": {k: round(v, 1) for k, v in seconds.items()},
            "fine_tuning": {"kept": record.kept, "epochs": record.epochs},
        }
        print(f"\n{name} ({len(history)} series, last {H} points), {backend}")
        print("| method | MASE | sMAPE | MAPE |\n|---|---|---|---|")
        for method, value in results[name]["mase"].items():
            smape, mape = results[name]["smape"][method], results[name]["mape"][method]
            print(f"| {method} | {value:.3f} | {smape:.2f} | {mape:.2f} |")
        print(f"seconds: {results[name]['seconds']}; fine-tuning kept: {record.kept}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
