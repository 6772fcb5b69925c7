"""Every recipe key, declared once per section with its type, choices, range and default.

The frozen dataclasses here are what a validated recipe holds; `validate` (`kseq.config.checks`)
fills them. Nothing here imports Keras.
"""

import copy
import dataclasses
from dataclasses import dataclass, field

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
    # The run's name: its folder (output_dir) and its title in reports.
    name: str = _key((str,), "recipe")
    # Free text, copied into the run card.
    description: str = _key((str,), "")
    # Seed of weights, dropout, shuffling and sampling (runs are repeatable per backend).
    seed: int = _key((int,), 0, low=0)
    # Where the run writes; {name} is replaced by the recipe's name.
    output_dir: str = _key((str,), "runs/{name}")


@dataclass(frozen=True)
class DataSection:
    # Where the data come from: a bundled series or panel, a sine family, or a file.
    source: str = _key(
        (str,), "airpassengers", choices=("airpassengers", "sine", "csv", "us_employment", "panel")
    )
    # csv and panel (a long CSV: id, time and target columns)
    path: str | None = _key((str,))
    # panel: the column naming each series.
    id_column: str = _key((str,), "unique_id")
    # csv and panel: the dates column (panels: "ds" when unset).
    time_column: str | None = _key((str,))
    # csv and panel: the column(s) to forecast (panels: "y" when unset).
    target_columns: str | list | None = _key((str, list))
    # csv: extra input columns known up to each window's end.
    feature_columns: str | list | None = _key((str, list))
    # csv and panel: missing values — NaN, or dates missing from the frequency's grid — are an
    # error, or inserted and filled forward or by interpolation (per series; not for a folder
    # of shards).
    missing: str = _key((str,), "raise", choices=("raise", "ffill", "interpolate"))
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
    # sine: points of the generated series.
    num_points: int = _key((int,), 100, low=2)
    # sine: the series spans x from 0 to this value.
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
    # The validation part before the test part, in the same units (0: none).
    validation: int | float | str = _key((int, float, str), 0)
    # Where the series ends for this run (a count or a last date): backtests cut it earlier.
    end: int | str | None = _key((int, str), low=1)


@dataclass(frozen=True)
class TransformsSection:
    # Model the log of the series (positive values only); undone on forecasts.
    log: bool = _key((bool,), False)
    # Steps per season of fixed seasonal indices removed after the log (classical
    # decomposition of the training part, `kseq.transforms.SeasonalAdjust`); 0: none. Kept
    # although the bundled recipes do not gain from it: deseasonalising before a recurrent
    # net is a standard step for seasonal series whose net sees few seasons.
    seasonal_adjust: int = _key((int,), 0, low=0)
    # Lags to difference by, in order (e.g. [12, 1]); undone on forecasts.
    difference: list = _key((list,), [], each=(1, None))
    # MinMax range after the other transforms; false for none.
    minmax: list | bool = _key((list, bool), [0.0, 1.0])
    # Fit the transforms on the training part, or on all data (flagged as a leak).
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
    # Input steps of each window.
    lookback: int = _key((int,), 12, low=1)
    # Steps each window forecasts at once (direct multi-step).
    horizon: int = _key((int,), 1, low=1)
    # Draw each batch's windows at random with replacement instead of visiting each once.
    random_windows: bool = _key((bool,), False)
    # Panels: draw windows uniformly ("windows") or series first ("series"); add the position
    # in the season (sine, cosine) as inputs.
    sampling: str = _key((str,), "windows", choices=("windows", "series"))
    # Panels: add the position in the season (its sine and cosine) as inputs.
    calendar: bool = _key((bool,), True)


