"""Rolling-origin backtests: one recipe run per forecast origin, scored on the points after it.

The backend must be chosen before this module is imported (the CLI does it).
"""

import collections
import dataclasses
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kseq._io import write_json_atomic, write_text_atomic
from kseq.config import AR1Recipe, validate
from kseq.errors import ConfigError, DataError, SavedStateError, TrainingInterrupted
from kseq.evaluation.tables import format_backtest
from kseq.pipeline.defaults import infer_defaults
from kseq.pipeline.fit import CHECKPOINTS
from kseq.pipeline.load import (
    is_panel_of_one,
    load_panel,
    load_run_panel,
    load_series,
    make_panel_of_one,
    panel_min_length,
)
from kseq.pipeline.run import run_recipe
from kseq.pipeline.run_card import RunCard


@dataclass(frozen=True)
class BacktestRun:
    origin: str
    metrics: dict  # row -> {metric: value}, as `RunCard.metrics`
    # Empirical coverage of the run's intervals on the points after the origin: {label:
    # {"80": share inside, ...}} (one series: "24-step", "chosen one-step", ...; a panel:
    # per method, "kseq", "chosen").
    coverage: dict = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class BacktestSummary:
    """Per-origin metrics and their means over origins (rows present in every run); the same
    for the intervals' empirical coverage (labels present in every run)."""

    recipe: str
    length: int
    runs: list
    mean: dict
    mean_coverage: dict = dataclasses.field(default_factory=dict)
    # Keys the recipe left out, chosen once for every origin: {"section.key": why}.
    settings: dict = dataclasses.field(default_factory=dict)
    # Rows some origins lack (left out of the means): {row: origins that have it}.
    partial: dict = dataclasses.field(default_factory=dict)

    @property
    def origins(self):
        return [run.origin for run in self.runs]

    def to_json(self):
        return json.dumps({**dataclasses.asdict(self), "origins": self.origins}, indent=2) + "\n"


def origin_position(index, origin):
    """The position of `origin` (a position, or the first date at or after a date)."""
    if isinstance(origin, int):
        return origin
    if not isinstance(index, pd.DatetimeIndex):
        raise ConfigError(f"Origin {origin!r} is a date, but this series has no dates; use counts.")
    try:
        stamp = pd.Timestamp(origin)
    except ValueError:
        raise ConfigError(f"Origin {origin!r} is not a date.") from None
    return int(index.searchsorted(stamp, side="left"))


def make_series_cut(recipe, length):
    """``origin -> recipe`` of the run that forecasts `length` points from `origin`."""
    series = load_series(recipe.data, recipe.recipe.seed)

    def make_run(origin):
        start = origin_position(series.index, origin)
        if not 0 < start <= len(series) - length:
            raise ConfigError(
                f"Origin {origin!r} leaves no room: it must have history before it and "
                f"{length} points after it (the series has {len(series)})."
            )
        return dataclasses.replace(
            recipe,
            split=dataclasses.replace(recipe.split, test=length, end=start + length),
            evaluation=dataclasses.replace(recipe.evaluation, test_steps=length),
            # The test part is the origin's; the other left-out keys are chosen per origin,
            # from the data before it.
            auto=recipe.auto - {"split.test"},
        )

    return make_run


def make_panel_cut(recipe, length):
    """``origin -> recipe`` of the panel run whose test part is the `length` months (steps of
    the panel's frequency) from `origin` (a date) in every series: each series is cut at
    ``origin + length - 1`` and its last `length` points are scored."""
    auto = recipe.auto  # left out: chosen per origin with test = length (`load_run_panel`)
    if length > recipe.windows.horizon and "windows.horizon" not in auto:
        raise ConfigError(
            f"--length {length} is longer than the panel recipe's [windows] horizon = "
            f"{recipe.windows.horizon}; the global model forecasts its horizon directly."
        )
    if (
        recipe.evaluation.choose
        and length > recipe.split.validation
        and "split.validation" not in auto
    ):
        raise ConfigError(
            f"--length {length} is longer than the panel recipe's [split] validation = "
            f"{recipe.split.validation}, on which the choice is made; set validation >= "
            "the length, or evaluation.choose = false."
        )
    panel = load_panel(recipe.data, 1 if auto else panel_min_length(recipe))
    offset = pd.tseries.frequencies.to_offset(panel.freq)

    def make_run(origin):
        if isinstance(origin, int):
            raise ConfigError(
                f"Origin {origin} is a position; a panel's series start on different dates, so "
                "its origins are dates (--origins 2016-01 2017-01)."
            )
        try:
            stamp = pd.Timestamp(origin)
        except ValueError:
            raise ConfigError(f"Origin {origin!r} is not a date.") from None
        end = stamp + (length - 1) * offset
        end = end.strftime("%Y-%m-%d") if end == end.normalize() else end.isoformat()
        return dataclasses.replace(
            recipe,
            split=dataclasses.replace(recipe.split, test=length, end=end),
            auto=auto - {"split.test"},
        )

    return make_run


