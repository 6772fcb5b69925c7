"""The panel's candidates: the net, the per-series models (statsforecast's, and the shipped
pretrained network fine-tuned on the panel) and their combinations — their names, and their
forecasts after each series of a history, in one long frame."""

import dataclasses
import functools
import time

import pandas as pd

from kseq.config import PANEL_CLASSICAL, PANEL_PRETRAINED
from kseq.evaluation.combination import combine
from kseq.evaluation.panel_baselines import forecast_baselines, forecast_baselines_rolling
from kseq.evaluation.panel_intervals import calibrate_panel_intervals
from kseq.pipeline.values import RollingForecasts


def list_candidates(baselines):
    """What a panel's choice weighs: the net, each classical per-series model among the
    baselines, the mean of the net with each (``"kseq+ets"``, ...) and, with two or more, the
    mean of the classical models (``"ets+theta+arima"``: the combination that won the M3 and M4
    comparisons against its members). With the pretrained network among the baselines, it
    joins alone and averaged with the first classical model (``"pretrained+ets"``: the rule
    it learned on the M-competition corpus for quarterly, monthly and other series). A name
    joins with ``+`` the forecasts it averages."""
    classical = [name for name in PANEL_CLASSICAL if name in baselines]
    combination = ["+".join(classical)] if len(classical) > 1 else []
    pretrained = []
    if PANEL_PRETRAINED in baselines:
        pretrained = [PANEL_PRETRAINED, *(f"{PANEL_PRETRAINED}+{c}" for c in classical[:1])]
    return [
        "kseq",
        *classical,
        *(f"kseq+{name}" for name in classical),
        *combination,
        *pretrained,
    ]


def add_combinations(forecasts, names, weights=None):
    """Adds to `forecasts` (a long frame) a column per name of `names` that joins others with
    ``+``: the net's combination with one classical model, the net weighing ``weights[name]``
    (1/2 when not given), or the members' mean."""
    weights = weights or {}
    for name in names:
        members = name.split("+")
        if len(members) > 1 and name in weights:
            forecasts[name] = combine(forecasts[members[0]], forecasts[members[1]], weights[name])
        elif len(members) > 1:
            forecasts[name] = forecasts[members].mean(axis=1)
    return forecasts


def forecast_per_series(history, steps, season_length, names, cache_dir=None):
    """The per-series models' forecasts after each series of `history`: statsforecast's
    (`forecast_baselines`, cached) and the pretrained network's (column ``pretrained``: the
    median of the shipped network fine-tuned on `history` — its last `steps` points of each
    series stop the tuning and decide whether it is kept, `kseq.pretrained.fine_tuning`).
    A `BaselineForecasts`."""
    from kseq.pretrained.fine_tuning import fine_tune

    statistical = [name for name in names if name != PANEL_PRETRAINED]
    baselines = forecast_baselines(history, steps, season_length, statistical, cache_dir=cache_dir)
    if PANEL_PRETRAINED not in names:
        return baselines
    tick = time.perf_counter()
    network, tuning = fine_tune(load_shipped_network(), history, steps)
    forecast = network.forecast(history, steps, level=())
    forecast = forecast.rename(columns={"kseq": PANEL_PRETRAINED})
    frame = baselines.frame.merge(forecast, on=["unique_id", "ds"], validate="one_to_one")
    seconds = {**baselines.seconds, PANEL_PRETRAINED: round(time.perf_counter() - tick, 2)}
    note = f"pretrained network {describe_fine_tuning(tuning)}"
    return dataclasses.replace(
        baselines, frame=frame, seconds=seconds, notes=[note], network=network
    )


def describe_fine_tuning(record):
    """One line on a `FineTuning`: kept or not, and the validation losses behind it."""
    if record.loss_before is None:
        return "not fine-tuned: the series are too short to give training windows"
    verdict = "kept" if record.kept else "not kept (the shipped network validated better)"
    return (
        f"fine-tuned on {record.num_windows} windows, {record.epochs} epochs: validation "
        f"loss {record.loss_before:.4f} -> {record.loss_after:.4f}, {verdict}"
    )


def name_incumbent(baselines, freq):
    """The candidate a panel's choice keeps unless another is better on evidence, and why.

    With the pretrained network among `baselines`, the rule it learned for `freq`'s kind
    (yearly, quarterly, monthly, other) from the validation windows of thousands of corpus
    series (``pretrained.json``: ``kseq`` → ``pretrained``, ``kseq+ets`` →
    ``pretrained+ets``) — evidence no small panel can give. Otherwise (or when the rule names
    a candidate the run lacks) the first classical model, ETS by default; `None` without one.
    """
    classical = [name for name in PANEL_CLASSICAL if name in baselines]
    fallback = classical[0] if classical else None
    if PANEL_PRETRAINED not in baselines or freq is None:
        return fallback, ""
    from kseq.pretrained.inputs import read_kind

    kind = read_kind(freq)
    ruled = load_shipped_network().rule.get(kind)
    if ruled is None:
        return fallback, ""
    name = ruled.replace("kseq", PANEL_PRETRAINED)
    if name not in list_candidates(baselines):
        return fallback, ""
    return name, f"the pretrained network's rule for {kind} series starts from {name}; "


