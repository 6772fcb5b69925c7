"""Stage 8, report/save: the run's files (plots, forecasts, the saved forecaster, the card),
each written atomically."""

import numpy as np
import pandas as pd

from kseq._io import write_npz_atomic, write_text_atomic
from kseq.data.dates import find_freq, format_dates, make_future_index
from kseq.evaluation.plots import plot_forecast, plot_loss


def _cut_bands(bands, steps):
    """``{label: (low, high)}`` of a candidate's multi-step bands, cut to `steps`."""
    return {
        f"{100 * level:g} % interval": tuple(b[:steps] for b in band["multi_step"])
        for level, band in bands.items()
    }


def write_forecast_outputs(
    run_dir, recipe, data, fit, test, future, title, chosen=None, weights=None
):
    """Writes forecast.png, loss.png, forecasts.npz/.csv, future_forecast.csv and the
    forecaster (with the recipe and the validation's `chosen` candidate, which `kseq forecast`
    forecasts too, and the model's weight in each combination); returns the names written."""
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
            bands=_cut_bands(test.bands.get("model", {}), test.steps),
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
        write_npz_atomic(
            run_dir / "forecasts.npz",
            multi_step=test.multi_step,
            one_step=test.one_step,
            truth=test.truth,
        )
        write_text_atomic(run_dir / "forecasts.csv", make_test_frame(positions, test).to_csv())
        outputs += ["forecasts.npz", "forecasts.csv"]
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
        frame = pd.DataFrame({"ds": future.ds, "forecast": future.values})
        for level, (low, high) in future.intervals.items():
            frame[f"lo_{level}"], frame[f"hi_{level}"] = low, high
        if future.chosen is not None:
            frame["chosen"] = future.chosen_values
            for level, (low, high) in future.chosen_intervals.items():
                frame[f"chosen_lo_{level}"], frame[f"chosen_hi_{level}"] = low, high
        write_text_atomic(run_dir / "future_forecast.csv", frame.to_csv(index=False))
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
        "freq": freq and freq.freqstr,
        # Where the series the transforms were fitted on starts: a seasonal adjustment places
        # a newer CSV's history in its seasons from it.
        "start": format_dates(series.index[:1])[0] if freq else None,
    }
    fit.final.save(run_dir / "forecaster", extra=extra)
    return outputs


def make_test_frame(positions, test):
    """One row per test point: truth, one-step and multi-step forecasts (and the interval)."""

    def pad(values):  # a multi-step column over the whole test part (NaN past the steps)
        column = np.full(len(test.truth), np.nan)
        column[: test.steps] = values[: test.steps]
        return column

    multi = pad(test.multi_step[:, 0])
    frame = pd.DataFrame(
        {
            "ds": format_dates(positions),
            "truth": test.truth[:, 0],
            "one_step": test.one_step[:, 0],
            "multi_step": multi,
        }
    )
    if test.interval is not None:
        frame["lower"], frame["upper"] = test.interval
    if test.chosen:
        frame["chosen_one_step"] = test.chosen["one_step"]
        frame["chosen_multi_step"] = pad(test.chosen["multi_step"])
    # Conformal bounds, named as statsforecast names them (lo-80 → one_step_lo_80,
    # chosen_multi_step_hi_95).
    for source, bands in test.bands.items():
        prefix = "" if source == "model" else f"{source}_"
        for level, band in bands.items():
            name = f"{100 * level:g}"
            low, high = band["one_step"]
            frame[f"{prefix}one_step_lo_{name}"], frame[f"{prefix}one_step_hi_{name}"] = low, high
            low, high = band["multi_step"]
            frame[f"{prefix}multi_step_lo_{name}"] = pad(low)
            frame[f"{prefix}multi_step_hi_{name}"] = pad(high)
    return frame.set_index("ds")


def write_run_card(run_dir, card):
    """Writes ``run_card.json`` and ``run_card.md``."""
    write_text_atomic(run_dir / "run_card.json", card.to_json())
    write_text_atomic(run_dir / "run_card.md", card.to_markdown())
