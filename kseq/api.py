"""`KSeq`: kseq's run as a Python object shaped like statsforecast's and neuralforecast's.

``fit(df)`` runs what ``kseq run`` runs on a recipe that sets only its data — a panel of one
series or of many, sizes chosen from the data, a global LSTM beside statsforecast's classical
models, the choice among them and conformal intervals, every statistic fitted before the last
`h` points, which are held out and scored — and ``predict()`` forecasts `h` steps past the end
of each series as a long DataFrame::

    from kseq import KSeq

    ks = KSeq(h=12).fit(df)              # df: unique_id, ds, y (or ds, y: one series)
    ks.metrics                           # held-out MASE / sMAPE: kseq, ets, theta, ..., chosen
    forecast = ks.predict()              # unique_id, ds, kseq, chosen, chosen-lo-80, ...

The run's files (run card, plots, the saved forecaster) are in `run_dir`, and
``KSeq.load(run_dir)`` forecasts from them again. The backend is the one chosen before Keras
is first imported (``KERAS_BACKEND``, or `kseq.backend.select_backend`).
"""

import copy
import tempfile
from pathlib import Path

import pandas as pd

from kseq._io import write_text_atomic
from kseq.config import validate
from kseq.data.read_panel import make_long_frame
from kseq.errors import ConfigError, DataError

# Sections a caller may pass to `KSeq` (the recipe's; ``[data]`` and ``[recipe]`` are built).
_SECTIONS = ("split", "transforms", "windows", "model", "training", "evaluation")