@functools.cache
def load_shipped_network():
    """The shipped pretrained network, loaded (and its files checked) once per process."""
    from kseq.pretrained import load_pretrained

    return load_pretrained()


def forecast_all(fit, history, steps, recipe, cache_dir, weights=None):
    """kseq's, the baselines' and the combinations' forecasts after each series of `history`
    (the net weighing `weights` in its combinations, else 1/2)."""
    tick = time.perf_counter()
    forecasts = fit.forecast(history, steps, panel_intervals(recipe))
    kseq_seconds = time.perf_counter() - tick
    evaluation = recipe.evaluation
    baselines = forecast_per_series(
        history, steps, evaluation.season_length, evaluation.baselines, cache_dir
    )
    forecasts = forecasts.merge(baselines.frame, on=["unique_id", "ds"], validate="one_to_one")
    add_combinations(forecasts, list_candidates(evaluation.baselines), weights)
    return forecasts, baselines, kseq_seconds


def forecast_rolling(
    fit, history, points, steps, columns, season_length, network=None, cache_dir=None, origins=None
):
    """The forecasts conformal intervals calibrate on: each of the last `points` points of
    every series of `history` forecast from every origin among those points before it, up to
    `steps` steps ahead (the first origin is where those points start, as for the choice), by
    each candidate of `columns` (names as `list_candidates` gives them) — the net by `fit`,
    the pretrained network by `network` (as fine-tuned before those points), statsforecast's
    models fitted once before the first origin (`forecast_baselines_rolling`, cached in
    `cache_dir`), combinations as their members' mean. None of them saw those points. A
    `RollingForecasts`.

    `origins` (default `points`) may reach further back: with ``points + steps - 1`` every
    point is forecast at every step, the classical models then fitted before the earliest
    origin (benchmarks/panel_intervals.py compares them: docs/results.md, 2026-12-07).
    """
    members = {member for column in columns for member in column.split("+")}
    origins = origins or points
    truth = tail_frame(history, points)
    frames, seconds = [], {}
    for member, forecaster in (("kseq", fit), (PANEL_PRETRAINED, network)):
        if member not in members:
            continue
        tick = time.perf_counter()
        parts = []
        for back in range(origins, 0, -1):  # the origin `back` points before each end
            part = forecast_after(forecaster, history.head(history.lengths - back), steps)
            parts.append(part.rename(columns={"kseq": member}))
        frames.append(pd.concat(parts, ignore_index=True))
        seconds[member] = time.perf_counter() - tick
    classical = [name for name in PANEL_CLASSICAL if name in members]
    if classical:
        tick = time.perf_counter()
        frame = forecast_baselines_rolling(
            history, steps, origins, season_length, classical, cache_dir=cache_dir
        )
        frames.append(frame.drop(columns="cutoff"))
        seconds.update(dict.fromkeys(classical, (time.perf_counter() - tick) / len(classical)))
    frame = truth.merge(frames[0], on=["unique_id", "ds"])
    for other in frames[1:]:
        frame = frame.merge(other, on=["unique_id", "ds", "step"])
    add_combinations(frame, [column for column in columns if "+" in column])
    return RollingForecasts(frame=frame, seconds=seconds)


def calibrate_on_validation(recipe, split, fit, chosen, network=None, cache_dir=None):
    """The conformal intervals of a panel run, fitted on its validation part: the `chosen`
    candidate's and the net's (unless its head forecasts its own quantiles), from
    `forecast_rolling` with `fit` (the members trained before the validation part) and
    `network` (the pretrained network fine-tuned there). ``({name: ConformalIntervals},
    RollingForecasts)``."""
    columns = {} if panel_intervals(recipe) else {"kseq": "kseq"}
    columns["chosen"] = chosen
    season, steps = recipe.evaluation.season_length, split.test
    rolling = forecast_rolling(
        fit,
        split.before_test,
        split.validation,
        steps,
        set(columns.values()),
        season,
        network,
        cache_dir,
    )
    intervals = calibrate_panel_intervals(
        rolling.frame,
        split.before_validation,
        season,
        recipe.evaluation.intervals,
        columns,
        steps,
    )
    return intervals, rolling


def forecast_after(forecaster, history, steps):
    """``unique_id``, ``ds``, ``step`` (1 = one step ahead) and ``kseq``: `forecaster`'s
    (a `GlobalFit`, or the pretrained network) `steps` forecasts after each series' end."""
    if hasattr(forecaster, "members"):
        frame = forecaster.forecast(history, steps)
    else:
        frame = forecaster.forecast(history, steps, level=())
    frame["unique_id"] = frame["unique_id"].astype(str)
    frame["step"] = frame.groupby("unique_id", sort=False).cumcount() + 1
    return frame


def tail_frame(panel, steps):
    """The last `steps` values of every series as ``unique_id``, ``ds``, ``y``."""
    frame = panel.to_frame().groupby("unique_id", sort=False).tail(steps)
    return frame.assign(unique_id=frame["unique_id"].astype(str))


def panel_intervals(recipe):
    """The coverages whose intervals the net forecasts: a quantile head's own interval (the
    first of ``[evaluation] intervals``); none for a point head."""
    interval = recipe.evaluation.interval
    return (interval,) if recipe.model.head == "quantile" and interval is not None else ()
