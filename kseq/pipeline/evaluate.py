"""Stage 7, evaluate: trained forecasters → validation scores, test metrics next to the
baselines, and forecasts past the end. All in original units; the baselines are fitted on the
same history as the model."""

import numpy as np
import pandas as pd

from kseq.data.dates import format_dates, make_future_index
from kseq.errors import DataError
from kseq.evaluation import baselines as classical
from kseq.evaluation.choice import choose_by_evidence
from kseq.evaluation.combination import EQUAL_WEIGHT, combine
from kseq.evaluation.conformal_intervals import ConformalIntervals
from kseq.evaluation.metrics import mase, score
from kseq.pipeline.fit import kept_epoch
from kseq.pipeline.run_card import describe_weight
from kseq.pipeline.values import (
    CandidateScores,
    FutureForecast,
    IntervalCoverage,
    TestEvaluation,
    ValidationScores,
)


def evaluate_validation(fit, data, recipe):
    """Scores the members trained on train (before any refit) on the validation part."""
    if fit.monitor != "val_loss":
        return None
    values, split = data.values, data.split
    season = recipe.evaluation.season_length
    start = split.validation.start
    truth = values[split.validation][:, 0]
    history = values[split.train][:, 0]
    recursive = fit.forecaster.predict(values[:start], len(truth))[:, 0]
    one_step = fit.forecaster.predict_one_step(values[: split.validation.stop], start)[:, 0]
    val_loss = fit.history["val_loss"]  # the first member's
    scores, picked = None, None
    if recipe.evaluation.choose:
        scores = score_candidates(recursive, one_step, history, truth, recipe.evaluation)
        picked = choose_candidate(scores.forecasts, truth, history, recipe.evaluation)
    return ValidationScores(
        choice=scores.multi_step if scores else {},
        chosen=picked.chosen if picked else None,
        reason=picked.reason if picked else "",
        weights=scores.weights if scores else {},
        best_val_loss=float(val_loss[kept_epoch(val_loss, recipe.training) - 1])
        if recipe.training.early_stopping
        else float(min(val_loss)),
        one_step=score(truth, one_step, history, season),
        recursive=score(truth, recursive, history, season),
    )


# Baselines whose forecasts are averaged with the model's as candidates of the choice.
COMBINABLE = ("sarima", *classical.STATSFORECAST_MODELS)


def list_candidates(model, baselines, weights=None):
    """The choice's candidates: ``{name: forecast}`` for the model, each baseline and the
    model's combination with each `COMBINABLE` baseline (``"kseq+sarima"``): the model's
    weight in `weights` (``{"kseq+sarima": 0.75}``), else their mean."""
    weights = weights or {}
    candidates = {"kseq": model, **baselines}
    for name in COMBINABLE:
        if name in baselines:
            combination = f"kseq+{name}"
            weight = weights.get(combination, EQUAL_WEIGHT)
            candidates[combination] = combine(model, baselines[name], weight)
    return candidates


def name_combination_weights(baselines):
    """The model's weight in each combination with a `COMBINABLE` baseline: 1/2, their mean
    (``{"kseq+sarima": 0.5}``, recorded so that `kseq forecast` combines them the same)."""
    return {f"kseq+{name}": EQUAL_WEIGHT for name in COMBINABLE if name in baselines}


def score_candidates(model, model_one_step, history, truth, evaluation):
    """Every candidate on `truth`, the baselines fitted on `history` and the combinations'
    weights chosen on the multi-step forecasts: a `CandidateScores`."""
    baselines, _ = compute_baselines(history, truth, evaluation)
    steps = len(truth)
    season = evaluation.season_length
    multi_baselines = {name: f["multi_step"][:steps] for name, f in baselines.items()}
    weights = name_combination_weights(multi_baselines)
    multi = list_candidates(model[:steps], multi_baselines, weights)
    one = list_candidates(
        model_one_step, {name: f["one_step"] for name, f in baselines.items()}, weights
    )
    return CandidateScores(
        multi_step={name: score(truth, f, history, season)["mase"] for name, f in multi.items()},
        one_step={name: score(truth, f, history, season)["mase"] for name, f in one.items()},
        forecasts=multi,
        weights=weights,
    )


