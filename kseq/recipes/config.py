"""The one place a recipe is validated, for `kseq run`, `backtest`, `study` and the library.

A recipe is a TOML file of sections; `load_recipe` turns it into a frozen `Recipe` (or an
`AR1Recipe` for ``[data] source = "ar1"``) whose sections are dataclasses with every default
filled in. Each key is declared once below with its types, choices and range; cross-key rules
(a head's interval levels, refit needing a validation part, a builder's fixed keys, ...) are
checked in `validate`. Nothing here imports Keras.
"""

import copy
import dataclasses
import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kseq._resources import resource_dir
from kseq.errors import ConfigError
from kseq.models.registry import BUILDERS, get_builder
from kseq.transforms.panel_scaler import SCALERS

_NUM = (int, float)


def _key(types, default=None, *, choices=None, low=None, high=None, open_high=False, each=None):
    """Declares one recipe key: accepted types, default, choices and an inclusive range.

    `each` applies the range to every item of a list value; `open_high` excludes `high`.
    """
    meta = {
        "types": types,
        "choices": choices,
        "low": low,
        "high": high,
        "open_high": open_high,
        "each": each,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class RecipeSection:
    name: str = _key((str,), "recipe")
    description: str = _key((str,), "")
    seed: int = _key((int,), 0, low=0)
    output_dir: str = _key((str,), "runs/{name}")


@dataclass(frozen=True)
class DataSection:
    source: str = _key(
        (str,), "airpassengers", choices=("airpassengers", "sine", "csv", "us_employment", "panel")
    )
    # csv and panel (a long CSV: id, time and target columns)
    path: str | None = _key((str,))
    id_column: str = _key((str,), "unique_id")
    time_column: str | None = _key((str,))
    target_columns: str | list | None = _key((str, list))
    feature_columns: str | list | None = _key((str, list))
    missing: str = _key((str,), "raise", choices=("raise", "ffill", "interpolate"))
    fill_gaps: str = _key((str,), "raise", choices=("raise", "ffill", "interpolate"))
    # The expected frequency as a pandas alias ("MS", "D", "h"); inferred from the dates when
    # unset.
    freq: str | None = _key((str,))
    # panel: series too short for the windows and splits are an error, or skipped and listed
    on_short: str = _key((str,), "raise", choices=("raise", "skip"))
    # panel: per-series constant numeric columns of the long CSV, fed to the global model
    static_columns: list = _key((list,), [])
    # One dated series: other series the net also trains on (a global model's related
    # series): "us_employment" (bundled) or a long CSV/Parquet file (unique_id, ds, y), each
    # cut where the run's training part ends and transformed with its own statistics.
    related: str | None = _key((str,))
    # sine
    family: str = _key(
        (str,), "clean", choices=("clean", "noisy_offset", "x_sin", "random_amplitude")
    )
    num_points: int = _key((int,), 100, low=2)
    end: float = _key(_NUM, 20.0)

    @property
    def is_panel(self):
        """Many series in long format: one global model for all of them."""
        return self.source in PANEL_SOURCES

    @property
    def num_targets(self):
        """Forecast columns: the named targets of a CSV, else the one bundled series."""
        if self.source != "csv" or isinstance(self.target_columns, str):
            return 1
        return len(self.target_columns)


@dataclass(frozen=True)
class SplitSection:
    # A count of points, a fraction of the series or (for dated series) a first date.
    test: int | float | str = _key((int, float, str), 0)
    validation: int | float | str = _key((int, float, str), 0)
    # Where the series ends for this run (a count or a last date): backtests cut it earlier.
    end: int | str | None = _key((int, str), low=1)


@dataclass(frozen=True)
class TransformsSection:
    log: bool = _key((bool,), False)
    # Steps per season of fixed seasonal indices removed after the log (classical
    # decomposition of the training part, `kseq.transforms.SeasonalAdjust`); 0: none.
    seasonal_adjust: int = _key((int,), 0, low=0)
    # Seasons at the training part's end the indices are estimated from; 0: all of them.
    seasonal_window: int = _key((int,), 0, low=0)
    difference: list = _key((list,), [], each=(1, None))
    minmax: list | bool = _key((list, bool), [0.0, 1.0])
    fit_on: str = _key((str,), "train", choices=("train", "all"))
    # Panels: per-series scaling fitted on each series' training part, after the log
    # (`kseq.transforms.panel_scaler`); "none" leaves each window to normalise itself.
    scaler: str = _key((str,), "none", choices=SCALERS)

    @property
    def feature_range(self):
        """The MinMax range, or `None` for no scaling."""
        if self.minmax is False:
            return None
        return (0.0, 1.0) if self.minmax is True else tuple(self.minmax)


@dataclass(frozen=True)
class WindowsSection:
    lookback: int = _key((int,), 12, low=1)
    horizon: int = _key((int,), 1, low=1)
    random_windows: bool = _key((bool,), False)
    # Panels: draw windows uniformly ("windows") or series first ("series"); add the position
    # in the season (sine, cosine) as inputs.
    sampling: str = _key((str,), "windows", choices=("windows", "series"))
    calendar: bool = _key((bool,), True)


@dataclass(frozen=True)
class ModelSection:
    builder: str = _key((str,), "forecaster")
    cell: str = _key((str,), "lstm", choices=("lstm", "gru", "simple_rnn"))
    units: int | list = _key((int, list), [50], low=1, each=(1, None))
    num_layers: int | None = _key((int,), low=1)
    dropout: float = _key(_NUM, 0.0, low=0.0, high=1.0, open_high=True)
    input_dropout: float = _key(_NUM, 0.0, low=0.0, high=1.0, open_high=True)
    recurrent_dropout: float = _key(_NUM, 0.0, low=0.0, high=1.0, open_high=True)
    forget_bias: float | None = _key(_NUM)
    head: str = _key((str,), "point", choices=("point", "quantile", "mixture"))
    dense_units: int | list = _key((int, list), [], low=1, each=(1, None))
    dense_activation: str = _key((str,), "relu")
    quantiles: list = _key((list,), [0.1, 0.5, 0.9])
    num_components: int = _key((int,), 1, low=1)
    # Panels: a learned vector of this size per series, appended to every input step (0: none).
    series_embedding: int = _key((int,), 0, low=0)

    @property
    def layer_units(self):
        """Units of each recurrent layer, with `num_layers` applied."""
        units = self.units if isinstance(self.units, list) else [self.units]
        return units * self.num_layers if self.num_layers is not None else list(units)


@dataclass(frozen=True)
class TrainingSection:
    optimizer: str = _key((str,), "adam", choices=("adam", "adamw", "rmsprop", "sgd"))
    learning_rate: float = _key(_NUM, 1e-3, low=0.0)
    epochs: int = _key((int,), 100, low=1)
    batch_size: int = _key((int,), 32, low=1)
    steps_per_epoch: int | None = _key((int,), low=1)
    # Training steps per compiled call (Keras's compile argument). Same numbers; on a GPU it
    # hides per-step host work (docs/speed.md). "auto": the backend's choice for the device
    # it trains on (`choose_steps_per_execution`: 16 on a JAX or TensorFlow accelerator, else 1).
    steps_per_execution: int | str = _key((int, str), "auto", low=1)
    shuffle: bool = _key((bool,), True)
    early_stopping: bool = _key((bool,), False)
    patience: int = _key((int,), 10, low=0)
    # Epochs before early stopping watches the validation loss (Keras's
    # `EarlyStopping(start_from_epoch=...)`): the best weights are only taken from then on.
    start_from_epoch: int = _key((int,), 0, low=0)
    train_on: str = _key((str,), "train", choices=("train", "all"))
    ensemble: int = _key((int,), 1, low=1)
    # After early stopping on the validation part, retrain on train + validation for the
    # number of epochs that scored best there.
    refit: bool = _key((bool,), False)
    # Resumable checkpoints (`kseq run --resume`): written at an epoch end once this many
    # epochs or seconds have passed since the last one (0 turns that trigger off; both 0:
    # every epoch). Each costs one copy of the weights and optimizer state to disk.
    checkpoint_every: int = _key((int,), 0, low=0)
    checkpoint_seconds: float = _key(_NUM, 10.0, low=0.0)
    # "data_parallel": every batch split over all devices the backend sees (and every host of
    # a cluster), on the backend's own engine (docs/scale.md). JAX and TensorFlow only.
    distribution: str = _key((str,), "none", choices=("none", "data_parallel"))
    # After training with [data] related: up to this many epochs on the series' own windows,
    # a fresh optimizer at fine_tune_learning_rate (default learning_rate / 10) and
    # fine_tune_batch_size (default batch_size), early-stopped on validation; a member keeps
    # the fine-tuned weights only where they score a lower validation loss.
    fine_tune_epochs: int = _key((int,), 0, low=0)
    fine_tune_learning_rate: float | None = _key(_NUM, low=0.0)
    fine_tune_batch_size: int | None = _key((int,), low=1)


BASELINES = ("naive", "seasonal_naive", "sarima", "ets", "theta")
PANEL_SOURCES = ("us_employment", "panel")
PANEL_BASELINES = ("seasonal_naive", "ets", "theta", "arima")
# The per-series models a panel's choice weighs against the net (alone and averaged with it).
PANEL_CLASSICAL = ("ets", "theta", "arima")
# What a panel recipe gets for the keys it leaves out: a global model's sizes and budget (those
# of the bundled us_employment recipe, the field's plain global LSTM) and every classical
# baseline, so that the default run chooses between the net, the classical models and their
# combinations on the validation part.
PANEL_DEFAULTS = {
    "model": {"units": [64, 64]},
    "training": {
        "batch_size": 256,
        "epochs": 15,
        "steps_per_epoch": 100,
        "early_stopping": True,
        "patience": 4,
        "ensemble": 3,
    },
    "evaluation": {"baselines": list(PANEL_BASELINES)},
}


@dataclass(frozen=True)
class EvaluationSection:
    horizon: int = _key((int,), 0, low=0)
    season_length: int = _key((int,), 1, low=1)
    baselines: list = _key((list,), ["naive", "seasonal_naive"])
    forecast_steps: int = _key((int,), 0, low=0)
    # Nominal coverage of the interval scored for probabilistic heads (0.8: the 10 %-90 %
    # quantiles).
    interval: float = _key(_NUM, 0.8, low=0.0, high=1.0, open_high=True)
    # Conformal intervals of the forecasts, calibrated on the validation part's residuals
    # (nominal coverages; [] for none); a panel's are in each series' scale.
    intervals: list = _key((list,), [0.8, 0.95])
    # The conformal intervals' residuals come from this many windows — the validation part
    # and the windows of the same length before it, the members retrained on the history
    # before each (statsforecast's and neuralforecast's `n_windows`); one series: windows
    # without room for a training window are left out, with a note; each costs one training.
    # A panel's earlier windows are its choice origins (at most choice_origins).
    interval_windows: int = _key((int,), 1, low=1)
    # Pick by MASE on the validation part (which ends where the test part begins) and report
    # the pick ("chosen") next to every method. Panels: the net, a classical model (ETS, Theta,
    # ARIMA among the baselines) or the net's mean with one of them. One series: the model,
    # a baseline, or the model's mean with SARIMA (multi-step forecasts of the validation part).
    choose: bool = _key((bool,), True)
    # Panels: the choice is scored on this many origins — the validation part and the windows
    # of the same length before it, the net retrained for each (series without room for an
    # earlier window sit that one out). Left out: enough for ~1,000 scored values, at most 3.
    choice_origins: int = _key((int,), 1, low=1)
    # The choice keeps the incumbent classical model (panels: the first among the baselines,
    # ETS by default; one series: ETS when listed) unless a candidate's MASE is lower by a
    # one-sided Wilcoxon test at this level over all comparisons, paired by (origin, series) —
    # one series' window is one pair, so it keeps ETS; 1: the lowest mean wins, no test
    # (kseq.evaluation.choice).
    choice_alpha: float = _key(_NUM, 0.05, low=0.0, high=1.0)
    # How a combination of the net with a classical model weighs the two: "equal" (their
    # mean), or "validation": the net's weight among 0.25, 0.5 and 0.75 with the lowest
    # validation MASE, one per combination, given in the run card
    # (kseq.evaluation.combination).
    combination_weights: str = _key((str,), "equal", choices=("equal", "validation"))

    @property
    def interval_levels(self):
        """The lower and upper quantile levels of the interval."""
        return (round((1 - self.interval) / 2, 10), round((1 + self.interval) / 2, 10))


@dataclass(frozen=True)
class AR1DataSection:
    source: str = _key((str,), "ar1", choices=("ar1",))
    rho: float = _key(_NUM, 0.1, low=-1.0, high=1.0, open_high=True)
    lag_weights: list = _key((list,), [0.0, 0.1])
    num_steps: int = _key((int,), 100, low=2)
    test_paths: int = _key((int,), 1000, low=1)


class _RecipeBase:
    @property
    def name(self):
        return self.recipe.name

    def to_dict(self):
        """The recipe as plain TOML/JSON values (every default filled in)."""
        return dataclasses.asdict(self)


# Keys a recipe for the user's own CSV may leave out: `kseq.pipeline.defaults` chooses them
# from the loaded series (its frequency, length and training part).
AUTO_KEYS = (
    "evaluation.season_length",
    "windows.horizon",
    "windows.lookback",
    "split.test",
    "split.validation",
    "transforms.log",
    "transforms.difference",
    "evaluation.baselines",
)
# The same for a panel (`infer_panel_defaults`: the frequency and the shortest series). A panel
# takes logs per series where positive, so the transforms are not among them.
PANEL_AUTO_KEYS = (
    "evaluation.season_length",
    "windows.horizon",
    "windows.lookback",
    "split.test",
    "split.validation",
    "evaluation.choice_origins",
)


@dataclass(frozen=True)
class Recipe(_RecipeBase):
    """A validated forecasting recipe: one series (or a CSV of target columns).

    `auto` names the `AUTO_KEYS` a ``source = "csv"`` recipe left out (`PANEL_AUTO_KEYS` for a
    panel); they hold their placeholders until `kseq.pipeline.defaults.infer_defaults` (or
    `infer_panel_defaults`) sets them from the data.
    """

    recipe: RecipeSection
    data: DataSection
    split: SplitSection
    transforms: TransformsSection
    windows: WindowsSection
    model: ModelSection
    training: TrainingSection
    evaluation: EvaluationSection
    auto: frozenset = field(default=frozenset(), compare=False)

    def to_dict(self):
        """The recipe as plain TOML/JSON values (every default filled in)."""
        values = dataclasses.asdict(self)
        values.pop("auto")
        return values


@dataclass(frozen=True)
class AR1Recipe(_RecipeBase):
    """A validated AR(1) lag-function recipe: simulated paths, a per-step sequence model."""

    recipe: RecipeSection
    data: AR1DataSection
    training: TrainingSection


_SECTIONS = {
    Recipe: {
        "recipe": RecipeSection,
        "data": DataSection,
        "split": SplitSection,
        "transforms": TransformsSection,
        "windows": WindowsSection,
        "model": ModelSection,
        "training": TrainingSection,
        "evaluation": EvaluationSection,
    },
    AR1Recipe: {"recipe": RecipeSection, "data": AR1DataSection, "training": TrainingSection},
}
# Training keys that have no meaning for simulated AR(1) paths: each run draws fresh paths.
_AR1_UNUSED_TRAINING = (
    "train_on",
    "ensemble",
    "refit",
    "shuffle",
    "start_from_epoch",
    "distribution",
    "fine_tune_epochs",
    "fine_tune_learning_rate",
    "fine_tune_batch_size",
)


def recipe_keys():
    """``{section: [key, ...]}`` of every recipe kind (what `--set` and studies may name)."""
    keys = {}
    for sections in _SECTIONS.values():
        for section, cls in sections.items():
            keys.setdefault(section, [])
            for f in dataclasses.fields(cls):
                if f.name not in keys[section]:
                    keys[section].append(f.name)
    return keys


# Files and names -------------------------------------------------------------------------


# kind -> (folder, the other kind, the command that runs this kind)
_BUNDLED = {"recipe": ("recipes", "study", "run"), "study": ("studies", "recipe", "study")}


def _bundled_path(kind, name):
    folder, other, _ = _BUNDLED[kind]
    path = resource_dir(folder) / f"{name}.toml"
    if path.is_file():
        return path
    other_folder, _, other_command = _BUNDLED[other]
    if (resource_dir(other_folder) / f"{name}.toml").is_file():
        raise ConfigError(
            f"{name!r} is a {other}, not a {kind}: run `kseq {other_command} {name}`."
        )
    bundled = sorted(p.stem for p in resource_dir(folder).glob("*.toml"))
    raise ConfigError(f"No bundled {kind} {name!r}; bundled: {', '.join(bundled)}.")


def recipe_path(name):
    """Returns the path of the bundled recipe `name` (``recipes/<name>.toml``)."""
    return _bundled_path("recipe", name)


def study_path(name):
    """Returns the path of the bundled study `name` (``studies/<name>.toml``)."""
    return _bundled_path("study", name)


def read_toml(path, kind="recipe"):
    """Reads a TOML file; `FileNotFoundError` or `ConfigError` with the path on failure."""
    path = Path(path)
    if not path.is_file():
        what = "a directory" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"{kind.capitalize()} file {str(path)!r} {what}.")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}.") from None


