"""A run of a validated recipe, stage by stage (docs/architecture.md):

load → split → transform → window/build/fit → evaluate → report/save.

The backend must be chosen before this module is imported (the CLI does it).
"""

import time
import warnings
from pathlib import Path

from kseq._io import write_text_atomic
from kseq._keras import keras
from kseq.config import AR1Recipe
from kseq.errors import LeakageWarning
from kseq.evaluation.panel_baselines import BASELINE_CACHE
from kseq.pipeline.ar1 import run_ar1
from kseq.pipeline.defaults import infer_defaults
from kseq.pipeline.evaluate import (
    calibrate_intervals,
    evaluate_test,
    evaluate_validation,
    forecast_future,
)
from kseq.pipeline.fit import clear_run_checkpoints, fit_forecaster
from kseq.pipeline.forecast import forecast_saved_panel
from kseq.pipeline.load import (
    explain_run_as_written,
    is_panel_of_one,
    load_series,
    make_panel_of_one,
)
from kseq.pipeline.panel import run_panel
from kseq.pipeline.related import load_related
from kseq.pipeline.report import write_forecast_outputs, write_run_card
from kseq.pipeline.run_card import RunCard
from kseq.pipeline.split import check_feature_steps, split_run
from kseq.pipeline.transform import build_transforms, check_window_room, find_leaks
from kseq.pipeline.trust import count_windows, describe_coverage, describe_few_windows
from kseq.pipeline.trust import warn as warn_trust
from kseq.pipeline.values import PreparedRun


def resolve_run_dir(recipe, run_dir=None):
    return Path(run_dir or recipe.recipe.output_dir.format(name=recipe.name))