def choose_candidate(candidates, truth, history, evaluation):
    """The `Choice` among `candidates` (``{name: multi-step forecast of truth}``) on one
    series' validation part: with ETS among them, ETS unless a candidate is better on evidence
    (`choose_by_evidence`, paired by (origin, series) as for panels); else the lowest MASE
    (the bundled recipes' rule, which list no ETS).

    One window of one series is one pair — its steps are not independent evidence (a level
    error puts every step on the same side) — so a single series keeps ETS; the other
    candidates' validation MASE is reported next to it.
    """
    season = evaluation.season_length
    scores = {name: mase(truth, forecast, history, season) for name, forecast in candidates.items()}
    if not any(np.isfinite(list(scores.values()))):
        # No MASE scale (a series repeating its seasons): MAE orders them the same here.
        scores = {name: float(np.abs(f - truth).mean()) for name, f in candidates.items()}
    frame = pd.DataFrame(
        {"origin": 0, "unique_id": "series", "method": list(scores), "mase": list(scores.values())}
    )
    incumbent = "ets" if "ets" in candidates else None
    return choose_by_evidence(frame, list(candidates), incumbent, evaluation.choice_alpha)


def pick_lowest(choice):
    """The candidate of lowest score (undefined scores are never picked), or `None`."""
    defined = {name: value for name, value in choice.items() if value == value}
    return min(defined, key=defined.get) if defined else None


def arrange_by_step(paths, first, start, stop):
    """Forecast paths from consecutive origins ``first, first + 1, ...`` (``(origins,
    steps)``) rearranged per forecast point: row ``p - start`` for each point ``p`` in
    ``[start, stop)``, column ``s`` its forecast from ``s + 1`` steps before it (NaN where that
    origin is not among the paths)."""
    steps = paths.shape[1]
    ahead = np.arange(steps)
    row = np.arange(start, stop)[:, None] - ahead[None, :] - first
    valid = (row >= 0) & (row < len(paths))
    return np.where(valid, paths[np.clip(row, 0, len(paths) - 1), ahead], np.nan)


def calibrate_intervals(forecaster, data, recipe, steps, chosen=None, weights=None):
    """Conformal intervals for up to `steps` steps ahead from held-out residuals:
    ``({"kseq": ConformalIntervals, "chosen": ...}, note)``; no intervals and a note saying why
    when they cannot be honest.

    Every validation point is forecast from each origin 1 to `steps` steps before it by the
    members trained on the training part only (`forecaster`) and, for the `chosen` candidate
    of the validation choice, by that candidate fitted on the training part (a baseline, or
    the model's combination with one, weighed by `weights`), so every residual is out of
    sample. Multiplicative when the recipe models logs."""
    levels = recipe.evaluation.intervals
    split = data.split
    start, stop = split.validation.start, split.validation.stop
    if not levels:
        return {}, None
    if stop <= start:
        return {}, "No intervals: they are calibrated on the validation part, and there is none."
    if recipe.training.train_on != "train":
        return {}, (
            "No intervals: the model trained on the validation part ([training] train_on = "
            f"{recipe.training.train_on!r}), so its residuals there are not out of sample."
        )
    values = data.values[:stop]
    # {name: (points, steps) forecasts}: the chosen candidate only where it can be fitted
    # (SARIMA needs two seasons before the window).
    paths = forecast_window_paths(forecaster, values, start, recipe, steps, chosen, weights)
    if paths is None:
        return {}, "No intervals: the validation part has no point with enough history."
    truth = values[start:, 0]
    multiplicative = recipe.transforms.log and bool((truth > 0).all())
    intervals = {}
    if forecaster.head.is_probabilistic:
        # A probabilistic head's own quantiles are the net's interval, as in a panel run.
        paths.pop("kseq")
    for name, matrix in paths.items():
        try:
            intervals[name] = ConformalIntervals.fit(
                truth, matrix, levels, multiplicative=multiplicative
            )
        except ValueError as error:
            return {}, f"No intervals: {error}"
    return intervals, None