# Validation ------------------------------------------------------------------------------


def _type_names(types):
    return " or ".join(t.__name__ for t in types)


def _check_range(where, value, meta):
    low, high = meta["low"], meta["high"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number; received {value!r}.")
    below = low is not None and value < low
    above = high is not None and (value >= high if meta["open_high"] else value > high)
    if below or above:
        bounds = (
            f">= {low}" if high is None else f"in [{low}, {high}{')' if meta['open_high'] else ']'}"
        )
        raise ConfigError(f"{where} must be {bounds}; received {value!r}.")


def _check_value(section, key, value, meta):
    where = f"[{section}] {key}"
    types = meta["types"]
    # bool is an int subclass: accept it only where bool is meant, and ints where floats are.
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        # A switch written for a size (`series_embedding = true`): say what the number means.
        hint = ""
        if isinstance(value, bool) and int in types:
            low = meta["low"]
            hint = f" Give a number{f' >= {low}' if low is not None else ''}, not true/false."
        raise ConfigError(
            f"{where} must be {_type_names(types)}; received {value!r} ({type(value).__name__})."
            f"{hint}"
        )
    choices = meta["choices"]
    if choices is not None and value not in choices:
        raise ConfigError(f"{where} = {value!r} is not one of {', '.join(choices)}.")
    if isinstance(value, list):
        if meta["each"] is not None:
            low, high = meta["each"]
            item_meta = {**meta, "low": low, "high": high}
            for item in value:
                if isinstance(item, bool) or not isinstance(item, int):
                    raise ConfigError(f"{where} must list integers; received {value!r}.")
                _check_range(where, item, item_meta)
    else:
        _check_range(where, value, meta)


def _suggest_key(key, section, fields):
    """`` Did you mean ...?`` for a key of another section or a near typo; else ``""``."""
    owners = sorted(
        {
            name
            for sections in _SECTIONS.values()
            for name, cls in sections.items()
            if name != section and key in {f.name for f in dataclasses.fields(cls)}
        }
    )
    if owners:
        listed = " and ".join(f"[{name}]" for name in owners)
        return f" {key!r} is a key of {listed}: move it there."
    # Plural/singular and small typos ("target_column" for "target_columns").
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.8)
    return f" Did you mean {close[0]!r}?" if close else ""