def settle_settings(recipe, runs):
    """``(runs, inferred)``: the per-origin `runs` with the keys the recipe left out chosen
    once, from the data up to the earliest origin's end, so that every origin trains the same
    model and scores the same rows (chosen per origin, a strategy or a baseline can change
    between origins). Whether to take logs is the one key every origin's data decides: it
    holds only where every value up to the latest end is positive."""
    if not recipe.auto - {"split.test"}:
        return runs, {}

    def when(run):
        end = run.split.end
        return pd.Timestamp(end) if isinstance(end, str) else end

    earliest = min(runs.values(), key=when)
    if recipe.data.is_panel:
        settled, _, inferred = load_run_panel(earliest)
    else:
        series = load_series(recipe.data, recipe.recipe.seed)
        settled, inferred = infer_defaults(earliest, series)
        if "transforms.log" in recipe.auto and settled.transforms.log:
            latest = max(runs.values(), key=when)
            log = infer_defaults(latest, series)[0].transforms.log
            settled = dataclasses.replace(
                settled, transforms=dataclasses.replace(settled.transforms, log=log)
            )
            if not log:
                inferred["transforms.log"] = "false: a later origin's data has values <= 0"
    inferred = {
        key: f"{why} (from the data up to the earliest origin's end, {earliest.split.end})"
        for key, why in inferred.items()
    }
    settled_runs = {
        origin: dataclasses.replace(
            settled,
            split=dataclasses.replace(settled.split, end=run.split.end),
            auto=frozenset(),
        )
        for origin, run in runs.items()
    }
    return settled_runs, inferred


def default_length(recipe):
    """Points a backtest scores after each origin when not told: the recipe's ``[evaluation]
    test_steps`` (a panel's: its test part), else its test part; where the recipe leaves the test
    part to the data, the one its defaults choose on the whole data (one horizon)."""
    if recipe.data.is_panel:
        if "split.test" in recipe.auto:
            recipe, _, _ = load_run_panel(recipe)
        return recipe.split.test
    if recipe.evaluation.test_steps:
        return recipe.evaluation.test_steps
    if "split.test" in recipe.auto:
        recipe, _ = infer_defaults(recipe, load_series(recipe.data, recipe.recipe.seed))
    # A date-valued test part says where the test starts, not how long a backtest scores.
    return recipe.split.test if isinstance(recipe.split.test, int) else 0


# Written in an origin's folder before its run: the recipe `--resume` compares a finished run
# of that origin with (the run card holds the recipe after the data's defaults were chosen).
ORIGIN_RECIPE = "backtest_recipe.json"


def read_finished_origin(folder, run, label):
    """The `RunCard` of the origin's finished run in `folder` when it ran `run`'s recipe;
    `None` when it did not finish (or predates the recipe record, so it runs again); a
    `ConfigError` when it ran another recipe."""
    card_path, recipe_path = folder / "run_card.json", folder / ORIGIN_RECIPE
    if not (card_path.is_file() and recipe_path.is_file()):
        return None
    try:
        recorded = json.loads(recipe_path.read_text())
        card = RunCard.from_json(card_path.read_text())
    except ValueError as error:
        raise SavedStateError(
            f"Origin {label!r}: {folder} holds a damaged run ({error}); remove the folder to "
            "run that origin again."
        ) from None
    # Compared with every default filled in (an origin recorded before a key existed holds
    # none) and as written (JSON: tuples become lists).
    try:
        recorded = validate(recorded, source=str(recipe_path)).to_dict()
    except ConfigError:
        recorded = None  # a key this version no longer knows: another recipe
    if _as_json(recorded) != _as_json(run.to_dict()):
        raise ConfigError(
            f"Origin {label!r}: {folder} holds a run of another recipe or length; --resume "
            "continues the same backtest. Use another --out, or leave out --resume to run "
            "every origin again."
        )
    return card