def forecast_window_paths(forecaster, values, start, recipe, steps, chosen=None, weights=None):
    """``{"kseq": (points, steps), "chosen": ...}``: each point of ``values[start:]`` (a
    held-out window at the end of `values`) forecast from every origin 1 to `steps` steps
    before it (column ``s``: ``s + 1`` steps ahead; NaN where the origin lacks history), by the
    members trained before `start` and, when `chosen` is another candidate, by it fitted on
    ``values[:start]``; `None` when no point has enough history."""
    stop = len(values)
    first = max(start - steps + 1, forecaster.context_length)
    if first >= stop:
        return None
    origins = np.arange(first, stop)
    paths = {"kseq": forecaster.predict_origins(values, origins, steps)[:, :, 0]}
    if chosen not in (None, "kseq"):
        baselines = make_baseline_paths(values[:, 0], start, origins, steps, recipe.evaluation)
        candidate = list_candidates(paths["kseq"], baselines, weights).get(chosen)
        if candidate is not None:
            paths["chosen"] = candidate
    return {name: arrange_by_step(p, first, start, stop) for name, p in paths.items()}


def make_baseline_paths(series, train_stop, origins, steps, evaluation):
    """``{name: (origins, steps)}``: each of the recipe's baselines (fitted on
    ``series[:train_stop]``) forecasting `steps` points from every origin of `series`."""
    season = evaluation.season_length
    history, later = series[:train_stop], series[train_stop:]
    paths = {"naive": np.repeat(series[origins - 1][:, None], steps, axis=1)}
    if season > 1 and origins.min() >= season:
        paths["seasonal_naive"] = series[
            origins[:, None] - season + np.arange(steps)[None, :] % season
        ]
    if (
        "sarima" in evaluation.baselines
        and season > 1
        and sarima_skip_reason(history, later, season) is None
    ):
        paths["sarima"] = classical.sarima_airline_paths(history, series, origins, steps, season)
    for name in classical.STATSFORECAST_MODELS:
        if name in evaluation.baselines:
            try:
                paths[name] = fit_statsforecast_baseline(
                    name,
                    classical.make_statsforecast_paths,
                    history,
                    series,
                    origins,
                    steps,
                    season,
                )
            except ValueError:
                pass  # the note on the skip comes with the baselines' forecasts
    return {k: v for k, v in paths.items() if k in evaluation.baselines}


def forecast_strategy(steps, horizon):
    """How `Forecaster.predict` reaches `steps` with a model of `horizon` outputs."""
    if steps <= horizon:
        return "direct"
    return "recursive" if horizon == 1 else "hybrid"