def run_recipe(recipe, *, run_dir=None, resume=False, verbose="auto", callbacks=()):
    """Runs a validated recipe (`kseq.config.load_recipe`); returns its `RunCard`.

    Args:
        recipe: a `Recipe` (or an `AR1Recipe`, run by `kseq.pipeline.ar1`).
        run_dir: output directory; the recipe's ``output_dir`` by default.
        resume: continue from the checkpoints of an interrupted run in `run_dir` (models whose
            training had ended are restored, the others continue at their last checkpoint).
        verbose: Keras progress-bar setting.
        callbacks: extra Keras callbacks (e.g. a study's pruning callback).
    """
    run_dir = resolve_run_dir(recipe, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(recipe.recipe.seed)
    started = time.perf_counter()
    if isinstance(recipe, AR1Recipe):
        card = run_ar1(recipe, run_dir, resume=resume, verbose=verbose, callbacks=callbacks)
    elif is_panel_of_one(recipe):
        # A series is a panel of one: the panel run, with the pretrained network and the
        # corpus-learned choice that one series' validation window cannot give.
        panel = make_panel_of_one(recipe, run_dir)
        card = run_panel(panel, run_dir, resume=resume, verbose=verbose, callbacks=callbacks)
        card.notes.insert(0, f"One series ({recipe.data.path}): run as a panel of one.")
        write_panel_future(card, run_dir)
    elif recipe.data.is_panel:
        card = run_panel(recipe, run_dir, resume=resume, verbose=verbose, callbacks=callbacks)
        write_panel_future(card, run_dir)
    else:
        card = run_forecast(recipe, run_dir, resume=resume, verbose=verbose, callbacks=callbacks)
        if reason := explain_run_as_written(recipe):
            card.notes.insert(
                0, f"One series, run as written, not as a panel of one: {reason.rstrip('.')}."
            )
    card.timings["total_s"] = round(time.perf_counter() - started, 2)
    write_run_card(run_dir, card)
    # Everything is written: the checkpoints of an interrupted attempt are not needed any more.
    clear_run_checkpoints(run_dir)
    return card


def write_panel_future(card, run_dir):
    """With ``[evaluation] forecast_steps``, a panel run's forecasts past each series' end
    (`forecast_saved_panel`: ``unique_id``, ``ds``, ``kseq``, ``chosen`` and their bounds) in
    future_forecast.csv, as a run of one series writes them."""
    steps = card.config["evaluation"]["forecast_steps"]
    if steps:
        cache_dir = Path(run_dir).resolve().parent / BASELINE_CACHE
        frame = forecast_saved_panel(Path(run_dir) / "forecaster", steps, cache_dir=cache_dir)
        write_text_atomic(
            Path(run_dir) / "future_forecast.csv", frame.reset_index().to_csv(index=False)
        )
        card.outputs.append("future_forecast.csv")


def run_forecast(recipe, run_dir, *, resume=False, verbose="auto", callbacks=()):
    """The forecast pipeline of a `Recipe`; returns its `RunCard` (not yet written)."""
    timings = {}
    tick = time.perf_counter()
    prepared = prepare_run(recipe)
    recipe, data, transforms = prepared.recipe, prepared.data, prepared.transforms
    timings["data_s"] = round(time.perf_counter() - tick, 2)

    tick = time.perf_counter()
    fit = fit_forecaster(
        recipe,
        data,
        transforms,
        run_dir=run_dir,
        related=prepared.related,
        resume=resume,
        verbose=verbose,
        callbacks=callbacks,
    )
    timings["training_s"] = round(time.perf_counter() - tick, 2)

    tick = time.perf_counter()
    validation = evaluate_validation(fit, data, recipe)
    chosen = validation.chosen if validation is not None else None
    weights = validation.weights if validation is not None else {}
    steps = recipe.evaluation.forecast_steps
    test_steps = min(recipe.evaluation.test_steps or data.num_test, data.num_test)
    intervals, interval_note = calibrate_intervals(
        fit.forecaster,
        data,
        recipe,
        max(steps, test_steps, 1),
        chosen=chosen,
        weights=weights,
    )
    test = evaluate_test(fit.final, data, recipe, validation=validation, intervals=intervals)
    future = (
        forecast_future(
            fit.final, data.series, steps, intervals, chosen, recipe.evaluation, weights
        )
        if steps
        else None
    )
    title = f"{recipe.name} ({keras.backend.backend()})"
    outputs = write_forecast_outputs(
        run_dir, recipe, data, fit, test, future, title, chosen, weights, intervals
    )
    timings["evaluation_s"] = round(time.perf_counter() - tick, 2)

    history = fit.history
    return RunCard.of_run(
        recipe,
        run_dir,
        timings=timings,
        leakage=prepared.leaks,
        notes=(test.notes if test is not None else [])
        + ([interval_note] if interval_note else [])
        + check_run_trust(recipe, data, transforms, test),
        epochs_run=len(history.get("loss", [])),
        epochs_run_per_member=[len(h.get("loss", [])) for h in fit.histories],
        best_epoch_per_member=fit.best_epochs,
        refit_epochs_per_member=fit.refit_epochs,
        distribution=fit.distribution,
        related=fit.related,
        inferred=prepared.inferred,
        final_loss=_last(history, "loss"),
        final_val_loss=_last(history, "val_loss"),
        metrics=test.metrics if test is not None else {},
        validation=validation,
        interval=test.coverage if test is not None else None,
        intervals={name: calibrated.to_dict() for name, calibrated in intervals.items()},
        interval_coverage=test.band_coverage if test is not None else {},
        future=future,
        outputs=["run_card.json", "run_card.md", *outputs],
    )


def prepare_run(recipe):
    """Stages 1-3 of a run of one series: load, the keys left out chosen from the data,
    split, related series, transforms (unfitted) and leaks (warned); a `PreparedRun`."""
    series = load_series(recipe.data, recipe.recipe.seed)
    # Keys a CSV recipe left out, chosen from the data (recorded in the card with why).
    recipe, inferred = infer_defaults(recipe, series)
    data = split_run(series, recipe.split)
    check_window_room(recipe, data)
    check_feature_steps(recipe, data)
    leaks = find_leaks(recipe)
    for leak in leaks:
        warnings.warn(f"Recipe {recipe.name!r}: {leak}.", LeakageWarning, stacklevel=3)
    return PreparedRun(
        recipe=recipe,
        inferred=inferred,
        data=data,
        related=load_related(recipe.data, data.series),
        transforms=build_transforms(recipe.transforms),
        leaks=leaks,
    )


def check_run_trust(recipe, data, transforms, test):
    """Notes (also warned) where the run's result cannot be trusted: a net trained on a few
    windows, interval bands whose test coverage is far from nominal."""
    trust = []
    if not recipe.data.related:  # related series add windows of their own
        trust.append(describe_few_windows(count_train_windows(recipe, data, transforms)))
    if test is not None:
        counts = {
            label: test.steps if label.endswith("-step") and "one-step" not in label
            else len(test.truth)
            for label in test.band_coverage
        }  # fmt: skip
        trust += describe_coverage(test.band_coverage, counts)
    trust = [note for note in trust if note]
    warn_trust(trust, stacklevel=3)
    return trust


def count_train_windows(recipe, data, transforms):
    """Windows the net trained on (of the training part, or of the whole series)."""
    train = data.values if recipe.training.train_on == "all" else data.train
    windows = recipe.windows
    return count_windows(len(train), windows.lookback, windows.horizon, transforms.context_length)


def _last(history, key):
    values = history.get(key)
    return float(values[-1]) if values else None