class KSeq:
    """Fits kseq's forecasting run on a long DataFrame and forecasts past its end.

    Args:
        h: steps to forecast; the last `h` points of each series are held out and scored, and
            the net forecasts `h` steps at once.
        level: interval coverages in percent (``[80, 95]``): conformal intervals of the chosen
            forecast (``chosen-lo-80``, ``chosen-hi-80``, ...), fitted on the validation part.
        freq: the pandas frequency (``"MS"``); inferred from the dates when `None`.
        seed: the run's seed (weights, shuffling).
        run_dir: the folder for the run's files; a temporary one (removed with the object)
            when `None`. A folder holding files is refused (as ``kseq run`` without
            ``--overwrite``).
        verbose: Keras progress output (0: none).
        **sections: recipe sections, each a dict of keys (``training={"epochs": 20}``,
            ``model={"units": [32]}``); see ``docs/recipes.md``. Keys left out are chosen from
            the data.

    Attributes (after `fit`):
        card: the run's `RunCard`.
        metrics: ``{method: {"mase": ..., "smape": ...}}`` on the held-out last `h` points.
        chosen: the forecast the run returns as ``chosen`` (``"ets"``, ``"kseq+ets"``, ...).
    """

    def __init__(
        self, h, *, level=(80, 95), freq=None, seed=0, run_dir=None, verbose=0, **sections
    ):
        if isinstance(h, bool) or not isinstance(h, int) or h < 1:
            raise ValueError(f"`h` must be a positive number of steps. Received: {h!r}")
        unknown = sorted(set(sections) - set(_SECTIONS))
        if unknown:
            raise ValueError(
                f"Unknown recipe section {unknown[0]!r}; `KSeq` takes {', '.join(_SECTIONS)} "
                "(the data come from `fit`)."
            )
        levels = [float(value) for value in level]
        if not all(0 < value < 100 for value in levels):
            raise ValueError(f"`level` must hold percentages in (0, 100). Received: {level!r}")
        self.h = h
        self.level = levels
        self.freq = freq
        self.seed = seed
        self.verbose = verbose
        self.sections = copy.deepcopy(sections)
        self._temporary = None
        if run_dir is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="kseq-")
            run_dir = Path(self._temporary.name) / "run"
        self.run_dir = Path(run_dir)
        self.card = None

    def make_recipe(self, data_path, one_series=False):
        """The validated recipe `fit` runs on the long CSV at `data_path` (with `one_series`,
        the global net's budget of a panel of one, as ``kseq run`` gives one series)."""
        from kseq.pipeline.load import PANEL_OF_ONE_ENSEMBLE, PANEL_OF_ONE_STEPS

        raw = {section: dict(keys) for section, keys in self.sections.items()}
        if one_series:
            training = raw.setdefault("training", {})
            training.setdefault("ensemble", PANEL_OF_ONE_ENSEMBLE)
            training.setdefault("steps_per_epoch", PANEL_OF_ONE_STEPS)
        raw["recipe"] = {"name": "kseq", "seed": self.seed}
        raw["data"] = {"source": "panel", "path": str(data_path)}
        if self.freq is not None:
            raw["data"]["freq"] = self.freq
        split = raw.setdefault("split", {})
        if split.get("test", self.h) != self.h:
            raise ValueError(
                f"split={{'test': {split['test']}}} contradicts h={self.h}: the held-out part is "
                "the last h points; leave test out."
            )
        split["test"] = self.h
        raw.setdefault("evaluation", {}).setdefault("intervals", [v / 100 for v in self.level])
        return validate(raw, source="KSeq")

    def fit(self, df):
        """Runs kseq on `df` (long: ``unique_id``, ``ds``, ``y``; or ``ds``, ``y``, or a
        `pandas.Series` with a `DatetimeIndex`: one series, id ``"series"``); returns self."""
        from kseq._io import claim_out_dir
        from kseq.pipeline.run import run_recipe

        frame = to_long_frame(df)
        claim_out_dir(self.run_dir, overwrite=False)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # The run reads its data from a file, as `kseq run` does (and keeps it with the run).
        data_path = self.run_dir / "data.csv"
        write_text_atomic(data_path, frame.to_csv(index=False))
        recipe = self.make_recipe(data_path, one_series=frame["unique_id"].nunique() == 1)
        self.card = run_recipe(recipe, run_dir=self.run_dir, verbose=self.verbose)
        return self

    @property
    def metrics(self):
        self._check_fitted()
        return self.card.metrics

    @property
    def chosen(self):
        self._check_fitted()
        return self.card.panel.chosen

    def predict(self, h=None, csv=None):
        """Forecasts `h` steps (the fitted `h` when `None`, at most it) past the end of each
        series: a long DataFrame with ``unique_id``, ``ds``, ``kseq`` (the net), ``chosen``,
        the classical models the choice combines, and the interval columns
        (``chosen-lo-80``, ...). `csv`: newer data (long format) to forecast from instead of
        the fitted data."""
        from kseq.pipeline.forecast import forecast_saved_run

        self._check_fitted()
        steps = self.h if h is None else h
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= self.h:
            raise ValueError(
                f"`h` must be a number of steps from 1 to the fitted h ({self.h}). Received: {h!r}"
            )
        frame = forecast_saved_run(self.run_dir, steps, csv=csv)
        return frame.reset_index()

    @classmethod
    def load(cls, run_dir):
        """A fitted `KSeq` from the folder of an earlier `fit` (or of ``kseq run`` on a panel
        recipe); its saved forecaster is checked on load (`kseq.saving`)."""
        from kseq.pipeline.run_card import RunCard

        run_dir = Path(run_dir)
        card_path = run_dir / "run_card.json"
        if not card_path.is_file():
            raise FileNotFoundError(f"{card_path} is missing: {run_dir} is not a kseq run.")
        card = RunCard.from_json(card_path.read_text())
        if card.panel is None:
            raise DataError(
                f"{run_dir} holds a single-series recipe's run; `KSeq` loads panel runs "
                "(forecast it with `kseq forecast`)."
            )
        config = card.config
        loaded = cls(
            config["split"]["test"],
            level=[100 * v for v in config["evaluation"]["intervals"]],
            freq=config["data"].get("freq"),
            seed=config["recipe"]["seed"],
            run_dir=run_dir,
        )
        loaded.card = card
        return loaded

    def _check_fitted(self):
        if self.card is None:
            raise ConfigError("This KSeq is not fitted yet: call `fit(df)` first.")

    def __repr__(self):
        state = f"chosen={self.chosen!r}" if self.card is not None else "not fitted"
        return f"KSeq(h={self.h}, level={self.level}, {state}, run_dir={str(self.run_dir)!r})"


def to_long_frame(df):
    """`df` as a long frame (``unique_id``, ``ds``, ``y``): a long frame as it is; a frame of
    ``ds`` and ``y`` or a `pandas.Series` with dates as its index as one series."""
    if isinstance(df, pd.Series):
        if not isinstance(df.index, pd.DatetimeIndex):
            raise DataError(
                "A Series given to KSeq.fit needs dates as its index (a DatetimeIndex); "
                f"its index is {type(df.index).__name__}. Or pass a frame with ds and y."
            )
        df = pd.DataFrame({"ds": df.index, "y": df.to_numpy()})
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"`df` must be a pandas DataFrame or Series. Received: {type(df).__name__}")
    return make_long_frame(df, "The frame given to KSeq.fit", "series")