def _read_section(cls, section, given, source, fixed=None):
    if not isinstance(given, dict):
        raise ConfigError(f"{source}: [{section}] must be a table of keys.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r} in [{section}]; valid keys: {', '.join(fields)}."
            f"{_suggest_key(unknown[0], section, fields)}"
        )
    values = dict(fixed or {})
    for key, value in given.items():
        if value is None and fields[key].default is None:
            continue  # an optional key left unset (as `Recipe.to_dict` writes it)
        try:
            _check_value(section, key, value, fields[key].metadata)
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None
        values[key] = copy.deepcopy(value)
    return cls(**values)


def _recipe_kind(raw, source):
    if "study" in raw or "space" in raw:
        raise ConfigError(f"{source} is a study file, not a recipe: run `kseq study {source}`.")
    data = raw.get("data", {})
    return AR1Recipe if isinstance(data, dict) and data.get("source") == "ar1" else Recipe


def validate(raw, source="the recipe", backend=None):
    """Checks a recipe mapping; returns a `Recipe` or `AR1Recipe` with every default filled in.

    Args:
        raw: the TOML mapping (sections of keys).
        source: how to name the recipe in errors (its path).
        backend: the Keras backend the recipe will run on, for backend-specific limits
            (`None`: not checked).

    Raises:
        ConfigError: an unknown section or key, a wrong type, a value out of range, or keys
            that contradict each other; the message names the key.
    """
    kind = _recipe_kind(raw, source)
    sections = _SECTIONS[kind]
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        if kind is AR1Recipe and unknown[0] in _SECTIONS[Recipe]:
            raise ConfigError(
                f"{source}: [{unknown[0]}] does not apply to source = 'ar1' (simulated paths, a "
                "fixed sequence model); remove it."
            )
        raise ConfigError(
            f"{source}: unknown section [{unknown[0]}]; sections are {', '.join(sections)}."
        )
    data = raw.get("data")
    panel = kind is Recipe and isinstance(data, dict) and data.get("source") in PANEL_SOURCES
    values = {}
    for section, cls in sections.items():
        given = raw.get(section, {})
        fixed = None
        if section == "model":
            fixed = _builder_defaults(given, source)
        if panel and isinstance(given, dict):
            defaults = PANEL_DEFAULTS.get(section, {})
            if "num_layers" in given:  # the recipe sizes the stack itself
                defaults = {k: v for k, v in defaults.items() if k != "units"}
            given = {**defaults, **given}
        values[section] = _read_section(cls, section, given, source, fixed)
    if kind is Recipe and (panel or values["data"].source == "csv"):
        values["auto"] = frozenset(
            key
            for key in (PANEL_AUTO_KEYS if panel else AUTO_KEYS)
            if key.split(".")[1] not in (raw.get(key.split(".")[0]) or {})
        )
    recipe = kind(**values)
    if kind is AR1Recipe:
        _check_ar1(raw, source)
    else:
        _check_forecast(recipe, source)
    _check_training(recipe.training, source, backend)
    return recipe


