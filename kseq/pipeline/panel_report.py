"""A panel run's report: its files (`write_panel_outputs`) and its run card
(`make_panel_card`), from the stages' values (`kseq.pipeline.panel`)."""

import pandas as pd

from kseq._io import write_json_atomic, write_text_atomic
from kseq._keras import keras
from kseq.evaluation.panel_metrics import list_unscaled
from kseq.evaluation.plots import plot_loss, plot_panel_grid
from kseq.pipeline.fit import kept_epoch
from kseq.pipeline.run_card import PanelSummary, RunCard
from kseq.pipeline.trust import check_panel_coverage


def make_panel_card(recipe, run_dir, panel, split, fit, chosen, test, **fields):
    """The `RunCard` of a panel run from its `PanelSplit`, `GlobalFit`, `PanelChoice` and
    `PanelTest`; `fields`: the card's ``timings``, ``inferred``, ``intervals``, ``outputs``
    and the baselines' seconds (``baseline_seconds``, in its panel summary)."""
    baseline_seconds = fields.pop("baseline_seconds")
    notes = [f"{len(panel.skipped)} series skipped: {panel.skipped}"] * bool(panel.skipped)
    notes += describe_unscaled(split, recipe.evaluation.season_length)
    notes += check_panel_coverage(test.coverage, len(panel)) + test.notes
    history = fit.histories[0]
    return RunCard.of_run(
        recipe,
        run_dir,
        notes=notes,
        epochs_run=len(history.get("loss", [])),
        epochs_run_per_member=[len(h.get("loss", [])) for h in fit.histories],
        best_epoch_per_member=[kept_epoch(h["val_loss"], recipe.training) for h in fit.histories]
        if split.validation
        else None,
        refit_epochs_per_member=fit.refit_epochs,
        distribution=fit.distribution,
        final_loss=float(history["loss"][-1]) if history.get("loss") else None,
        final_val_loss=float(history["val_loss"][-1]) if history.get("val_loss") else None,
        metrics={
            method: {"mase": test.summary["mase"][method], "smape": test.summary["smape"][method]}
            for method in test.summary["mase"]
        },
        panel=PanelSummary(
            num_series=len(panel),
            chosen=chosen.choice.chosen,
            reason=chosen.choice.reason,
            incumbent=chosen.choice.incumbent,
            p_values=chosen.choice.p_values,
            weights=chosen.weights,
            validation=chosen.summary,
            baseline_seconds=baseline_seconds,
            cached_baselines=sorted(set(chosen.cached) | set(test.cached)),
            skipped=dict(panel.skipped),
            coverage=test.coverage,
        ),
        **fields,
    )


def describe_unscaled(split, season):
    """Run-card notes naming the series whose MASE is undefined at the validation or the test
    origin: left out of that part's MASE means (and the choice's pairs), kept in sMAPE."""
    parts = [("validation", split.before_validation, " and of the choice's pairs")]
    parts = parts * bool(split.validation) + [("test", split.before_test, "")]
    notes = []
    for part, history, choice in parts:
        ids = list_unscaled(history, season)
        if ids:
            shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            notes.append(
                f"MASE is undefined on the {part} part for {len(ids)} series ({shown}): the "
                f"seasonal naive forecast (lag {season}) fits their history before it exactly, "
                f"so MASE's scale is 0. They are left out of the {part} part's MASE means"
                f"{choice}; sMAPE keeps them."
            )
    return notes


def write_panel_outputs(run_dir, recipe, split, truth, forecasts, scores, summary, history):
    """metrics.json (means per method), metrics.csv (per series and method), forecasts.csv
    (long, with the truth), loss.png (the first member's `history`), and a grid of the best,
    median and worst series for kseq against ETS (else the first baseline)."""
    write_json_atomic(run_dir / "metrics.json", summary)
    write_text_atomic(run_dir / "metrics.csv", scores.to_csv(index=False))
    table = truth.rename(columns={"y": "truth"}).merge(forecasts, on=["unique_id", "ds"])
    write_text_atomic(run_dir / "forecasts.csv", table.to_csv(index=False))
    plot_loss(run_dir / "loss.png", history)
    outputs = ["metrics.json", "metrics.csv", "forecasts.csv", "loss.png", "forecast.png"]
    per = scores.pivot(index="unique_id", columns="method", values="mase")
    reference = next((m for m in ("ets", *recipe.evaluation.baselines) if m in per), None)
    # Series ranked by the net's MASE against the reference's (by its own without one).
    ratio = per["kseq"] / per[reference] if reference else per["kseq"]
    ratio = ratio.dropna().sort_values()
    against = f"kseq/{reference} MASE" if reference else "kseq MASE"
    if ratio.empty:  # no series has a MASE (each repeats its seasons): ranked by sMAPE
        ratio = scores[scores["method"] == "kseq"].set_index("unique_id")["smape"].sort_values()
        against = "kseq sMAPE"
    picks = {
        "best": ratio.index[0],
        "median": ratio.index[len(ratio) // 2],
        "worst": ratio.index[-1],
    }
    panel = split.full
    position = {sid: i for i, sid in enumerate(panel.ids)}
    series = {}
    for label, sid in picks.items():
        i = position[sid]
        rows = table[table["unique_id"] == sid]
        shown = ("chosen", "kseq", reference) if reference else ("chosen", "kseq")
        series[f"{label}: {sid} ({against} {ratio[sid]:.2f})"] = {
            "dates": panel.dates(i),
            "values": panel.series(i),
            "forecast_dates": pd.DatetimeIndex(rows["ds"]),
            "forecasts": {m: rows[m].to_numpy() for m in shown},
            "band": tuple(rows.get(f"chosen-{side}-80") for side in ("lo", "hi")),
        }
    plot_panel_grid(
        run_dir / "forecast.png",
        series,
        history=3 * max(split.test, recipe.evaluation.season_length),
        title=f"{recipe.name} ({keras.backend.backend()}): test part",
    )
    return outputs
