"""The panel pipeline: one global model for many series, next to per-series baselines.

load → split (per series: train | validation | test) → fit the global net on everything before
the test part (validation targets only score early stopping) → forecast the validation part
from its origin, with the baselines fitted on the history before it → choose among the net, the
classical models, the net's mean with each and the classical models' mean (`list_candidates`;
a classical model unless another is better on evidence, `choose_method`) → forecast the test
part the same way → report.

The choice never sees the test part: it is made on the validation part, which ends where the
test part begins.
"""

import dataclasses
import time
from pathlib import Path

import pandas as pd

from kseq.evaluation.choice import Choice, choose_by_evidence
from kseq.evaluation.combination import EQUAL_WEIGHT
from kseq.evaluation.panel_baselines import BASELINE_CACHE
from kseq.evaluation.panel_intervals import add_panel_bounds
from kseq.evaluation.panel_metrics import (
    measure_panel_coverage,
    score_panel,
    summarise_scores,
)
from kseq.pipeline.candidates import (
    calibrate_on_validation,
    forecast_all,
    list_candidates,
    name_incumbent,
    panel_intervals,
    tail_frame,
)
from kseq.pipeline.fit import checkpoint_dir
from kseq.pipeline.global_fit import fit_global, save_global_fit
from kseq.pipeline.load import load_run_panel, panel_min_length
from kseq.pipeline.panel_report import make_panel_card, write_panel_outputs


@dataclasses.dataclass(frozen=True)
class ValidationWindow:
    """One origin of the choice: the truth of its window (long ``unique_id``, ``ds``, ``y``),
    every candidate's forecast of it (long, a column per method) and the panel before it."""

    truth: object
    forecasts: object
    history: object


@dataclasses.dataclass(frozen=True)
class PanelSplit:
    """The panel and its histories at the two origins (each series cut per series)."""

    full: object
    before_test: object
    before_validation: object
    test: int
    validation: int


def split_panel(panel, split):
    """Cuts each series before its last ``test`` and ``test + validation`` points."""
    before_test = panel.head(panel.lengths - split.test)
    return PanelSplit(
        full=panel,
        before_test=before_test,
        before_validation=before_test.head(before_test.lengths - split.validation),
        test=split.test,
        validation=split.validation,
    )


def choose_method(scores, evaluation, where="the validation part", freq=None):
    """The `Choice` among the candidates (`list_candidates`) from per-series validation
    scores (``origin``, ``unique_id``, ``method``, ``mase``): the incumbent (`name_incumbent`:
    the pretrained network's rule for `freq`, else the first classical model) unless another
    candidate is better on evidence (`choose_by_evidence`)."""
    if not evaluation.choose:
        return Choice("kseq", "evaluation.choose = false: the global net as it is")
    incumbent, why = name_incumbent(evaluation.baselines, freq)
    choice = choose_by_evidence(
        scores, list_candidates(evaluation.baselines), incumbent, evaluation.choice_alpha
    )
    return dataclasses.replace(choice, reason=f"{why}on {where}, {choice.reason}")


def forecast_earlier_origins(recipe, panel, cache_dir, *, run_dir, **fit_options):
    """Every candidate's forecasts at the choice's earlier origins (`ValidationWindow`s), and
    the seconds the baselines took there (``{name: seconds}``, reported apart from kseq's own
    time).

    Origin ``j`` (1 ... ``choice_origins - 1``) is the validation part moved ``j`` windows of
    ``[split] validation`` points back: each series is cut before its last ``j × validation``
    points and split as the run splits the whole panel, a net is trained on it as the run's
    (checkpoints under the run's own), and every candidate forecasts that origin's validation
    window from the history before it. Series too short for an origin sit it out.
    """
    split, steps = recipe.split, recipe.split.test
    # Only the validation forecasts count here: no refit on the validation part.
    recipe = dataclasses.replace(recipe, training=dataclasses.replace(recipe.training, refit=False))
    windows, baseline_seconds = [], dict.fromkeys(recipe.evaluation.baselines, 0.0)
    for j in range(1, recipe.evaluation.choice_origins):
        lengths = panel.lengths - j * split.validation
        short = lengths < panel_min_length(recipe)
        if short.all():
            break
        reasons = {sid: f"no room for choice origin {j}" for sid in panel.ids[short]}
        moved = split_panel(panel.drop(reasons).head(lengths[~short]), split)
        fit = fit_global(
            recipe, moved, run_dir=checkpoint_dir(run_dir, f"origin_{j}"), **fit_options
        )
        truth = (
            tail_frame(moved.before_test, split.validation)
            .groupby("unique_id", sort=False)
            .head(steps)
        )
        forecasts, baselines, _ = forecast_all(
            fit.validation_fit(), moved.before_validation, steps, recipe, cache_dir
        )
        for name in baseline_seconds:
            baseline_seconds[name] += baselines.seconds[name]
        windows.append(ValidationWindow(truth, forecasts, moved.before_validation))
    return windows, baseline_seconds


