"""Stage 8, report/save: the run's files (plots, forecasts, the saved forecaster, the card),
each written atomically."""

import numpy as np
import pandas as pd

from kseq._io import write_json_atomic, write_text_atomic
from kseq.data.dates import find_freq, format_dates, make_future_index
from kseq.evaluation.panel_metrics import (
    is_bound,
    measure_panel_coverage,
    score_panel,
    summarise_scores,
)
from kseq.evaluation.plots import plot_forecast, plot_loss
from kseq.pipeline.evaluate import format_level, list_candidates
from kseq.pipeline.forecast import make_future_frame


def _cut_bands(bands, steps):
    """``{label: (low, high)}`` of a candidate's multi-step bands, cut to `steps`."""
    return {
        f"{100 * level:g} % interval": tuple(b[:steps] for b in band["multi_step"])
        for level, band in bands.items()
    }


def write_forecast_outputs(
    run_dir, recipe, data, fit, test, future, title, chosen=None, weights=None, intervals=None
):
    """Writes a panel run's files for one series — metrics.json, metrics.csv, forecasts.csv
    (`write_test_scores`), forecast.png, loss.png — with one_step.csv (the rolling one-step
    forecasts, which only a net of one series makes), future_forecast.csv and the forecaster
    (with the recipe and the validation's `chosen` candidate, which `kseq forecast` forecasts
    too, and the net's weight in each combination); returns the names written."""
    series = data.series
    outputs = ["forecast.png", "loss.png", "forecaster/model.keras", "forecaster/forecaster.json"]
    test_start = data.test_start
    plot = {"index": series.index[:test_start], "history": series.values[:test_start, 0]}
    if test is not None:
        positions = series.index[data.split.test]
        plot.update(
            truth=test.truth[:, 0],
            forecast=test.multi_step[:, 0],
            forecast_index=positions,
            one_step=test.one_step[:, 0],
            interval=test.interval,
            bands=_cut_bands(test.bands.get("kseq", {}), test.steps),
            baselines=test.baselines,
        )
        if test.chosen:
            # What the run chose, with its band; the net beside it.
            plot.update(
                forecast=np.asarray(test.chosen["multi_step"])[: test.steps],
                label=f"chosen: {chosen}",
                net=test.multi_step[:, 0],
                bands=_cut_bands(test.bands.get("chosen", {}), test.steps),
            )
        history = {series_id(series): series.values[:test_start, 0]}
        outputs += write_test_scores(
            run_dir, test, format_dates(positions), history, recipe.evaluation.season_length
        )
    if future is not None:
        # The forecast past the end replaces the test view in the plot.
        plot = {
            "index": series.index,
            "history": series.values[:, 0],
            "forecast": np.asarray(future.values),
            "forecast_index": make_future_index(series.index, len(future.values)),
            "bands": {f"{level} % interval": bounds for level, bounds in future.intervals.items()},
        }
        if future.chosen is not None:
            plot.update(
                forecast=np.asarray(future.chosen_values),
                label=f"chosen: {future.chosen}",
                net=np.asarray(future.values),
                bands={f"{k} % interval": b for k, b in future.chosen_intervals.items()},
            )
        chosen_values = future.chosen_values if future.chosen is not None else None
        frame = make_future_frame(
            [series_id(series)],
            make_future_index(series.index, len(future.values)),
            np.asarray(future.values)[:, None],
            chosen_values,
            intervals,
        )
        write_text_atomic(run_dir / "future_forecast.csv", frame.to_csv())
        outputs.append("future_forecast.csv")
    plot_forecast(run_dir / "forecast.png", title=title, **plot)
    plot_loss(run_dir / "loss.png", fit.history)
    # The data's frequency: `kseq forecast --csv` refuses a newer file on another one.
    freq = find_freq(series.index)
    # `kseq forecast` forecasts the chosen candidate too, a combination with its weights.
    extra = {
        "recipe": recipe.to_dict(),
        "chosen": chosen,
        "weights": weights or {},
        # The conformal intervals, which `kseq forecast` puts around its forecasts.
        "intervals": {name: c.to_dict() for name, c in (intervals or {}).items()},
        "freq": freq and freq.freqstr,
        # Where the series the transforms were fitted on starts: a seasonal adjustment places
        # a newer CSV's history in its seasons from it.
        "start": format_dates(series.index[:1])[0] if freq else None,
    }
    fit.final.save(run_dir / "forecaster", extra=extra)
    return outputs