def _builder_defaults(given, source):
    """The values a builder fixes, after checking that the recipe sets none of them."""
    name = given.get("builder", "forecaster") if isinstance(given, dict) else "forecaster"
    if not isinstance(name, str):
        return None  # the type check names the key
    if name == "ar1":
        raise ConfigError(
            f"{source}: [model] builder = 'ar1' is the AR(1) sequence model; it is run by "
            "recipes with [data] source = 'ar1' (see `kseq run ar1`), not by forecast recipes."
        )
    if name not in BUILDERS:
        raise ConfigError(
            f"{source}: [model] builder = {name!r} is not one of {', '.join(BUILDERS)}."
        )
    spec = get_builder(name)
    # A saved recipe repeats the fixed values: only a different value is a contradiction.
    fixed = sorted(k for k in set(given) & set(spec.fixed) if given[k] != spec.fixed[k])
    if fixed:
        raise ConfigError(
            f"{source}: [model] {fixed[0]} is fixed by builder = {name!r} ({spec.description}); "
            f"remove it, or use builder = 'forecaster' to set it. Keys this builder takes: "
            f"{', '.join(spec.keys) or 'none'}."
        )
    defaults = {f.name: f for f in dataclasses.fields(ModelSection)}
    unused = sorted(
        key
        for key, value in given.items()
        if key != "builder"
        and key in defaults
        and key not in spec.keys
        and key not in spec.fixed
        and value != _default(defaults[key])
    )
    if unused:
        raise ConfigError(
            f"{source}: [model] {unused[0]} does not apply to builder = {name!r} "
            f"({spec.description}); keys it takes: {', '.join(spec.keys) or 'none'}."
        )
    return spec.fixed