def evaluate_test(forecaster, data, recipe, validation=None, intervals=None):
    """Multi-step and one-step forecasts of the test part, the baselines, and their scores;
    with `validation` (`ValidationScores`), the candidates it picked as the rows
    ``chosen (...)``; with `intervals` (``{"kseq": ConformalIntervals, "chosen": ...}``), the
    intervals of those forecasts and their empirical coverage."""
    num_test = data.num_test
    if not num_test:
        return None
    evaluation = recipe.evaluation
    season = evaluation.season_length
    values, test_start = data.values, data.test_start
    history_values, test_values = values[:test_start], values[data.split.test]
    # A horizon past the test part is scored on the test points there are.
    steps = min(evaluation.test_steps or num_test, num_test)
    multi = forecaster.predict(history_values, steps)
    head = forecaster.head
    interval, coverage = None, None
    if head.is_probabilistic and evaluation.interval is not None:
        lower, upper = evaluation.interval_levels
        one_step, quantiles = forecaster.predict_one_step(values, test_start, (lower, upper))
        interval = (quantiles[:, 0, 0], quantiles[:, 0, 1])
        inside = (test_values[:, 0] >= interval[0]) & (test_values[:, 0] <= interval[1])
        coverage = IntervalCoverage(evaluation.interval, lower, upper, float(inside.mean()))
    else:
        one_step = forecaster.predict_one_step(values, test_start)
    # MASE's scale: the series before the forecast origin, as for a panel (its training and
    # validation parts).
    target_history = history_values[:, 0]
    truth = test_values[:steps, 0]
    strategy = forecast_strategy(steps, forecaster.horizon)
    metrics = {
        f"kseq ({strategy}, {steps}-step)": score(truth, multi[:, 0], target_history, season),
        "kseq (one-step)": score(test_values[:, 0], one_step[:, 0], target_history, season),
    }
    baselines, notes = compute_baselines(history_values[:, 0], test_values[:, 0], evaluation)
    for label, forecasts in baselines.items():
        metrics[f"{label} ({steps}-step)"] = score(
            truth, forecasts["multi_step"][:steps], target_history, season
        )
        metrics[f"{label} (one-step)"] = score(
            test_values[:, 0], forecasts["one_step"], target_history, season
        )
    chosen_forecasts = {}
    if validation is not None and validation.chosen is not None:
        chosen_forecasts, note = pick_chosen(validation, multi[:, 0], one_step[:, 0], baselines)
        notes.append(note)
        if chosen_forecasts:
            metrics[f"chosen ({steps}-step)"] = score(
                truth, chosen_forecasts["multi_step"], target_history, season
            )
            # One pick for both horizons: picking the one-step forecast on the validation
            # part's one-step scores instead was tried on the quality protocol and did worse
            # (docs/airpassengers.md).
            metrics["chosen (one-step)"] = score(
                test_values[:, 0], chosen_forecasts["one_step"], target_history, season
            )
    forecasts = {"kseq": {"multi_step": multi[:, 0], "one_step": one_step[:, 0]}}
    if chosen_forecasts:
        forecasts["chosen"] = chosen_forecasts
    bands, band_coverage = measure_bands(intervals or {}, forecasts, test_values[:, 0], steps)
    notes += explain_undefined(metrics, target_history, season)
    return TestEvaluation(
        metrics=metrics,
        steps=steps,
        truth=test_values,
        multi_step=multi,
        one_step=one_step,
        interval=interval,
        coverage=coverage,
        bands=bands,
        band_coverage=band_coverage,
        chosen=chosen_forecasts,
        baselines={k: v["multi_step"][:steps] for k, v in baselines.items()},
        baselines_one_step={k: v["one_step"] for k, v in baselines.items()},
        weights=validation.weights if validation is not None else {},
        notes=notes,
    )


def pick_chosen(validation, multi_step, one_step, baselines):
    """The validation's pick on the test part: ``({"multi_step", "one_step"}, note)`` — its
    forecasts (a baseline, the net, or the net's combination with a baseline, weighed as on
    validation) and the run card's note; ``({}, note)`` when it is not among the candidates
    here."""
    chosen, weights = validation.chosen, validation.weights
    steps = len(multi_step)
    multi = list_candidates(
        multi_step, {k: v["multi_step"][:steps] for k, v in baselines.items()}, weights
    )
    if chosen not in multi:
        return {}, f"{chosen}, chosen on the validation part, is not available here."
    one = list_candidates(one_step, {k: v["one_step"] for k, v in baselines.items()}, weights)
    weight = describe_weight(weights, chosen)
    weighed = f"; {chosen}{weight}" if weight else ""
    note = f"chosen on the validation part: {validation.reason or chosen}{weighed}."
    return {"multi_step": multi[chosen], "one_step": one[chosen]}, note


