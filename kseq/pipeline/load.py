"""Stage 1, load: a recipe's ``[data]`` section → `SeriesData` (validated, original units),
or a `Panel` for a panel source. Keras-free: the CLI runs it before the backend is imported."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from kseq._io import write_text_atomic
from kseq.config import PANEL_PRETRAINED, PRETRAINED_HORIZON, Recipe, validate
from kseq.data import load_airpassengers, load_us_employment, make_sine, read_panel, read_series
from kseq.errors import ConfigError, DataError, SeriesTooShortError
from kseq.pipeline.defaults import infer_panel_defaults
from kseq.pipeline.split import cut_panel, list_reasons
from kseq.pipeline.values import SeriesData

# `read_series`'s advice names its arguments; a recipe user sets [data] keys instead.
_RECIPE_WORDS = {
    "pass missing='ffill' or missing='interpolate'": (
        'set [data] missing = "ffill" or "interpolate" (--set data.missing=ffill)'
    ),
    "pass fill_gaps='ffill' or fill_gaps='interpolate'": (
        'set [data] missing = "ffill" or "interpolate" (--set data.missing=ffill)'
    ),
    "or pass freq=.": 'or set [data] freq = "<pandas alias>" (--set data.freq=MS).',
}


def speak_recipe(message):
    """`message` with the library's argument names replaced by the recipe's keys."""
    for library, recipe in _RECIPE_WORDS.items():
        message = message.replace(library, recipe)
    return message


def load_series(data, seed=None):
    """Loads the series a ``[data]`` section names: bundled, synthetic or the user's CSV."""
    if data.source == "airpassengers":
        series = load_airpassengers()
        return SeriesData(series.index, series.to_numpy()[:, None], [series.name])
    if data.source == "sine":
        series = make_sine(data.family, num_points=data.num_points, end=data.end, seed=seed)
        return SeriesData(series.index, series.to_numpy()[:, None], [series.name])
    try:
        frame = read_series(
            data.path,
            data.time_column,
            data.target_columns,
            data.feature_columns,
            missing=data.missing,
            fill_gaps=data.missing,
            freq=data.freq,
        )
    except DataError as error:
        raise type(error)(speak_recipe(str(error))) from None
    return SeriesData(frame.index, frame.to_numpy(), list(frame.columns), data.num_targets)


# The global net's budget for a panel of one series (a panel's default: 3 members, 100 steps).
PANEL_OF_ONE_ENSEMBLE, PANEL_OF_ONE_STEPS = 1, 20


# Keys besides [recipe] and [data] that mean the same for a panel of one as for a series:
# a recipe setting no others runs as a panel of one, these carried over.
PANEL_OF_ONE_KEYS = (
    "split.test",
    "split.validation",
    "evaluation.season_length",
    "evaluation.baselines",
    "evaluation.forecast_steps",
    "evaluation.intervals",
    "evaluation.choose",
    "evaluation.choice_alpha",
)


def is_panel_of_one(recipe):
    """Whether `recipe` is run as a panel of one: a recipe for one column of the user's CSV
    (no feature columns, no related series) that sets, besides its ``[data]``, only keys of
    `PANEL_OF_ONE_KEYS`, with values a panel recipe takes (parts as counts of points, the
    baselines a panel computes). Its series goes through the panel pipeline — the pretrained
    network fine-tuned on it, statsforecast's models, the choice and conformal intervals — and
    the run writes a panel run's files. A recipe that sets the net, its windows, its training
    or its transforms is run as written (`explain_run_as_written` says why)."""
    return _is_one_column(recipe) and explain_run_as_written(recipe) is None


def _is_one_column(recipe):
    data = getattr(recipe, "data", None)
    return (
        isinstance(recipe, Recipe)
        and data.source == "csv"
        and data.num_targets == 1
        and not data.feature_columns
        and data.related is None
    )


def explain_run_as_written(recipe):
    """Why a recipe of one CSV column is run as written, not as a panel of one: the keys it
    sets that a panel of one does not take, or the panel rule its values break; `None` when
    it is a panel of one or not a recipe of one CSV column."""
    if not _is_one_column(recipe):
        return None
    others = {key for key in recipe.given if key.split(".")[0] not in ("recipe", "data")}
    extra = sorted(others - set(PANEL_OF_ONE_KEYS))
    if extra:
        shown = ", ".join(extra[:4]) + (", ..." if len(extra) > 4 else "")
        return f"it sets {shown}, which a panel of one does not take"
    try:  # the panel's own rules decide what it takes (no file is read here)
        validate(_make_panel_raw(recipe, {"source": "panel", "path": "data.csv"}), "panel")
    except ConfigError as error:
        return str(error).removeprefix("panel: ")
    return None


def make_panel_of_one(recipe, folder):
    """The panel recipe of `recipe`'s series (`is_panel_of_one`): the series is read and
    checked as its ``[data]`` says, written to ``folder/data.csv`` in long format (id: the
    target column's name) and read from there, as a panel CSV; the recipe's
    `PANEL_OF_ONE_KEYS` carried over."""
    series = load_series(recipe.data, recipe.recipe.seed)
    # The user's column names, so that `kseq forecast --csv` reads a newer file of theirs.
    time, target = recipe.data.time_column, series.columns[0]
    frame = pd.DataFrame({"unique_id": target, time: series.index, target: series.values[:, 0]})
    path = Path(folder) / "data.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, frame.to_csv(index=False))
    data = {"source": "panel", "path": str(path.resolve()), "time_column": time}
    data["target_columns"] = target
    # The series read here is filled already; kept for a newer file given to `forecast --csv`.
    data["missing"] = recipe.data.missing
    freq = recipe.data.freq or getattr(series.index, "freqstr", None)
    if freq:
        data["freq"] = freq
    return validate(_make_panel_raw(recipe, data), source=f"{recipe.data.path} as a panel of one")