def _default(f):
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def _check_forecast(recipe, source):
    data, model, training = recipe.data, recipe.model, recipe.training
    levels = recipe.evaluation.intervals
    if (
        any(isinstance(q, bool) or not isinstance(q, (int, float)) for q in levels)
        or any(not 0 < q < 1 for q in levels)
        or len(set(levels)) != len(levels)
    ):
        raise ConfigError(
            f"{source}: [evaluation] intervals must list distinct coverages in (0, 1), e.g. "
            f"[0.8, 0.95], or be []; received {levels!r}."
        )
    if data.freq is not None:
        try:
            pd.tseries.frequencies.to_offset(data.freq)
        except ValueError:
            raise ConfigError(
                f"{source}: [data] freq = {data.freq!r} is not a pandas frequency alias; e.g. "
                "'MS' (month start), 'ME' (month end), 'QS', 'W', 'D', 'h'."
            ) from None
    windows = recipe.evaluation.interval_windows
    if windows > 1 and not (_has_validation(recipe) and recipe.evaluation.intervals):
        raise ConfigError(
            f"{source}: [evaluation] interval_windows = {windows} calibrates the intervals on the "
            "validation part and the windows before it; it needs [split] validation > 0 and "
            "[evaluation] intervals (e.g. [0.8, 0.95])."
        )
    if windows > 1 and recipe.training.train_on != "train":
        raise ConfigError(
            f"{source}: [evaluation] interval_windows = {windows} needs residuals out of sample; "
            f"[training] train_on = {recipe.training.train_on!r} trains on the validation part. "
            'Set train_on = "train" or interval_windows = 1.'
        )
    _check_fine_tune(recipe, source)
    if data.is_panel:
        if data.related is not None:
            raise ConfigError(
                f"{source}: [data] related adds series to a single series' training; a panel "
                "recipe trains one global model on all of its series already — put them in the "
                "panel."
            )
        _check_panel(recipe, source)
        return
    if data.related is not None and data.source == "sine":
        raise ConfigError(
            f"{source}: [data] related needs dated series to cut where the training part ends; "
            "the synthetic sines have no dates."
        )
    if recipe.evaluation.choice_origins != 1:
        raise ConfigError(
            f"{source}: [evaluation] choice_origins applies to panel recipes (source = 'panel'); "
            "a single series' recipe chooses on its validation part."
        )
    if recipe.model.series_embedding or recipe.data.static_columns:
        raise ConfigError(
            f"{source}: [model] series_embedding and [data] static_columns describe the series "
            "of a panel; a single series has neither."
        )
    if recipe.transforms.seasonal_adjust == 1:
        raise ConfigError(
            f"{source}: [transforms] seasonal_adjust is the season's length in steps (>= 2, "
            "e.g. 12 for monthly data), or 0 for none; received 1."
        )
    if recipe.transforms.seasonal_window and not recipe.transforms.seasonal_adjust:
        raise ConfigError(
            f"{source}: [transforms] seasonal_window = {recipe.transforms.seasonal_window} "
            "chooses the seasons that [transforms] seasonal_adjust's indices are estimated "
            "from; set seasonal_adjust (the season's length) too, or remove the key."
        )
    if recipe.transforms.scaler != "none":
        raise ConfigError(
            f"{source}: [transforms] scaler = {recipe.transforms.scaler!r} scales the series of "
            "a panel; a single series is scaled by [transforms] minmax."
        )
    if data.source == "csv":
        for key in ("path", "time_column", "target_columns"):
            if getattr(data, key) is None:
                raise ConfigError(f"{source}: [data] source = 'csv' needs [data] {key}.")
    for key in ("test", "validation"):
        value = getattr(recipe.split, key)
        if isinstance(value, int) and value < 0:
            raise ConfigError(f"{source}: [split] {key} must be >= 0; received {value}.")
        if isinstance(value, float) and not 0.0 < value < 1.0:
            raise ConfigError(
                f"{source}: [split] {key} as a fraction must be in (0, 1); received {value}."
            )
    feature_range = recipe.transforms.feature_range
    if feature_range is not None and (
        len(feature_range) != 2
        or not all(isinstance(v, (int, float)) for v in feature_range)
        or not feature_range[0] < feature_range[1]
    ):
        raise ConfigError(
            f"{source}: [transforms] minmax must be [low, high] with low < high, or false; "
            f"received {recipe.transforms.minmax!r}."
        )
    if model.num_layers is not None and isinstance(model.units, list) and len(model.units) != 1:
        raise ConfigError(
            f"{source}: [model] num_layers = {model.num_layers} repeats one width; units must be "
            f"a single number, not {model.units}."
        )
    if isinstance(model.units, list) and not model.units:
        raise ConfigError(f"{source}: [model] units must name at least one layer.")
    if model.forget_bias is not None and model.cell != "lstm":
        raise ConfigError(
            f"{source}: [model] forget_bias applies to cell = 'lstm' only; received cell = "
            f"{model.cell!r}."
        )
    levels = model.quantiles
    if (
        not levels
        or any(isinstance(q, bool) or not isinstance(q, (int, float)) for q in levels)
        or any(not 0 < q < 1 for q in levels)
        or levels != sorted(set(levels))
    ):
        raise ConfigError(
            f"{source}: [model] quantiles must be increasing levels in (0, 1); received {levels!r}."
        )
    if model.head == "quantile":
        _check_quantile_levels(recipe, source)
    if training.ensemble > 1 and model.head == "mixture":
        raise ConfigError(
            f"{source}: [training] ensemble = {training.ensemble} averages the members' outputs, "
            "which is wrong for mixture parameters; use ensemble = 1 or head = 'quantile'."
        )
    if training.refit and (training.train_on != "train" or not _has_validation(recipe)):
        raise ConfigError(
            f"{source}: [training] refit = true retrains on train + validation for the epochs "
            "that scored best on validation; it needs a validation part ([split] validation > "
            "0) and train_on = 'train'."
        )
    for baseline in recipe.evaluation.baselines:
        if baseline not in BASELINES:
            raise ConfigError(
                f"{source}: [evaluation] baselines has {baseline!r}; choose from "
                f"{', '.join(BASELINES)}."
            )