def measure_bands(intervals, forecasts, truth, steps):
    """The conformal bands around `forecasts` (``{"kseq" | "chosen": {"multi_step",
    "one_step"}}``) and their coverage of `truth` (the test part; the multi-step bands cover
    its first `steps` points): ``({name: {level: {"multi_step": (low, high), "one_step":
    ...}}}, {"24-step": {"80": share inside}, "chosen one-step": ...})``."""
    bands, coverage = {}, {}
    for name, calibrated in intervals.items():
        if name not in forecasts:
            continue
        one_ahead = np.ones(len(truth), dtype="int64")
        bands[name] = {
            level: {
                "multi_step": calibrated.bounds(forecasts[name]["multi_step"], level),
                "one_step": calibrated.bounds(
                    forecasts[name]["one_step"], level, steps_ahead=one_ahead
                ),
            }
            for level in calibrated.levels
        }
        prefix = "" if name == "kseq" else f"{name} "
        coverage[f"{prefix}{steps}-step"] = measure_coverage(
            truth[:steps], {k: b["multi_step"] for k, b in bands[name].items()}
        )
        coverage[f"{prefix}one-step"] = measure_coverage(
            truth, {k: b["one_step"] for k, b in bands[name].items()}
        )
    return bands, coverage


def measure_coverage(truth, bands):
    """``{"80": share of truth inside, ...}`` for ``{level: (lower, upper)}``."""
    return {
        format_level(level): float(((truth >= low) & (truth <= high)).mean())
        for level, (low, high) in bands.items()
    }


def format_level(level):
    """``0.8`` → ``"80"``, ``0.975`` → ``"97.5"`` (column and key names)."""
    return f"{100 * level:g}"


MAX_SARIMA_SEASON = 24


def explain_undefined(metrics, history, season_length):
    """Why a metric is null (NaN) in the report, one sentence per metric."""
    undefined = {name for scores in metrics.values() for name, v in scores.items() if v != v}
    notes = []
    if "mase" in undefined:
        if len(history) <= season_length:
            reason = f"the training part has no more than {season_length} points (one season)"
        else:
            reason = "the training part repeats itself exactly at the seasonal lag (a constant "
            reason += "series, say), so MASE's scale, its seasonal-naive error, is 0"
        notes.append(f"MASE is null: {reason}.")
    if "mape" in undefined:
        notes.append(
            "MAPE is null: the test part has zeros, where a percentage error is undefined."
        )
    return notes


def sarima_skip_reason(history, test, season):
    """Why the airline SARIMA cannot be fitted on `history` to forecast `test`, or `None`."""
    if not classical.sarima_available():
        return "pip install 'kseq[classical]'."
    if (history <= 0).any() or (test <= 0).any():
        return "the airline model is fitted on log values and the series has values <= 0."
    if season > MAX_SARIMA_SEASON:
        # Measured: season 52 on 5 years of weekly data took 6.5 minutes in statsmodels.
        return (
            f"a seasonal period of {season} (over {MAX_SARIMA_SEASON}) makes its state-space "
            "fit take minutes; compare with seasonal_naive, or forecast a coarser frequency."
        )
    if len(history) < 2 * season + 2:
        return (
            f"it needs two seasons ({2 * season + 2} points) of history; the series has "
            f"{len(history)} before the test part."
        )
    return None


def compute_baselines(history, test, evaluation):
    """The recipe's baselines: ``{name: {"multi_step", "one_step"}}`` and notes on skips."""
    season = evaluation.season_length
    forecasts = classical.naive_baselines(history, test, season)
    notes = []
    if "sarima" in evaluation.baselines and season > 1:
        reason = sarima_skip_reason(history, test, season)
        if reason is None:
            forecasts["sarima"] = classical.sarima_airline(history, test, season)
        else:
            notes.append(f"SARIMA baseline skipped: {reason}")
    for name in classical.STATSFORECAST_MODELS:
        if name in evaluation.baselines:
            try:
                forecasts[name] = fit_statsforecast_baseline(
                    name, classical.forecast_statsforecast, history, test, season
                )
            except ValueError as error:
                label = classical.STATSFORECAST_LABELS[name]
                notes.append(f"{label} baseline skipped: {error}")
    chosen = {k: v for k, v in forecasts.items() if k in evaluation.baselines}
    return chosen, notes