@dataclasses.dataclass(frozen=True)
class PanelChoice:
    """The validation stage of a panel run: the truth and every candidate's forecasts of the
    validation part, the scores' means there, the `Choice`, the net's weight in each
    combination, the conformal intervals fitted there, and the seconds it took (the
    baselines' per model, the net's forecasts, the nets trained for earlier origins)."""

    truth: object
    forecasts: object
    summary: dict
    choice: Choice
    weights: dict
    intervals: dict
    cached: list
    baseline_seconds: dict
    forecast_seconds: float
    origins_seconds: float


@dataclasses.dataclass(frozen=True)
class PanelTest:
    """The test stage of a panel run: truth, forecasts (every candidate, ``chosen`` and the
    interval bounds), per-series scores and their means (with the intervals' coverage), the
    coverage by part, the baselines' notes and seconds."""

    truth: object
    forecasts: object
    scores: object
    summary: dict
    coverage: dict
    notes: list
    cached: list
    baseline_seconds: dict
    forecast_seconds: float


def choose_on_validation(recipe, panel, split, fit, cache_dir, **fit_options):
    """Scores every candidate on the validation part (and the earlier origins,
    `forecast_earlier_origins`, a net trained for each with `fit_options`), chooses among
    them (`choose_method`) and fits the conformal intervals there: a `PanelChoice`."""
    steps, season = split.test, recipe.evaluation.season_length
    truth = tail_frame(split.before_test, split.validation).groupby("unique_id", sort=False)
    truth = truth.head(steps)
    forecasts, baselines, seconds = forecast_all(
        fit.validation_fit(), split.before_validation, steps, recipe, cache_dir
    )
    # More origins for the choice: the windows before the validation part, a net each.
    tick = time.perf_counter()
    earlier, earlier_seconds = forecast_earlier_origins(recipe, panel, cache_dir, **fit_options)
    # kseq's part only: the baselines' fits at those origins are reported with the baselines.
    origins_seconds = time.perf_counter() - tick - sum(earlier_seconds.values())
    windows = [ValidationWindow(truth, forecasts, split.before_validation), *earlier]
    # One row per origin, series and method: the choice pairs the candidates by (origin, series).
    scored = pd.concat(
        [score_panel(w.truth, w.forecasts, w.history, season) for w in windows],
        keys=range(len(windows)),
        names=["origin", None],
    ).reset_index(level="origin")
    where = "the validation part"
    if earlier:
        counts = ", ".join(str(window.truth["unique_id"].nunique()) for window in earlier)
        where = (
            f"{1 + len(earlier)} origins: the validation part ({len(panel)} series) and the "
            f"{len(earlier)} window(s) of {split.validation} points before it ({counts} series "
            "with room), the net retrained for each"
        )
    choice = choose_method(scored, recipe.evaluation, where, panel.freq)
    intervals = {}
    if split.validation and recipe.evaluation.intervals:
        intervals, rolling = calibrate_on_validation(
            recipe, split, fit.validation_fit(), choice.chosen, baselines.network, cache_dir
        )
        seconds += rolling.seconds.get("kseq", 0.0)
        for name in baselines.seconds:
            baselines.seconds[name] += rolling.seconds.get(name, 0.0)
    return PanelChoice(
        truth=truth,
        forecasts=forecasts,
        summary=summarise_scores(scored),
        choice=choice,
        # A combination is the mean of its members (recorded, as `kseq forecast` reads it).
        weights={
            name: EQUAL_WEIGHT
            for name in list_candidates(recipe.evaluation.baselines)
            if name.startswith("kseq+")
        },
        intervals=intervals,
        cached=sorted(baselines.cached),
        baseline_seconds={
            name: baselines.seconds[name] + earlier_seconds[name] for name in earlier_seconds
        },
        forecast_seconds=seconds,
        origins_seconds=origins_seconds,
    )