def _has_validation(recipe):
    """Whether the recipe has a validation part (set, or left out to be chosen from the data)."""
    return bool(recipe.split.validation) or "split.validation" in recipe.auto


def _check_fine_tune(recipe, source):
    training = recipe.training
    epochs = training.fine_tune_epochs
    if not epochs:
        for key in ("fine_tune_learning_rate", "fine_tune_batch_size"):
            if getattr(training, key) is not None:
                raise ConfigError(
                    f"{source}: [training] {key} configures the fine-tuning that "
                    "fine_tune_epochs asks for; set fine_tune_epochs too, or remove the key."
                )
        return
    if recipe.data.is_panel:
        raise ConfigError(
            f"{source}: [training] fine_tune_epochs = {epochs} fine-tunes a net trained with "
            "[data] related on its one series; a panel's global model has no single series to "
            "fine-tune on. Remove the key."
        )
    if recipe.data.related is None:
        raise ConfigError(
            f"{source}: [training] fine_tune_epochs = {epochs} fine-tunes on the series alone "
            "after training with related series; without [data] related it would only train "
            "longer. Set [data] related, or remove the key."
        )
    if training.train_on != "train" or not _has_validation(recipe):
        raise ConfigError(
            f"{source}: [training] fine_tune_epochs = {epochs} keeps the fine-tuned weights "
            "only where the validation part scores them better; it needs [split] validation > "
            "0 and train_on = 'train'."
        )
    if training.refit:
        raise ConfigError(
            f"{source}: [training] fine_tune_epochs = {epochs} and refit = true cannot be "
            "combined: a refit retrains from scratch on train + validation. Remove one of them."
        )