def fit_statsforecast_baseline(name, forecast, *args):
    """`forecast(name, *args)` (a statsforecast function of `kseq.evaluation.baselines`), or a
    `ValueError` saying why the model `name` cannot be fitted there."""
    if not classical.statsforecast_available():
        raise ValueError("pip install 'kseq[classical]' (statsforecast).")
    try:
        return forecast(name, *args)
    except NotImplementedError as error:  # statsforecast's "tiny datasets"
        model = classical.STATSFORECAST_MODELS[name]
        raise ValueError(f"statsforecast's {model} cannot fit so few points ({error}).") from None


def forecast_future(
    forecaster, series, steps, intervals=None, chosen=None, evaluation=None, weights=None
):
    """`steps` forecasts past the end of `series` (a `SeriesData`), dated by its frequency,
    with the bounds of `intervals` (``{"kseq" | "chosen": ConformalIntervals}``) when given;
    with `chosen` (the validation choice, another candidate than the model), that candidate's
    forecast too, its baseline fitted on the whole series (`forecast_chosen`; a combination
    weighed as in `weights`)."""
    intervals = intervals or {}
    values = forecaster.predict(series.values, steps)[:, 0]
    dates = make_future_index(series.index, steps)
    chosen_values = None
    if chosen not in (None, "kseq"):
        weight = (weights or {}).get(chosen, EQUAL_WEIGHT)
        chosen_values = forecast_chosen(chosen, values, series.values[:, 0], evaluation, weight)
    return FutureForecast(
        ds=format_dates(dates),
        values=[float(v) for v in values],
        intervals=format_bounds(intervals.get("kseq"), values),
        chosen=chosen if chosen_values is not None else None,
        chosen_values=[] if chosen_values is None else [float(v) for v in chosen_values],
        chosen_intervals=format_bounds(intervals.get("chosen"), chosen_values),
    )


def format_bounds(intervals, values):
    """``{"80": [lower, upper], ...}`` (lists) of a `ConformalIntervals` around `values`."""
    if intervals is None or values is None:
        return {}
    bounds = {}
    for level in intervals.levels:
        low, high = intervals.bounds(values, level)
        bounds[format_level(level)] = [[float(v) for v in low], [float(v) for v in high]]
    return bounds


def forecast_chosen(chosen, model_forecast, history, evaluation, weight=EQUAL_WEIGHT):
    """The forecast of the candidate `chosen` on validation (a baseline, or the model's
    combination with one, ``"kseq+ets"``, the model weighing `weight`) after `history`, its
    baseline fitted on all of `history`."""
    baseline, season = chosen.removeprefix("kseq+"), evaluation.season_length
    # The history may be a newer CSV than the run's: say why the baseline cannot be refitted
    # there instead of writing NaN (SARIMA on logs) or failing with a traceback.
    if baseline == "sarima" and (reason := sarima_skip_reason(history, history[-1:], season)):
        raise DataError(f"The run chose {chosen}; its SARIMA cannot be refitted here: {reason}")
    if baseline in classical.STATSFORECAST_MODELS:
        try:
            forecast = fit_statsforecast_baseline(
                baseline, classical.forecast_ahead, history, len(model_forecast), season
            )
        except ValueError as error:
            raise DataError(
                f"The run chose {chosen}; {classical.STATSFORECAST_LABELS[baseline]} cannot be "
                f"refitted here: {error}"
            ) from None
    else:
        forecast = classical.forecast_ahead(baseline, history, len(model_forecast), season)
    return combine(model_forecast, forecast, weight) if baseline != chosen else forecast