def series_id(series):
    """The ``unique_id`` of a run's one series in its files: its (first) target column."""
    return str(series.columns[0])


def write_test_scores(run_dir, test, dates, history, season_length):
    """Writes the test part's files as a panel run writes them (`kseq.pipeline.panel`):
    metrics.json (``{"mase": {method: value}, "smape": {...}, "coverage": {...}}``),
    metrics.csv (a row per series and method), forecasts.csv (`make_test_frames`) and
    one_step.csv; `history`: ``{unique_id: values before the test part}`` (MASE's scale)."""
    multi_step, one_step = make_test_frames(next(iter(history)), dates, test)
    truth = multi_step[["unique_id", "ds", "truth"]].rename(columns={"truth": "y"})
    forecasts = multi_step.drop(columns="truth")
    # A method whose forecasts are not finite (a net that diverged) scores null, as in the
    # run card, instead of stopping the run.
    methods = [c for c in forecasts.columns[2:] if not is_bound(c)]
    failed = [c for c in methods if not np.isfinite(forecasts[c]).all()]
    scores = score_panel(truth, forecasts.drop(columns=failed), history, season_length)
    if failed:
        nulls = pd.DataFrame({"unique_id": next(iter(history)), "method": failed})
        scores = pd.concat([scores, nulls.assign(mase=np.nan, smape=np.nan)], ignore_index=True)
    summary = summarise_scores(scores)
    coverage = {name: measure_panel_coverage(truth, forecasts, name) for name in test.bands}
    if coverage:
        summary["coverage"] = coverage
    write_json_atomic(run_dir / "metrics.json", summary)
    write_text_atomic(run_dir / "metrics.csv", scores.to_csv(index=False))
    write_text_atomic(run_dir / "forecasts.csv", multi_step.to_csv(index=False))
    write_text_atomic(run_dir / "one_step.csv", one_step.to_csv(index=False))
    return ["metrics.json", "metrics.csv", "forecasts.csv", "one_step.csv"]


def make_test_frames(unique_id, dates, test):
    """The test part in a panel run's columns: ``unique_id``, ``ds``, ``truth``, a column per
    candidate (the net ``kseq``, each baseline, the net's combinations, ``chosen``: the
    validation's pick, else the net) and the conformal bounds (``kseq-lo-80``,
    ``chosen-hi-95``). Returns ``(multi_step, one_step)``: the forecasts from the test origin
    (its first ``test.steps`` points) and the rolling one-step forecasts of every point."""
    parts = (
        ("multi_step", test.steps, test.multi_step[:, 0], test.baselines),
        ("one_step", len(test.truth), test.one_step[:, 0], test.baselines_one_step),
    )
    frames = []
    for kind, rows, net, baselines in parts:
        frame = pd.DataFrame(
            {"unique_id": unique_id, "ds": dates[:rows], "truth": test.truth[:rows, 0]}
        )
        cut = {name: values[:rows] for name, values in baselines.items()}
        for name, values in list_candidates(net[:rows], cut, test.weights).items():
            frame[name] = values
        frame["chosen"] = test.chosen[kind][:rows] if test.chosen else net[:rows]
        if kind == "one_step" and test.coverage is not None:
            # A probabilistic head's own interval (one step ahead).
            level = format_level(test.coverage.level)
            frame[f"kseq-lo-{level}"], frame[f"kseq-hi-{level}"] = test.interval
        for source, bands in test.bands.items():
            for level, band in bands.items():
                low, high = band[kind]
                frame[f"{source}-lo-{format_level(level)}"] = low[:rows]
                frame[f"{source}-hi-{format_level(level)}"] = high[:rows]
        frames.append(frame)
    return tuple(frames)


def write_run_card(run_dir, card):
    """Writes ``run_card.json`` and ``run_card.md``."""
    write_text_atomic(run_dir / "run_card.json", card.to_json())
    write_text_atomic(run_dir / "run_card.md", card.to_markdown())