def _check_quantile_levels(recipe, source):
    levels = recipe.model.quantiles
    missing = [q for q in recipe.evaluation.interval_levels if not _has_level(levels, q)]
    if missing:
        raise ConfigError(
            f"{source}: [evaluation] interval = {recipe.evaluation.interval} needs the "
            f"quantile levels {list(recipe.evaluation.interval_levels)}; [model] quantiles "
            f"= {levels} lacks {missing}. Add them, or set evaluation.interval to match."
        )


def _check_panel(recipe, source):
    data, split, evaluation = recipe.data, recipe.split, recipe.evaluation
    seasonal = [
        key for key in ("seasonal_adjust", "seasonal_window") if getattr(recipe.transforms, key)
    ]
    if seasonal:
        raise ConfigError(
            f"{source}: [transforms] {' and '.join(seasonal)} (seasonal adjustment) is built for "
            "a single series; a panel's global model reads the season from its calendar "
            f"features. Remove {'the keys' if len(seasonal) > 1 else 'the key'}."
        )
    windows, origins = evaluation.interval_windows, evaluation.choice_origins
    if windows > origins and "evaluation.choice_origins" not in recipe.auto:
        raise ConfigError(
            f"{source}: [evaluation] interval_windows = {windows} asks for more windows than the "
            f"panel's choice_origins = {origins}: a panel's earlier windows are its choice "
            f"origins (a net trained for each). Set choice_origins = {windows}, or leave it out."
        )
    if data.source == "panel" and data.path is None:
        raise ConfigError(f"{source}: [data] source = 'panel' needs [data] path (a long CSV).")
    for key in ("test", "validation"):
        value = getattr(split, key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                f"{source}: [split] {key} of a panel is a number of points per series; "
                f"received {value!r}."
            )
    auto = recipe.auto  # left out: chosen from the panel so that these checks hold
    if split.test < 1 and "split.test" not in auto:
        raise ConfigError(f"{source}: [split] test must be >= 1 point per series for a panel.")
    if split.test > recipe.windows.horizon and not {"split.test", "windows.horizon"} & auto:
        raise ConfigError(
            f"{source}: [split] test = {split.test} is longer than [windows] horizon = "
            f"{recipe.windows.horizon}; the global model forecasts its horizon directly."
        )
    if recipe.model.head not in ("point", "quantile") or recipe.model.builder != "forecaster":
        raise ConfigError(
            f"{source}: panels train builder = 'forecaster' with head = 'point' or 'quantile' "
            f"for now; received builder = {recipe.model.builder!r}, head = "
            f"{recipe.model.head!r}."
        )
    if recipe.model.head == "quantile":
        _check_quantile_levels(recipe, source)
    if data.static_columns and data.source != "panel":
        raise ConfigError(
            f"{source}: [data] static_columns reads columns of a long CSV (source = 'panel'); "
            f"{data.source} has none."
        )
    if evaluation.choice_origins > 1 and not (evaluation.choose and _has_validation(recipe)):
        raise ConfigError(
            f"{source}: [evaluation] choice_origins = {evaluation.choice_origins} scores the "
            "choice on validation windows; it needs choose = true and [split] validation > 0."
        )
    if any(not isinstance(c, str) for c in data.static_columns):
        raise ConfigError(
            f"{source}: [data] static_columns must list column names; received "
            f"{data.static_columns!r}."
        )
    for baseline in evaluation.baselines:
        if baseline not in PANEL_BASELINES:
            raise ConfigError(
                f"{source}: [evaluation] baselines has {baseline!r}; for panels choose from "
                f"{', '.join(PANEL_BASELINES)} (statsforecast)."
            )
    if evaluation.choose:
        if split.validation < split.test and not {"split.test", "split.validation"} & auto:
            raise ConfigError(
                f"{source}: [evaluation] choose = true picks a method on the validation part; "
                f"set [split] validation >= test ({split.test}), or choose = false."
            )
        if not set(evaluation.baselines) & set(PANEL_CLASSICAL):
            raise ConfigError(
                f"{source}: [evaluation] choose = true compares kseq with the classical models "
                "and their combinations; add 'ets' (or 'theta', 'arima') to [evaluation] "
                "baselines, or set choose = false."
            )


