"""One model for every series of a panel: fit on all of them, forecast all of them at once."""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import kseq
from kseq._keras import keras
from kseq.data.panel_window_dataset import (
    PanelWindowDataset,
    make_panel_starts,
    make_window_features,
)
from kseq.errors import DataError, NotFittedError, SeriesTooShortError
from kseq.models.builders import head_of
from kseq.training_config import TrainingConfig

MODEL_FILE = "model.keras"
STATE_FILE = "global_forecaster.json"


class GlobalForecaster:
    """A direct multi-step model trained across the series of a `Panel`.

    Each series is taken to log scale where its training values are all positive (else it is
    kept as is and each window is divided by its mean absolute value); each window is then
    expressed relative to its last input value, so one model serves series of any level. The
    model sees the window and, optionally, the sine and cosine of each step's position in the
    season. Everything fitted is per series and comes from the data `fit` receives.

    Example:

    >>> model = build_forecaster(48, num_features=3, horizon=24, units=[64, 64])
    >>> forecaster = GlobalForecaster(model, lookback=48, season_length=12)
    >>> forecaster.fit(train_panel, validation=24, training=TrainingConfig(epochs=20))
    >>> forecaster.predict(panel)   # long DataFrame: unique_id, ds, kseq

    Args:
        model: ``(batch, lookback, 1 or 3) → (batch, horizon, 1)``, from `kseq.models`.
        lookback: input steps.
        season_length: steps per season of the calendar features (1: none).
        calendar: add the two season-position features.
        sampling: ``"windows"`` or ``"series"`` (see `PanelWindowDataset`).
    """

    def __init__(self, model, *, lookback, season_length=1, calendar=True, sampling="windows"):
        self.model = model
        self.lookback = int(lookback)
        self.horizon = int(model.output_shape[1])
        self.season_length = int(season_length)
        self.calendar = bool(calendar) and self.season_length > 1
        self.sampling = sampling
        self.log_ids_ = None  # ids of the series modelled on log scale
        self.history_ = None

    @property
    def head(self):
        return head_of(self.model)

    # Transforms ----------------------------------------------------------------------------

    def _prepare(self, panel):
        """Transformed values, the per-position "scaled" flags and phases of `panel`."""
        if self.log_ids_ is None:
            raise NotFittedError("The GlobalForecaster is not fitted yet; call `fit` first.")
        on_log = np.isin(panel.ids, list(self.log_ids_))
        mask = np.repeat(on_log, panel.lengths)
        values = panel.values.astype("float64")
        if (values[mask] <= 0).any():
            bad = panel.ids[
                on_log & np.array([(panel.series(i) <= 0).any() for i in range(len(panel))])
            ]
            raise DataError(
                f"Series {', '.join(map(str, bad[:5]))} were positive when the forecaster was "
                "fitted (log scale) and now hold zeros or negatives; refit on the new data."
            )
        values[mask] = np.log(values[mask])
        phases = panel.phases(self.season_length) if self.calendar else None
        return values, ~mask, phases

    # Training ------------------------------------------------------------------------------

    def fit(self, panel, validation=0, *, training=None, callbacks=None):
        """Fits on every series of `panel`: the last `validation` points of each series only
        score validation windows (their targets), nothing is fitted on them.

        Args:
            panel: a `Panel` holding only training (and validation) data.
            validation: points per series at the end kept for validation (0: none).
            training: a `TrainingConfig`.
            callbacks: Keras callbacks.

        Returns:
            The Keras `History`.
        """
        training = training or TrainingConfig()
        window = self.lookback + self.horizon
        ends = panel.offsets[1:] - validation
        fit_part = [panel.series(i)[: panel.lengths[i] - validation] for i in range(len(panel))]
        self.log_ids_ = {
            sid for sid, part in zip(panel.ids, fit_part, strict=True) if (part > 0).all()
        }
        values, scaled, phases = self._prepare(panel)
        starts = make_panel_starts(panel.offsets, ends, window)
        if not len(starts):
            raise SeriesTooShortError(
                f"No series has lookback + horizon = {window} points before its last "
                f"{validation}; shorten the lookback or the validation part."
            )
        series_of = np.searchsorted(panel.offsets, starts, side="right") - 1
        options = {
            "lookback": self.lookback,
            "horizon": self.horizon,
            "season_length": self.season_length,
            "batch_size": training.batch_size,
        }
        data = PanelWindowDataset(
            values,
            scaled,
            phases,
            starts,
            sampling=self.sampling,
            series_of=series_of,
            shuffle=training.shuffle,
            steps_per_epoch=training.steps_per_epoch,
            seed=training.seed,
            **options,
        )
        validation_data = None
        if validation:
            # Windows whose targets lie in the validation part (one per series when it equals
            # the horizon); their inputs may read the end of the training part.
            last = make_panel_starts(panel.offsets, panel.offsets[1:], window)
            series = np.searchsorted(panel.offsets, last, side="right") - 1
            keep = last + window > ends[series]
            validation_data = PanelWindowDataset(
                values, scaled, phases, last[keep], shuffle=False, **options
            )
        if not self.model.compiled:
            self.model.compile(optimizer="adam", loss="mae")
        self.history_ = self.model.fit(
            data,
            validation_data=validation_data,
            epochs=training.epochs,
            shuffle=False,
            callbacks=callbacks,
            verbose=training.verbose,
        )
        return self.history_

    # Forecasting ---------------------------------------------------------------------------

    def predict_array(self, panel):
        """``(num_series, horizon)`` forecasts after the end of every series, original units,
        in one batched model call per batch of series (no loop over series)."""
        short = panel.ids[panel.lengths < self.lookback]
        if len(short):
            raise SeriesTooShortError(
                f"Series {', '.join(map(str, short[:5]))} have fewer than lookback = "
                f"{self.lookback} points to forecast from."
            )
        values, scaled, phases = self._prepare(panel)
        starts = panel.offsets[1:] - self.lookback
        x, loc, scale = make_window_features(
            values, scaled, phases, starts, self.lookback, self.season_length
        )
        outputs = self.model.predict(x, verbose=0, batch_size=1024)
        z = self.head.point_forecast(outputs)[..., 0] * scale + loc  # (series, horizon)
        on_log = ~scaled[starts]
        z[on_log] = np.exp(z[on_log])
        return z

    def predict(self, panel, steps=None):
        """Forecasts `steps` (at most the horizon) after each series' end, as a long DataFrame
        with ``unique_id``, ``ds`` and ``kseq``."""
        steps = self.horizon if steps is None else int(steps)
        if not 1 <= steps <= self.horizon:
            raise ValueError(
                f"`steps` must be between 1 and the horizon {self.horizon}. Received: {steps}"
            )
        forecasts = self.predict_array(panel)[:, :steps]
        offset = pd.tseries.frequencies.to_offset(panel.freq)
        ends = panel.end_dates()
        ds = np.concatenate(
            [pd.date_range(end + offset, periods=steps, freq=offset) for end in ends]
        )
        return pd.DataFrame(
            {
                "unique_id": np.repeat(panel.ids, steps),
                "ds": ds,
                "kseq": forecasts.ravel().astype("float64"),
            }
        )

    # Saving --------------------------------------------------------------------------------

    def get_state(self):
        if self.log_ids_ is None:
            raise NotFittedError("The GlobalForecaster is not fitted yet; call `fit` first.")
        return {
            "kseq_version": kseq.__version__,
            "backend": keras.backend.backend(),
            "lookback": self.lookback,
            "horizon": self.horizon,
            "season_length": self.season_length,
            "calendar": self.calendar,
            "sampling": self.sampling,
            "log_ids": sorted(self.log_ids_),
        }

    def save(self, directory):
        """Saves ``model.keras`` and ``global_forecaster.json`` (with the model's sha256)
        into `directory`, written beside it and renamed into place."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            self.model.save(staging / MODEL_FILE)
            state = self.get_state()
            state["model_sha256"] = hashlib.sha256((staging / MODEL_FILE).read_bytes()).hexdigest()
            (staging / STATE_FILE).write_text(json.dumps(state, indent=2))
            if directory.exists():
                shutil.rmtree(directory)
            os.replace(staging, directory)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return directory

    @classmethod
    def load(cls, directory):
        """Loads a saved global forecaster (``safe_mode=True``; any backend)."""
        directory = Path(directory)
        state = json.loads((directory / STATE_FILE).read_text())
        digest = hashlib.sha256((directory / MODEL_FILE).read_bytes()).hexdigest()
        if digest != state.get("model_sha256"):
            raise DataError(f"{directory / MODEL_FILE} does not match its recorded sha256.")
        import kseq.layers  # noqa: F401  (registers kseq's layers)

        model = keras.saving.load_model(directory / MODEL_FILE, safe_mode=True, compile=False)
        forecaster = cls(
            model,
            lookback=state["lookback"],
            season_length=state["season_length"],
            calendar=state["calendar"],
            sampling=state["sampling"],
        )
        forecaster.log_ids_ = set(state["log_ids"])
        return forecaster