@dataclass(frozen=True)
class ModelSection:
    # The registered model builder (kseq.models.registry); presets fix some keys.
    builder: str = _key((str,), "forecaster")
    # The recurrent cell of every layer.
    cell: str = _key((str,), "lstm", choices=("lstm", "gru", "simple_rnn"))
    # Units per recurrent layer, one number per layer.
    units: int | list = _key((int, list), [50], low=1, each=(1, None))
    # Repeat units this many times (units = [64], num_layers = 3: three layers of 64).
    num_layers: int | None = _key((int,), low=1)
    # Dropout after each recurrent layer.
    dropout: float = _key(_NUM, 0.0, low=0.0, high=1.0, open_high=True)
    # Dropout on each recurrent layer's inputs.
    input_dropout: float = _key(_NUM, 0.0, low=0.0, high=1.0, open_high=True)
    # Dropout on the recurrent state (Keras's recurrent_dropout; slower).
    recurrent_dropout: float = _key(_NUM, 0.0, low=0.0, high=1.0, open_high=True)
    # Initial LSTM forget-gate bias (Keras's unit_forget_bias gives 1).
    forget_bias: float | None = _key(_NUM)
    # The output head: a point forecast, quantiles (pinball loss) or a Gaussian mixture.
    head: str = _key((str,), "point", choices=("point", "quantile", "mixture"))
    # Hidden Dense layers of the head.
    dense_units: int | list = _key((int, list), [], low=1, each=(1, None))
    # Activation of the head's hidden Dense layers.
    dense_activation: str = _key((str,), "relu")
    # head = "quantile": the quantile levels it forecasts.
    quantiles: list = _key((list,), [0.1, 0.5, 0.9])
    # head = "mixture": Gaussian components.
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
    # The Keras optimizer.
    optimizer: str = _key((str,), "adam", choices=("adam", "adamw", "rmsprop", "sgd"))
    # The optimizer's learning rate.
    learning_rate: float = _key(_NUM, 1e-3, low=0.0)
    # Training epochs (at most, with early stopping).
    epochs: int = _key((int,), 100, low=1)
    # Windows per batch.
    batch_size: int = _key((int,), 32, low=1)
    # Batches per epoch; by default enough to visit every window once.
    steps_per_epoch: int | None = _key((int,), low=1)
    # Training steps per compiled call (Keras's compile argument). Same numbers; on a GPU it
    # hides per-step host work (docs/speed.md). "auto": the backend's choice for the device
    # it trains on (`choose_steps_per_execution`: 16 on a JAX or TensorFlow accelerator, else 1).
    steps_per_execution: int | str = _key((int, str), "auto", low=1)
    # Visit the windows in a new seeded order each epoch.
    shuffle: bool = _key((bool,), True)
    # Stop when the validation loss stops falling and keep the best weights.
    early_stopping: bool = _key((bool,), False)
    # Epochs without improvement before early stopping stops.
    patience: int = _key((int,), 10, low=0)
    # Epochs before early stopping watches the validation loss (Keras's
    # `EarlyStopping(start_from_epoch=...)`): the best weights are only taken from then on.
    start_from_epoch: int = _key((int,), 0, low=0)
    # Train on the training part, or on training + validation (no early stopping).
    train_on: str = _key((str,), "train", choices=("train", "all"))
    # Members trained from different seeds; the forecast is their mean.
    ensemble: int = _key((int,), 1, low=1)
    # After early stopping on the validation part, retrain on train + validation for the
    # number of epochs that scored best there.
    refit: bool = _key((bool,), False)
    # Resumable checkpoints (`kseq run --resume`): written at an epoch end once this many
    # epochs or seconds have passed since the last one (0 turns that trigger off; both 0:
    # every epoch). Each costs one copy of the weights and optimizer state to disk.
    checkpoint_every: int = _key((int,), 0, low=0)
    # See checkpoint_every.
    checkpoint_seconds: float = _key(_NUM, 10.0, low=0.0)
    # "data_parallel": every batch split over all devices the backend sees (and every host of
    # a cluster), on the backend's own engine (docs/scale.md). JAX and TensorFlow only.
    distribution: str = _key((str,), "none", choices=("none", "data_parallel"))


BASELINES = ("naive", "seasonal_naive", "sarima", "ets", "theta")


PANEL_SOURCES = ("us_employment", "panel")


PANEL_BASELINES = ("seasonal_naive", "ets", "theta", "arima", "pretrained")

# The shipped pretrained network (`kseq.pretrained`), forecasting zero-shot: a panel baseline
# and candidate of the choice, alone and averaged with the first classical model.
PANEL_PRETRAINED = "pretrained"
# The most steps it forecasts.
PRETRAINED_HORIZON = 24


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
    # Steps of the multi-step forecast scored from the test part's start (0: the whole test
    # part; the rolling one-step forecasts score every point). A panel's are its test part.
    test_steps: int = _key((int,), 0, low=0)
    # Steps per season: seasonal naive, MASE's scale, calendar inputs.
    season_length: int = _key((int,), 1, low=1)
    # Classical forecasts computed in the same run and scored beside the net. Panels: from
    # seasonal_naive, ets, theta, arima (statsforecast) and pretrained (the shipped network,
    # zero-shot; at most 24 steps); a data-only panel recipe gets all of them.
    baselines: list = _key((list,), ["naive", "seasonal_naive"])
    # Steps forecast past the series' end (future_forecast.csv), dated by its frequency.
    forecast_steps: int = _key((int,), 0, low=0)
    # Nominal coverages of the intervals ([] for none): conformal intervals of the forecasts,
    # calibrated on the validation part's residuals (a panel's: each point forecast from every
    # origin in that part before it, in each series' scale); a probabilistic head's own
    # interval is its quantiles at the first level (0.8: 10 %-90 %).
    intervals: list = _key((list,), [0.8, 0.95])
    # Pick by MASE on the validation part (which ends where the test part begins) and report
    # the pick ("chosen") next to every method. Panels: the net, a classical model (ETS, Theta,
    # ARIMA among the baselines), the net's mean with one of them, the pretrained network alone
    # or averaged with the first classical model. One series: the model,
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

    @property
    def interval(self):
        """The coverage of a probabilistic head's own interval: the first of `intervals`
        (`None` without intervals)."""
        return self.intervals[0] if self.intervals else None

    @property
    def interval_levels(self):
        """The lower and upper quantile levels of that interval."""
        return (round((1 - self.interval) / 2, 10), round((1 + self.interval) / 2, 10))


