"""One model for every series of a panel: fit on all of them, forecast all of them at once."""

import numpy as np
import pandas as pd

import kseq
from kseq._keras import keras
from kseq.data.panel_shards import PanelShards
from kseq.data.panel_window_dataset import (
    PanelWindowDataset,
    make_panel_starts,
    make_window_features,
)
from kseq.data.prepared_panel import PreparedPanel
from kseq.data.series_covariates import SeriesCovariates
from kseq.data.sharded_panel_window_dataset import ShardedPanelWindowDataset
from kseq.data.window_starts import WindowStarts
from kseq.errors import DataError, NotFittedError, SavedStateError, SeriesTooShortError
from kseq.runtime import make_fit_inputs
from kseq.saved_forecaster import SavedForecaster
from kseq.saving import of_type, plain_value, positive_int
from kseq.training_config import TrainingConfig
from kseq.transforms.panel_scaler import PanelScaler

STATE_FILE = "global_forecaster.json"
_STATE_SCHEMA = {
    "kseq_version": of_type(str),
    "backend": of_type(str),
    "lookback": positive_int,
    "horizon": positive_int,
    "season_length": positive_int,
    "calendar": of_type(bool),
    "sampling": of_type(str),
    "log_ids": of_type(list),
}


class GlobalForecaster(SavedForecaster):
    """A direct multi-step model trained across the series of a `Panel`.

    Each series is taken to log scale where its training values are all positive (else it is
    kept as is and each window is divided by its mean absolute value); optionally each series
    is then scaled by its own training statistics (`PanelScaler`: standard, robust, mean
    absolute, MinMax); each window is then expressed relative to its last input value, so one
    model serves series of any level. The
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
        scaler: per-series scaling after the log, one of `kseq.transforms.panel_scaler.SCALERS`
            (``"none"``: the windows' own normalisation only).
        static_columns: columns of `Panel.static` appended to every input step (standardised
            over the training series); the model takes ``num_features`` = 1 or 3 plus these.
            A model built with a series embedding (its ``"series"`` input) gets each series'
            index among the training series.
    """

    KIND = "global_forecaster"
    STATE_FILE = STATE_FILE
    STATE_SCHEMA = _STATE_SCHEMA

    def __init__(
        self,
        model,
        *,
        lookback,
        season_length=1,
        calendar=True,
        sampling="windows",
        scaler="none",
        static_columns=(),
    ):
        self.model = model
        self.static_columns = list(static_columns)
        self.series_ids_ = None  # the training series, in the order of the id embedding
        self.static_stats_ = None  # {column: (mean, std)} over the training series
        self.lookback = int(lookback)
        self.horizon = int(model.output_shape[1])
        self.season_length = int(season_length)
        self.calendar = bool(calendar) and self.season_length > 1
        self.sampling = sampling
        self.scaler = PanelScaler(scaler)  # validates the name; fitted by `fit_transforms`
        self.log_ids_ = None  # ids of the series modelled on log scale
        self.history_ = None

    # Transforms ----------------------------------------------------------------------------

    def _log_values(self, panel):
        """``(total,)`` float32 values with the series of `log_ids_` on log scale (what a
        per-series scaler is fitted on)."""
        on_log = self._on_log(panel)
        values = np.array(panel.values, dtype="float32")
        np.log(values, out=values, where=np.repeat(on_log, panel.lengths))
        return values

    def _on_log(self, panel):
        """``(num_series,)`` bool: the series of `panel` modelled on log scale, checked to be
        still positive."""
        on_log = np.isin(panel.ids, list(self.log_ids_))
        bad = panel.ids[on_log & (_series_minima(panel) <= 0)]
        if len(bad):
            raise DataError(
                f"Series {', '.join(map(str, bad[:5]))} were positive when the forecaster was "
                "fitted (log scale) and now hold zeros or negatives; refit on the new data."
            )
        return on_log

    def _prepare(self, panel):
        """The transformed values, the "scaled" flags and the phases of `panel`, each indexed
        by absolute positions like a ``(total,)`` array but computed per batch
        (`PreparedPanel`): no transformed copy of the panel is held."""
        if self.log_ids_ is None:
            raise NotFittedError("The GlobalForecaster is not fitted yet; call `fit` first.")
        on_log = self._on_log(panel)
        stats = self.scaler.stats_of(panel.ids)
        loc, scale = (None, None) if stats is None else (s.astype("float32") for s in stats)
        prepared = PreparedPanel.of(
            panel,
            on_log,
            loc=loc,
            scale=scale,
            season_length=self.season_length,
            calendar=self.calendar,
        )
        return prepared.arrays()

    @property
    def has_series_embedding(self):
        return "series" in [tensor.name for tensor in self.model.inputs]

    def _covariates(self, panel):
        """The panel's `SeriesCovariates`, or `None` when the model takes neither."""
        if not self.static_columns and not self.has_series_embedding:
            return None
        codes = static = None
        if self.has_series_embedding:
            position = {sid: i for i, sid in enumerate(self.series_ids_)}
            unknown = [sid for sid in panel.ids if sid not in position]
            if unknown:
                raise DataError(
                    f"Series {', '.join(map(str, unknown[:5]))} were not among the series the "
                    "model was trained on, and its series embedding has no vector for them; "
                    "retrain with them, or use a model without [model] series_embedding."
                )
            codes = np.array([position[sid] for sid in panel.ids], dtype="int32")
        if self.static_columns:
            columns = []
            for column in self.static_columns:
                mean, std = self.static_stats_[column]
                columns.append((read_static(panel, column) - mean) / std)
            static = np.stack(columns, axis=-1).astype("float32")
        return SeriesCovariates(panel.offsets, codes, static)

    # Training ------------------------------------------------------------------------------

    def fit_transforms(self, panel, validation=0):
        """Fits the per-series choices on each series without its last `validation` points
        (the scaler's statistics), except the log scale: that is taken where every value of
        the series in `panel` is positive, validation part included, since the validation
        windows and later forecasts read those values as inputs (a series that turns
        negative there cannot be on log scale). `fit` does it too. `panel` may be
        `PanelShards`: each shard is read once, one at a time."""
        if isinstance(panel, PanelShards):
            if self.static_columns or self.has_series_embedding:
                raise ValueError(
                    "Static columns and series embeddings are not supported on sharded panels "
                    "yet; read the panel into memory (read_panel) or leave them out."
                )
            if self.scaler.method != "none":
                raise ValueError(
                    f"scaler={self.scaler.method!r} is not supported on sharded panels yet; "
                    "use scaler='none' (each window is normalised on its own)."
                )
            self.log_ids_ = set()
            for i in range(len(panel)):
                self.log_ids_ |= _positive_ids(panel.read(i))
            return
        self.log_ids_ = _positive_ids(panel)
        self.series_ids_ = list(panel.ids)
        # Static values are not in time: their scaling comes from every training series.
        self.static_stats_ = {}
        for column in self.static_columns:
            values = read_static(panel, column)
            std = float(values.std())
            self.static_stats_[column] = (float(values.mean()), std if std > 0 else 1.0)
        if self.scaler.method != "none":
            values = self._log_values(panel)
            # Statistics of the (log) values before each series' last `validation` points.
            self.scaler.fit(values, panel.ids, panel.lengths, panel.lengths - validation)

    def _window_options(self, training):
        """What every window dataset of this forecaster takes from it and from `training`."""
        return {
            "lookback": self.lookback,
            "horizon": self.horizon,
            "season_length": self.season_length,
            "batch_size": training.batch_size,
            "batch_multiple": training.batch_multiple,
        }

    def _train_starts(self, panel, validation):
        window = self.lookback + self.horizon
        return make_panel_starts(panel.offsets, panel.offsets[1:] - validation, window)

    def _validation_starts(self, panel, validation):
        # Windows whose targets lie in the validation part (one per series when it equals the
        # horizon); their inputs may read the end of the training part.
        window = self.lookback + self.horizon
        last = make_panel_starts(panel.offsets, panel.offsets[1:], window)
        series = np.searchsorted(panel.offsets, last, side="right") - 1
        return last[last + window > panel.offsets[1:][series] - validation]

    def _fit_shards(self, shards, validation, training, callbacks):
        """`fit` on `PanelShards`: one shard in memory at a time; a data-parallel worker
        (``training.process_count`` > 1) trains on its own part of the shards."""
        if self.sampling != "windows":
            raise ValueError("Sharded panels are sampled by windows; set sampling='windows'.")
        self.fit_transforms(shards, validation)
        window = self.lookback + self.horizon
        parts = [shards]
        if training.process_count > 1:
            parts = [shards.part(i, training.process_count) for i in range(training.process_count)]
        options = {**self._window_options(training), "seed": training.seed}

        def counts(part, kind):
            out = []
            for lengths in part.lengths:
                lengths = np.where(lengths < part.min_length, 0, lengths)
                if kind == "train":
                    out.append(np.maximum(lengths - validation - window + 1, 0).sum())
                else:
                    out.append(np.clip(lengths - window + 1, 0, validation).sum())
            return np.asarray(out)

        def make(kind, starts_of, shuffle, epoch):
            own = parts[training.process_index]  # the whole of `shards` for one worker
            steps = None
            if len(parts) > 1:
                # Workers of one job serve as many batches each: the fewest any worker has
                # (known from the lengths; no shard is read here).
                steps = min(
                    len(ShardedPanelWindowDataset(p, None, None, counts(p, kind), **options))
                    for p in parts
                )
            return ShardedPanelWindowDataset(
                own,
                self._prepare,
                starts_of,
                counts(own, kind),
                shuffle=shuffle,
                steps_per_epoch=steps,
                initial_epoch=epoch,
                **options,
            )

        data = make(
            "train",
            lambda panel: self._train_starts(panel, validation),
            training.shuffle,
            training.initial_epoch,
        )
        validation_data = None
        if validation:
            validation_data = make(
                "validation", lambda panel: self._validation_starts(panel, validation), False, 0
            )
        return data, validation_data

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
        if isinstance(panel, PanelShards):
            data, validation_data = self._fit_shards(panel, validation, training, callbacks)
            return self._fit_model(data, validation_data, training, callbacks)
        window = self.lookback + self.horizon
        self.fit_transforms(panel, validation)
        values, scaled, phases = self._prepare(panel)
        # Computed per batch (`WindowStarts`): the same windows as `_train_starts`, O(series).
        starts = WindowStarts.of(panel.offsets, panel.offsets[1:] - validation, window)
        if not len(starts):
            raise SeriesTooShortError(
                f"No series has lookback + horizon = {window} points before its last "
                f"{validation}; shorten the lookback or the validation part."
            )
        options = {**self._window_options(training), "covariates": self._covariates(panel)}
        data = PanelWindowDataset(
            values,
            scaled,
            phases,
            starts,
            sampling=self.sampling,
            offsets=panel.offsets,
            shuffle=training.shuffle,
            steps_per_epoch=training.steps_per_epoch,
            seed=training.seed,
            initial_epoch=training.initial_epoch,
            **options,
        )
        validation_data = None
        if validation:
            validation_data = PanelWindowDataset(
                values,
                scaled,
                phases,
                self._validation_starts(panel, validation),
                shuffle=False,
                **options,
            )
        return self._fit_model(data, validation_data, training, callbacks)

    def _fit_model(self, data, validation_data, training, callbacks):
        if not self.model.compiled:
            self.model.compile(optimizer="adam", loss="mae")
        # On TensorFlow, a native pipeline of the same batches (`make_fit_inputs`).
        served = make_fit_inputs(data, validation_data, self.model.steps_per_execution)
        self.history_ = self.model.fit(
            served.data,
            validation_data=served.validation_data,
            epochs=training.epochs,
            initial_epoch=training.initial_epoch,
            shuffle=False,
            callbacks=[*(callbacks or ()), *served.callbacks],
            verbose=training.verbose,
            steps_per_epoch=served.steps_per_epoch,
            validation_steps=served.validation_steps,
        )
        return self.history_

    # Forecasting ---------------------------------------------------------------------------

    def predict_array(self, panel, levels=None):
        """``(num_series, horizon)`` forecasts after the end of every series, original units,
        in one batched model call per batch of series (no loop over series); with `levels`
        (a probabilistic head's quantile levels), also ``(num_series, horizon, levels)``
        quantiles. Every step back to original units is increasing, so quantiles stay
        quantiles."""
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
        covariates = self._covariates(panel)
        if covariates is not None:
            x = covariates.make_inputs(x, starts)
        outputs = self.model.predict(x, verbose=0, batch_size=1024)
        on_log = np.isin(panel.ids, list(self.log_ids_))

        def to_original(z):  # (series, horizon) in window units → original units
            z = self.scaler.inverse_transform(z * scale + loc, panel.ids)
            z[on_log] = np.exp(z[on_log])
            return z

        point = to_original(self.head.point_forecast(outputs)[..., 0])
        if levels is None:
            return point
        quantiles = self.head.quantile_forecast(outputs, levels)[..., 0, :]
        return point, np.stack(
            [to_original(quantiles[..., j]) for j in range(len(levels))], axis=-1
        )

    def predict(self, panel, steps=None, intervals=()):
        """Forecasts `steps` (at most the horizon) after each series' end, as a long DataFrame
        with ``unique_id``, ``ds`` and ``kseq``; for each coverage of `intervals` (a
        probabilistic head's, e.g. ``(0.8,)``), the bounds ``kseq-lo-80`` and ``kseq-hi-80``
        (statsforecast's names). `PanelShards` are forecast one shard at a time."""
        steps = self.horizon if steps is None else int(steps)
        if not 1 <= steps <= self.horizon:
            raise ValueError(
                f"`steps` must be between 1 and the horizon {self.horizon}. Received: {steps}"
            )
        if isinstance(panel, PanelShards):
            frames = [self.predict(panel.read(i), steps, intervals) for i in range(len(panel))]
            return pd.concat(frames, ignore_index=True)
        levels = [q for c in intervals for q in (round((1 - c) / 2, 10), round((1 + c) / 2, 10))]
        if levels:
            forecasts, quantiles = self.predict_array(panel, levels)
        else:
            forecasts, quantiles = self.predict_array(panel), None
        offset = pd.tseries.frequencies.to_offset(panel.freq)
        ends = panel.end_dates()
        ds = np.concatenate(
            [pd.date_range(end + offset, periods=steps, freq=offset) for end in ends]
        )
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(panel.ids, steps),
                "ds": ds,
                "kseq": forecasts[:, :steps].ravel().astype("float64"),
            }
        )
        for i, coverage in enumerate(intervals):
            name = f"{100 * coverage:g}"
            frame[f"kseq-lo-{name}"] = quantiles[:, :steps, 2 * i].ravel()
            frame[f"kseq-hi-{name}"] = quantiles[:, :steps, 2 * i + 1].ravel()
        return frame

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
            "scaler": self.scaler.get_state(),
            "static_columns": self.static_columns,
            "static_stats": {k: list(v) for k, v in self.static_stats_.items()},
            "series_ids": [plain_value(sid) for sid in self.series_ids_],
        }

    @classmethod
    def from_state(cls, model, state, directory):
        forecaster = cls(
            model,
            lookback=state["lookback"],
            season_length=state["season_length"],
            calendar=state["calendar"],
            sampling=state["sampling"],
        )
        try:
            # Saved before per-series scalers existed: none.
            forecaster.scaler = PanelScaler.from_state(state.get("scaler", {"method": "none"}))
        except (KeyError, TypeError, ValueError) as error:
            raise SavedStateError(
                f"{directory / STATE_FILE}: bad scaler state ({error})."
            ) from None
        # Saved before static columns and series embeddings: none.
        forecaster.static_columns = list(state.get("static_columns", []))
        forecaster.static_stats_ = {k: tuple(v) for k, v in state.get("static_stats", {}).items()}
        forecaster.series_ids_ = list(state.get("series_ids", []))
        if set(forecaster.static_stats_) != set(forecaster.static_columns):
            raise SavedStateError(f"{directory / STATE_FILE}: static columns without statistics.")
        forecaster.log_ids_ = set(state["log_ids"])
        return forecaster


def read_static(panel, column):
    """``(num_series,)`` float64 values of a static column; an error naming it otherwise."""
    if column not in panel.static:
        raise DataError(
            f"The panel has no static column {column!r} (it has {sorted(panel.static) or 'none'}); "
            "read it with read_panel(..., static_columns=[...])."
        )
    try:
        values = np.asarray(panel.static[column], dtype="float64")
    except (TypeError, ValueError):
        raise DataError(
            f"Static column {column!r} is not numeric; encode it as numbers, or use "
            "[model] series_embedding to let the model learn what sets each series apart."
        ) from None
    if not np.isfinite(values).all():
        bad = panel.ids[~np.isfinite(values)]
        raise DataError(
            f"Static column {column!r} is missing or not finite for series "
            f"{', '.join(map(str, bad[:5]))}."
        )
    return values


def _series_minima(panel):
    """``(num_series,)`` each series' smallest value (O(series), no per-value temporaries;
    series are never empty)."""
    return np.minimum.reduceat(panel.values, panel.offsets[:-1])


def _positive_ids(panel):
    """Ids of the series whose values are all positive."""
    return set(panel.ids[_series_minima(panel) > 0])
