"""The typed values passed between the stages of a run (see docs/architecture.md).

load → `SeriesData` → split → `SplitSeries` → transform/window/build/fit → `FitResult` →
evaluate → `ValidationScores`, `TestEvaluation`, `FutureForecast` → report → `RunCard`.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kseq.data.split import Split


@dataclass(frozen=True)
class SeriesData:
    """One series (or a CSV's columns): positions, values ``(time, columns)`` in original
    units, column names; the first `num_targets` columns are forecast."""

    index: pd.Index
    values: np.ndarray
    columns: list
    num_targets: int = 1

    def __len__(self):
        return len(self.values)


@dataclass(frozen=True)
class SplitSeries:
    """The series of a run (cut at ``[split] end``) and its train/validation/test slices."""

    series: SeriesData
    split: Split

    @property
    def values(self):
        return self.series.values

    @property
    def train(self):
        """``(train, columns)`` values: all that is fitted on."""
        return self.values[self.split.train]

    @property
    def validation(self):
        return self.values[self.split.validation]

    @property
    def test_start(self):
        return self.split.test.start

    @property
    def num_test(self):
        return self.split.test.stop - self.split.test.start


@dataclass
class FitResult:
    """The trained forecasters of a run and how their training went.

    `forecaster` combines the members trained on the training part (and scores validation);
    `final` is what forecasts the test part: the members refitted on train + validation when
    ``[training] refit`` is set, else `forecaster` itself.
    """

    forecaster: object
    final: object
    histories: list
    monitor: str
    best_epochs: list | None = None
    refit_epochs: list | None = None
    distribution: dict | None = None  # `DataParallel.describe()` when trained data-parallel
    related: dict | None = None  # `RelatedCut.describe()` of the training part's cut

    @property
    def history(self):
        """The first member's ``History.history`` (what pruning and the loss plot follow)."""
        return self.histories[0]


@dataclass(frozen=True)
class PreparedRun:
    """A run of one series before training: the recipe with the keys it left out chosen from
    the data (``inferred``: key → why), its split `data`, the `related` series, the unfitted
    `transforms` and the recipe's `leaks`."""

    recipe: object
    inferred: dict
    data: object
    related: object
    transforms: object
    leaks: list


@dataclass(frozen=True)
class ValidationScores:
    """Scores on the validation part: what studies and model choices may look at."""

    best_val_loss: float
    one_step: dict
    recursive: dict
    # ``[evaluation] choose``: each candidate's multi-step MASE here, and the lowest.
    choice: dict = field(default_factory=dict)
    chosen: str | None = None
    reason: str = ""  # why `chosen` (kseq.evaluation.choice)
    # The net's weight in each combination with a baseline ({"kseq+sarima": 0.5}; runs saved
    # before combinations became plain means may record others).
    weights: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CandidateScores:
    """The choice's candidates on the validation part: multi-step MASE ``{name: mase}`` (what
    the choice follows), one-step MASE, the multi-step forecasts ``{name: (steps,)}`` and the
    net's weight in each combination (``{"kseq+sarima": 0.5}``)."""

    multi_step: dict
    one_step: dict
    forecasts: dict
    weights: dict


@dataclass(frozen=True)
class RollingForecasts:
    """Held-out points forecast from several origins before each (the conformal intervals'
    calibration set): a long frame (``unique_id``, ``ds``, ``step``, ``y`` and a column per
    candidate) and the seconds each member's forecasts took (``{name: seconds}``)."""

    frame: pd.DataFrame
    seconds: dict


@dataclass(frozen=True)
class IntervalCoverage:
    """Empirical coverage of a probabilistic head's one-step interval on the test part."""

    level: float
    lower: float
    upper: float
    one_step_coverage: float


@dataclass(frozen=True)
class TestEvaluation:
    """Test-part forecasts of the model and the baselines, and their metrics (original
    units): ``metrics`` maps a row label (``"kseq (one-step)"``) to ``{metric: value}``."""

    metrics: dict
    steps: int
    truth: np.ndarray  # (num_test, columns)
    multi_step: np.ndarray  # (steps, num_targets)
    one_step: np.ndarray  # (num_test, num_targets)
    interval: tuple | None = None  # (low, high), each (num_test,)
    coverage: IntervalCoverage | None = None
    # Conformal intervals of the model's and the chosen candidate's forecasts:
    # {"kseq" | "chosen": {level: {"multi_step": (low, high), "one_step": (low, high)}}}, and
    # their coverage {"24-step": {"80": share inside, ...}, "chosen one-step": {...}, ...}.
    bands: dict = field(default_factory=dict)
    band_coverage: dict = field(default_factory=dict)
    # The validation-chosen candidate's forecasts: {"multi_step": (steps,), "one_step": ...}.
    chosen: dict = field(default_factory=dict)
    baselines: dict = field(default_factory=dict)  # name -> (steps,) multi-step forecast
    baselines_one_step: dict = field(default_factory=dict)  # name -> (num_test,)
    # The net's weight in each combination with a baseline ({"kseq+sarima": 0.5}).
    weights: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


@dataclass(frozen=True)
class FutureForecast:
    """Forecasts past the end of the series, with their dates and intervals
    ``{"80": [lower, upper], ...}`` (lists of values)."""

    ds: list
    values: list
    intervals: dict = field(default_factory=dict)
    # The validation choice's forecast when it is not the model (a baseline fitted on the
    # whole series, or the model's mean with one), and its intervals.
    chosen: str | None = None
    chosen_values: list = field(default_factory=list)
    chosen_intervals: dict = field(default_factory=dict)


def rename_old_candidate(name):
    """A candidate's name in today's vocabulary: runs saved before the net was named ``kseq``
    as in panels called it ``model`` (``"model+sarima"`` → ``"kseq+sarima"``, the row
    ``"model (one-step)"`` → ``"kseq (one-step)"``)."""
    if not isinstance(name, str):
        return name
    for old, new in (("model+", "kseq+"), ("model (", "kseq (")):
        if name.startswith(old):
            return new + name[len(old) :]
    return "kseq" if name == "model" else name


def rename_old_keys(mapping):
    """`mapping` with its keys renamed by `rename_old_candidate`."""
    return {rename_old_candidate(k): v for k, v in (mapping or {}).items()}