def read_coverage(card):
    """``{label: {level: share inside}}``: the empirical coverage of a run's intervals on its
    test part (`RunCard.interval_coverage`, or a panel's per method)."""
    if card.panel is not None:
        return card.panel.coverage.get("test", {})
    return card.interval_coverage


def average_over_origins(tables):
    """``{row: {key: mean}}`` over the per-origin `tables` (``{row: {key: value}}``), for the
    rows every origin has."""
    if not tables:
        return {}
    rows = set.intersection(*(set(table) for table in tables))
    return {
        row: {key: statistics.fmean(table[row][key] for table in tables) for key in tables[0][row]}
        for row in sorted(rows)
    }


def _as_json(value):
    return json.loads(json.dumps(value, default=str))


def backtest_recipe(
    recipe, origins, *, length=None, run_dir="runs/backtest", resume=False, verbose=0
):
    """Runs `recipe` once per origin and averages the scores of the parts after the origins.

    A panel recipe is backtested the same way, every series at once: the origins are dates,
    each series is cut `length` steps after the origin, and the global net is retrained per
    origin (with the classical baselines refitted per series).

    For an origin at position ``t`` the series is cut at ``t + length``; the last `length`
    points are the run's test part, the recipe's ``[split] validation`` comes before them, and
    everything is fitted on what precedes. Origins inside the training period make a
    rolling-origin evaluation that never looks at the real test part.

    Example:

    >>> recipe = load_recipe(recipe_path("airpassengers"))
    >>> summary = backtest_recipe(recipe, ["1956-01", "1957-01", "1958-01"], length=12)
    >>> summary.mean["kseq (one-step)"]["mape"]

    Args:
        recipe: a validated `Recipe` (`kseq.config.load_recipe`).
        origins: first forecast points, as dates (``"1958-01"``) or positions (`int`).
        length: points scored after each origin; `default_length` when `None`.
        run_dir: one sub-directory per origin is written here, plus ``backtest.json``/``.md``.
        resume: continue an interrupted backtest in `run_dir`: an origin whose run finished
            with this recipe is read back, not run again; the interrupted one continues from
            its checkpoints (`run_recipe`'s `resume`).
        verbose: Keras progress-bar setting.

    Returns:
        A `BacktestSummary`.
    """
    if isinstance(recipe, AR1Recipe):
        raise ConfigError("Backtests need a single series; the ar1 recipe simulates paths.")
    if not origins:
        raise ConfigError("A backtest needs at least one origin.")
    if is_panel_of_one(recipe):
        recipe = make_panel_of_one(recipe, run_dir)
    length = int(length or default_length(recipe))
    if length < 1:
        raise ConfigError("--length must be >= 1 (or set [evaluation] test_steps in the recipe).")
    cut = make_panel_cut if recipe.data.is_panel else make_series_cut
    make_run = cut(recipe, length)
    planned, settings = settle_settings(recipe, {origin: make_run(origin) for origin in origins})
    run_dir = Path(run_dir)
    runs = []
    for origin in origins:
        run = planned[origin]
        label = str(origin)
        folder = run_dir / label.replace("/", "-")
        card = read_finished_origin(folder, run, label) if resume else None
        try:
            if card is None:
                interrupted = resume and (folder / CHECKPOINTS).is_dir()
                folder.mkdir(parents=True, exist_ok=True)
                write_json_atomic(folder / ORIGIN_RECIPE, run.to_dict())
                card = run_recipe(run, run_dir=folder, resume=interrupted, verbose=verbose)
        except (ConfigError, DataError) as error:
            # Which of the runs failed: their data differ by origin.
            raise type(error)(f"Origin {label!r}: {error}") from error
        except TrainingInterrupted as error:
            message = f"origin {label!r}: {error}; its checkpoints are in {folder}"
            raise TrainingInterrupted(message, error.signal_number) from None
        runs.append(BacktestRun(label, card.metrics, read_coverage(card)))
    counts = collections.Counter(row for run in runs for row in run.metrics)
    summary = BacktestSummary(
        recipe.name,
        length,
        runs,
        average_over_origins([r.metrics for r in runs]),
        average_over_origins([r.coverage for r in runs]),
        settings=settings,
        partial={row: n for row, n in sorted(counts.items()) if n < len(runs)},
    )
    write_text_atomic(run_dir / "backtest.json", summary.to_json())
    write_text_atomic(run_dir / "backtest.md", format_backtest(summary))
    return summary