def score_test_part(recipe, panel, split, fit, chosen, cache_dir):
    """Forecasts the test part with every candidate, the pick `chosen` (`PanelChoice`) and
    its intervals, and scores them: a `PanelTest`."""
    steps, season = split.test, recipe.evaluation.season_length
    truth = tail_frame(panel, steps)
    forecasts, baselines, seconds = forecast_all(
        fit, split.before_test, steps, recipe, cache_dir, chosen.weights
    )
    forecasts["chosen"] = forecasts[chosen.choice.chosen]
    add_panel_bounds(forecasts, chosen.intervals, split.before_test, season)
    scores = score_panel(truth, forecasts, split.before_test, season)
    summary = summarise_scores(scores)
    # Coverage per part, method and level: the conformal intervals' on the test part only
    # (they were fitted on the validation part), a quantile head's on both.
    coverage = {"test": {}}
    for method in ["kseq"] * bool(panel_intervals(recipe)) + list(chosen.intervals):
        coverage["test"][method] = measure_panel_coverage(truth, forecasts, method)
    if panel_intervals(recipe):
        kseq_validation = measure_panel_coverage(chosen.truth, chosen.forecasts)
        coverage["validation"] = {"kseq": kseq_validation}
    if coverage["test"]:
        summary["coverage"] = coverage["test"]
    else:
        coverage = {}
    return PanelTest(
        truth=truth,
        forecasts=forecasts,
        scores=scores,
        summary=summary,
        coverage=coverage,
        notes=baselines.notes,  # the pretrained network's fine-tuning
        cached=sorted(baselines.cached),
        baseline_seconds=dict(baselines.seconds),
        forecast_seconds=seconds,
    )


def run_panel(recipe, run_dir, *, resume=False, verbose="auto", callbacks=()):
    """The panel pipeline of a `Recipe` with a panel source; returns its `RunCard`."""
    run_dir = Path(run_dir)
    cache_dir = run_dir.parent / BASELINE_CACHE
    timings = {}
    tick = time.perf_counter()
    # Keys the recipe left out are chosen from the panel (recorded in the card with why).
    recipe, panel, inferred = load_run_panel(recipe)
    split = split_panel(panel, recipe.split)
    timings["data_s"] = round(time.perf_counter() - tick, 2)

    tick = time.perf_counter()
    fit = fit_global(
        recipe, split, run_dir=run_dir, resume=resume, verbose=verbose, callbacks=callbacks
    )
    timings["training_s"] = round(time.perf_counter() - tick, 2)

    chosen = choose_on_validation(
        recipe, panel, split, fit, cache_dir, run_dir=run_dir, resume=resume, verbose=verbose
    )
    timings["choice_origins_s"] = round(chosen.origins_seconds, 2)
    test = score_test_part(recipe, panel, split, fit, chosen, cache_dir)
    timings["kseq_forecast_s"] = round(chosen.forecast_seconds + test.forecast_seconds, 2)
    baseline_seconds = {
        name: round(chosen.baseline_seconds[name] + test.baseline_seconds[name], 2)
        for name in recipe.evaluation.baselines
    }
    timings["baselines_s"] = round(sum(baseline_seconds.values()), 2)

    tick = time.perf_counter()
    outputs = write_panel_outputs(
        run_dir,
        recipe,
        split,
        test.truth,
        test.forecasts,
        test.scores,
        test.summary,
        fit.histories[0],
    )
    # `kseq forecast` forecasts with these members and the method chosen here.
    intervals = {name: calibration.to_dict() for name, calibration in chosen.intervals.items()}
    extra = {
        "recipe": recipe.to_dict(),
        "chosen": chosen.choice.chosen,
        "weights": chosen.weights,
        "intervals": intervals,
        # `kseq forecast --csv` refuses a newer panel on another frequency.
        "freq": panel.freq,
    }
    save_global_fit(fit, run_dir / "forecaster", extra=extra)
    outputs.append("forecaster/")
    timings["report_s"] = round(time.perf_counter() - tick, 2)
    timings["kseq_s"] = round(
        sum(timings[k] for k in ("data_s", "training_s", "choice_origins_s", "kseq_forecast_s"))
        + timings["report_s"],
        2,
    )
    return make_panel_card(
        recipe,
        run_dir,
        panel,
        split,
        fit,
        chosen,
        test,
        timings=timings,
        inferred=inferred,
        intervals=intervals,
        baseline_seconds=baseline_seconds,
        outputs=["run_card.json", "run_card.md", *outputs],
    )