def _make_panel_raw(recipe, data):
    """The raw panel recipe of one series: `data`, a budget for one series' windows and the
    recipe's `PANEL_OF_ONE_KEYS`."""
    # One series gives a global net a few dozen windows: a panel's budget (3 members x 100
    # batches of 256 per epoch) would sample each window hundreds of times per epoch.
    training = {"ensemble": PANEL_OF_ONE_ENSEMBLE, "steps_per_epoch": PANEL_OF_ONE_STEPS}
    raw = {"recipe": recipe.to_dict()["recipe"], "data": data, "training": training}
    for key in sorted(recipe.given & set(PANEL_OF_ONE_KEYS)):
        section, name = key.split(".")
        raw.setdefault(section, {})[name] = getattr(getattr(recipe, section), name)
    return raw


def panel_min_length(recipe):
    """Points a series of the panel needs: lookback, horizon, validation and test."""
    windows, split = recipe.windows, recipe.split
    return windows.lookback + windows.horizon + split.validation + split.test


def load_panel(data, min_length):
    """The recipe's panel: the bundled US employment series or a long CSV."""
    if data.source == "us_employment":
        panel = load_us_employment()
        short = panel.ids[panel.lengths < min_length]
        if len(short) and data.on_short == "raise":
            raise SeriesTooShortError(f"Series {list(short)} are shorter than {min_length} points.")
        return panel
    try:
        return read_panel(
            data.path,
            data.id_column,
            data.time_column or "ds",
            data.target_columns or "y",
            data.static_columns,
            min_length=min_length,
            on_short=data.on_short,
            freq=data.freq,
            missing=data.missing,
            fill_gaps=data.missing,
        )
    except DataError as error:
        raise type(error)(speak_recipe(str(error))) from None


def load_run_panel(recipe):
    """What a run of a panel recipe starts from: ``(recipe, panel, inferred)``.

    The panel is loaded and cut at ``[split] end``; the keys the recipe left out are chosen
    from it (`infer_panel_defaults`; ``inferred`` says why, for the run card); then series too
    short for the recipe's windows and parts are an error naming them, or left out and listed
    with ``[data] on_short = "skip"``.

    With ``on_short = "raise"`` the sizes fit the shortest series, so that none is left out;
    with ``"skip"`` they are the frequency's (fitted to the longest series), the series too
    short for them are left out, and the sizes are chosen again from the series kept — a
    short series never shrinks the others' windows.
    """
    minimum = 1 if recipe.auto else panel_min_length(recipe)
    panel = load_panel(recipe.data, minimum)
    panel = cut_panel(panel, recipe.split.end, minimum, recipe.data.on_short)
    if recipe.auto and recipe.data.on_short == "skip":
        wanted, _ = infer_panel_defaults(recipe, panel, shortest=int(panel.lengths.max()))
        panel = drop_short_series(panel, panel_min_length(wanted), "skip")
    recipe, inferred = infer_panel_defaults(recipe, panel)
    if inferred:
        panel = drop_short_series(panel, panel_min_length(recipe), recipe.data.on_short)
    recipe, inferred = drop_pretrained_past_its_horizon(recipe, inferred)
    steps, most = recipe.evaluation.forecast_steps, recipe.windows.horizon
    if steps > most:
        raise ConfigError(
            f"{recipe.name}: [evaluation] forecast_steps = {steps} is past what the panel's net "
            f"forecasts ({most} steps, its [windows] horizon): ask for at most {most}, or set a "
            "longer [windows] horizon."
        )
    return recipe, panel, inferred


def drop_pretrained_past_its_horizon(recipe, inferred):
    """``(recipe, inferred)`` without the pretrained network among the baselines when the
    horizon is longer than it forecasts (said in ``inferred``, which the run card prints)."""
    evaluation = recipe.evaluation
    horizon = recipe.windows.horizon
    if PANEL_PRETRAINED not in evaluation.baselines or horizon <= PRETRAINED_HORIZON:
        return recipe, inferred
    kept = [name for name in evaluation.baselines if name != PANEL_PRETRAINED]
    reason = (
        f"{kept}: without {PANEL_PRETRAINED!r}, which forecasts at most {PRETRAINED_HORIZON} "
        f"steps (the horizon is {horizon})"
    )
    recipe = dataclasses.replace(recipe, evaluation=dataclasses.replace(evaluation, baselines=kept))
    return recipe, {**inferred, "evaluation.baselines": reason}


def drop_short_series(panel, min_length, on_short):
    """`panel` without its series shorter than `min_length` (listed in `Panel.skipped`) when
    `on_short` is ``"skip"``; a `SeriesTooShortError` naming them otherwise."""
    short = np.flatnonzero(panel.lengths < min_length)
    reasons = {
        panel.ids[i]: f"{panel.lengths[i]} points, fewer than the {min_length} needed (lookback "
        "+ horizon + validation + test)"
        for i in short
    }
    if reasons and on_short != "skip":
        raise SeriesTooShortError(
            f"{len(reasons)} series are too short for the recipe: {list_reasons(reasons)}. "
            'Set [data] on_short = "skip" to leave them out (listed in the run card), or a '
            "shorter [windows] lookback / horizon."
        )
    if len(reasons) == len(panel):
        raise SeriesTooShortError(f"No series has the {min_length} points the recipe needs.")
    return panel.drop(reasons) if reasons else panel