def _has_level(levels, level):
    return any(abs(q - level) < 1e-9 for q in levels)


def _check_ar1(raw, source):
    training = raw.get("training", {})
    defaults = {f.name: f for f in dataclasses.fields(TrainingSection)}
    for key in _AR1_UNUSED_TRAINING:
        if key in training and training[key] != _default(defaults[key]):
            raise ConfigError(
                f"{source}: [training] {key} does not apply to source = 'ar1' (fresh simulated "
                "paths every epoch); remove it."
            )
    weights = raw.get("data", {}).get("lag_weights", [0.0])
    if not weights or any(isinstance(w, bool) or not isinstance(w, (int, float)) for w in weights):
        raise ConfigError(f"{source}: [data] lag_weights must list numbers; received {weights!r}.")


TORCH_DATA_PARALLEL = (
    '[training] distribution = "data_parallel" is not supported on the PyTorch backend: Keras '
    "3.15 has no released keras.distribution support for torch. Use the JAX or TensorFlow "
    'backend (--backend jax), or set distribution = "none".'
)


def _check_training(training, source, backend):
    if backend == "torch" and training.distribution == "data_parallel":
        raise ConfigError(f"{source}: {TORCH_DATA_PARALLEL}")
    start = training.start_from_epoch
    if start:
        if not training.early_stopping:
            raise ConfigError(
                f"{source}: [training] start_from_epoch = {start} only delays early stopping; "
                "set early_stopping = true or remove it."
            )
        if not start < training.epochs:
            raise ConfigError(
                f"{source}: [training] start_from_epoch must be between 0 and epochs - 1 "
                f"({training.epochs - 1}); received {start}."
            )
    steps = training.steps_per_execution
    if isinstance(steps, str) and steps != "auto":
        raise ConfigError(
            f'{source}: [training] steps_per_execution must be a positive integer or "auto"; '
            f"received {steps!r}."
        )
    if backend == "torch" and isinstance(steps, int) and steps > 1:
        # Keras's torch trainer raises deep inside compile(); say it in the recipe's terms.
        raise ConfigError(
            f"{source}: [training] steps_per_execution = {training.steps_per_execution}: "
            "Keras's PyTorch backend runs one step per call; set it to 1, or use the JAX or "
            "TensorFlow backend."
        )


# Reading ---------------------------------------------------------------------------------


def parse_override(text):
    """Parses ``section.key=value``; the value is read as TOML (a bare word is a string)."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise ConfigError(f"--set needs section.key=value; received {text!r}.")
    dotted, value_text = text.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text
    return section, key, value


def apply_overrides(raw, overrides):
    """Returns a copy of the mapping `raw` with ``(section, key, value)`` overrides set."""
    raw = copy.deepcopy(raw)
    for section, key, value in overrides:
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table of keys; cannot set {key}.")
        table[key] = value
    return raw


def load_recipe(path, overrides=(), backend=None):
    """Reads a recipe TOML file and applies ``(section, key, value)`` overrides.

    Args:
        path: the recipe file.
        overrides: ``(section, key, value)`` triples (`parse_override` of ``--set``).
        backend: the backend it will run on, for backend limits (see `validate`).

    Raises:
        FileNotFoundError: no such file.
        ConfigError: bad TOML, a study file, an unknown section or key, a wrong type or value.
    """
    raw = read_toml(path)
    data = raw.get("data")
    # A relative data path in a recipe file is relative to that file, not to the current
    # directory (one given with --set stays relative to the current directory).
    if isinstance(data, dict) and isinstance(data.get("path"), str):
        data["path"] = str((Path(path).parent / data["path"]).resolve())
    related = data.get("related") if isinstance(data, dict) else None
    if isinstance(related, str) and related != "us_employment":
        data["related"] = str((Path(path).parent / related).resolve())
    return validate(apply_overrides(raw, overrides), source=str(path), backend=backend)