@dataclass(frozen=True)
class AR1DataSection:
    # Simulated paths of y_t = x_t² + w·x_{t-1}², x an AR(1) process.
    source: str = _key((str,), "ar1", choices=("ar1",))
    # The AR(1) coefficient of x.
    rho: float = _key(_NUM, 0.1, low=-1.0, high=1.0, open_high=True)
    # Values of w, one run each.
    lag_weights: list = _key((list,), [0.0, 0.1])
    # Steps per simulated path.
    num_steps: int = _key((int,), 100, low=2)
    # Fresh paths the test scores on.
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
    # The keys the file (and its overrides) set, as "section.key": the rest are kseq's.
    given: frozenset = field(default=frozenset(), compare=False)

    @property
    def data_only(self):
        """Whether the recipe sets only its [recipe] and [data] keys."""
        return all(key.split(".")[0] in ("recipe", "data") for key in self.given)

    def to_dict(self):
        """The recipe as plain TOML/JSON values (every default filled in)."""
        values = dataclasses.asdict(self)
        values.pop("auto")
        values.pop("given")
        return values


@dataclass(frozen=True)
class AR1Recipe(_RecipeBase):
    """A validated AR(1) lag-function recipe: simulated paths, a per-step sequence model."""

    recipe: RecipeSection
    data: AR1DataSection
    training: TrainingSection


SECTIONS = {
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


# Keys that were measured and not adopted: ``{(section, key): (the value that does what kseq
# does now, what replaced it)}``. A recipe (or a saved run's) holding one at that value runs
# as before; another value is refused with the reason.
# {(section, key): (the value still accepted — the key is then dropped —, what replaced it)};
# a key merged into another of its section is also accepted at that key's value.
REMOVED_KEYS = {
    ("data", "fill_gaps"): (
        "raise",
        "merged into `[data] missing`, which fills NaN values and dates missing from the grid "
        "alike",
    ),
    ("evaluation", "interval"): (
        0.8,
        "merged into `[evaluation] intervals`: a probabilistic head's own interval is scored at "
        "its first level",
    ),
    ("evaluation", "combination_weights"): (
        "equal",
        "a combination is the mean of its members (weights chosen on validation did not beat "
        "the mean out of sample, docs/results.md)",
    ),
    ("evaluation", "interval_windows"): (
        1,
        "the conformal intervals are fitted on the validation part's residuals",
    ),
    ("transforms", "seasonal_window"): (
        0,
        "seasonal_adjust estimates its indices from every season of the training part",
    ),
    **{
        ("training", key): (
            None if key != "fine_tune_epochs" else 0,
            "fine-tuning is the pretrained network's: a recipe that sets only its [data] "
            "fine-tunes it on the run's history (also `kseq forecast pretrained --fine-tune`)",
        )
        for key in ("fine_tune_epochs", "fine_tune_learning_rate", "fine_tune_batch_size")
    },
}
# Keys with a new name in their section: a recipe with the old one is read with the new one.
RENAMED_KEYS = {("evaluation", "horizon"): "test_steps"}

# Removed keys merged into another of their section: accepted too at that key's value (the
# first item of a list), and what to write instead.
MERGED_KEYS = {
    ("data", "fill_gaps"): ("missing", "Set missing = {value!r} and remove {key}"),
    ("evaluation", "interval"): ("intervals", "Put {value!r} first in intervals and remove {key}"),
}


# Training keys that have no meaning for simulated AR(1) paths: each run draws fresh paths.
AR1_UNUSED_TRAINING = (
    "train_on",
    "ensemble",
    "refit",
    "shuffle",
    "start_from_epoch",
    "distribution",
)


def recipe_keys():
    """``{section: [key, ...]}`` of every recipe kind (what `--set` and studies may name)."""
    keys = {}
    for sections in SECTIONS.values():
        for section, cls in sections.items():
            keys.setdefault(section, [])
            for f in dataclasses.fields(cls):
                if f.name not in keys[section]:
                    keys[section].append(f.name)
    return keys


def field_default(f):
    """A dataclass field's default value (its factory's, for a list)."""
    return f.default_factory() if f.default is dataclasses.MISSING else f.default
