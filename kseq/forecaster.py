"""A fitted forecasting model: transforms, window settings and a Keras model in one object."""

import numpy as np

import kseq
from kseq._keras import keras
from kseq.data.window_dataset import WindowDataset
from kseq.data.windows import make_windows
from kseq.errors import DataError, NotFittedError, SavedStateError
from kseq.runtime import make_fit_inputs, predict_windows
from kseq.saved_forecaster import SavedForecaster
from kseq.saving import of_type, positive_int
from kseq.training_config import TrainingConfig
from kseq.transforms import TransformPipeline

STATE_FILE = "forecaster.json"
# Windows per model call when forecasting (`predict_windows`).
PREDICT_BATCH = 1024
_STATE_SCHEMA = {
    "kseq_version": of_type(str),
    "keras_version": of_type(str),
    "backend": of_type(str),
    "lookback": positive_int,
    "horizon": positive_int,
    "num_targets": positive_int,
    "transforms": of_type(dict),
    "extra": of_type(dict),
}


def _as_2d(values, argument):
    array = np.asarray(values, dtype="float64")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"`{argument}` must be (time,) or (time, columns); got {array.shape}.")
    return array


class Forecaster(SavedForecaster):
    """Transforms + windows + a Keras model, working in original units.

    Series are arrays ``(time, columns)``; the first `num_targets` columns are forecast, all
    columns are inputs. The transforms are fitted on what `fit` receives and nothing else.

    Example:

    >>> model = build_forecaster(lookback=24)
    >>> forecaster = Forecaster(model, lookback=24, transforms=TransformPipeline([...]))
    >>> forecaster.fit(
    ...     series[split.train],
    ...     validation=series[split.validation],
    ...     training=TrainingConfig(epochs=50),
    ... )
    >>> forecaster.predict(series[: split.test.start], steps=24)   # (24, num_targets)

    Args:
        model: a model from `kseq.models` mapping ``(batch, lookback, num_features)`` to
            ``(batch, horizon, num_targets[, ...])``.
        lookback: input steps.
        transforms: a `TransformPipeline` (unfitted, or fitted when restoring), or `None`.
        num_targets: forecast columns (the first ones).
    """

    KIND = "forecaster"
    STATE_FILE = STATE_FILE
    STATE_SCHEMA = _STATE_SCHEMA

    def __init__(self, model, *, lookback, transforms=None, num_targets=1):
        self.model = model
        self.lookback = int(lookback)
        self.transforms = transforms if transforms is not None else TransformPipeline([])
        self.num_targets = int(num_targets)
        self.horizon = int(model.output_shape[1])
        self.history_ = None

    @property
    def context_length(self):
        """Original-unit points one forecast needs: the lookback plus the transforms' lags."""
        return self.lookback + self.transforms.context_length

    def _check_fitted(self):
        if not hasattr(self.transforms, "n_features_in_"):
            raise NotFittedError("The Forecaster is not fitted yet; call `fit` first.")

    def _windows(self, series, position=0):
        z = self.transforms.transform(series, position=position)
        return make_windows(
            z, z[:, : self.num_targets], lookback=self.lookback, horizon=self.horizon
        )

    def fit(
        self,
        train,
        validation=None,
        *,
        related=(),
        training=None,
        callbacks=None,
        fit_transforms=True,
    ):
        """Fits the transforms on `train`, then the model on windows of both.

        The model is compiled with Adam and its head's loss unless it is compiled already.

        Args:
            train: training values ``(time, columns)`` in original units.
            validation: the values that follow `train`; their windows read the end of
                `train` as context, and nothing is fitted on them.
            related: other series ``(time, columns)`` in original units, with `train`'s
                columns, that the model also learns from (a global model's related series, as
                in ES-RNN, N-BEATS and DeepAR): each goes through its own copy of the
                transforms, fitted on that series alone, and its windows join `train`'s.
                Validation and forecasts stay on the target series. End them where `train`
                ends: what comes later is the future of the target's test part.
            training: a `TrainingConfig` (epochs, batches, window order); defaults otherwise.
            callbacks: Keras callbacks.
            fit_transforms: fit the transforms on `train` (the leak-free default); `False`
                keeps transforms fitted beforehand.

        Returns:
            The Keras `History`.
        """
        training = training or TrainingConfig()
        train = _as_2d(train, "train")
        if train.shape[1] < self.num_targets:
            raise ValueError(
                f"`train` has {train.shape[1]} columns; expected >= {self.num_targets}."
            )
        if fit_transforms:
            self.transforms.fit(train)
        else:
            self._check_fitted()
        x, y = self._windows(train)
        if len(related):
            x, y = self._join_related(x, y, related, train.shape[1])
        data = WindowDataset(
            x,
            y,
            training.batch_size,
            shuffle=training.shuffle,
            random_windows=training.random_windows,
            steps_per_epoch=training.steps_per_epoch,
            seed=training.seed,
            initial_epoch=training.initial_epoch,
            batch_multiple=training.batch_multiple,
        )
        validation_data = self._validation_windows(train, validation, training)
        if not self.model.compiled:
            self.model.compile(optimizer="adam", loss=self.head.default_loss())
        served = make_fit_inputs(data, validation_data, self.model.steps_per_execution)
        self.history_ = self.model.fit(
            served.data,
            validation_data=served.validation_data,
            epochs=training.epochs,
            initial_epoch=training.initial_epoch,
            # The WindowDataset owns the order (seeded, or none when shuffle=False); Keras's own
            # shuffle would reorder its batches again with Python's `random` (and warns on TF).
            shuffle=False,
            callbacks=[*(callbacks or ()), *served.callbacks],
            verbose=training.verbose,
            steps_per_epoch=served.steps_per_epoch,
            validation_steps=served.validation_steps,
        )
        return self.history_

    def _validation_windows(self, train, validation, training):
        """The windows of `validation` (read after the end of `train` as context), or
        `None` without a validation part."""
        if validation is None or not len(validation):
            return None
        joined = np.concatenate([train[-self.context_length :], _as_2d(validation, "validation")])
        return WindowDataset(
            *self._windows(joined, position=len(train) - self.context_length),
            training.batch_size,
            batch_multiple=training.batch_multiple,
        )

    def _join_related(self, x, y, related, num_columns):
        """`train`'s windows ``x, y`` and those of every related series, each transformed by
        a copy of the transforms fitted on that series only (one copy of the windows: the
        related series of a single-series run are few)."""
        from sklearn.base import clone

        xs, ys = [x], [y]
        for i, values in enumerate(related):
            values = _as_2d(values, f"related[{i}]")
            if values.shape[1] != num_columns:
                raise ValueError(
                    f"`related[{i}]` has {values.shape[1]} columns; `train` has {num_columns}."
                )
            if len(values) < self.context_length + self.horizon:
                raise ValueError(
                    f"`related[{i}]` has {len(values)} points; a window needs "
                    f"{self.context_length + self.horizon} (lookback, lags and horizon)."
                )
            own = clone(self.transforms).fit(values)
            z = own.transform(values)
            windows = make_windows(
                z, z[:, : self.num_targets], lookback=self.lookback, horizon=self.horizon
            )
            xs.append(windows[0])
            ys.append(windows[1])
        return np.concatenate(xs), np.concatenate(ys)

    def _predict_scaled(self, windows):
        return predict_windows(self.model, np.asarray(windows, dtype="float32"), PREDICT_BATCH)

    def predict(self, history, steps=None, position=0):
        """Forecasts `steps` points after `history`, in original units.

        Up to the model's horizon the forecast is direct; past it, forecasts are fed back as
        inputs (recursive), one horizon at a time. Feeding back needs every input column to be
        a target.

        Args:
            history: values ``(time, columns)`` in original units, at least `context_length`.
            steps: points to forecast; the model's horizon by default.
            position: where `history` starts, counted in steps from the start of the series
                the transforms were fitted on (0: the same start); a seasonal adjustment reads
                each value's phase from it.

        Returns:
            ``(steps, num_targets)`` point forecasts.
        """
        history = _as_2d(history, "history")
        if len(history) < self.context_length:
            raise DataError(
                f"`history` has {len(history)} points; forecasting needs {self.context_length} "
                f"(lookback {self.lookback} + transform lags {self.transforms.context_length})."
            )
        return self.predict_origins(history, [len(history)], steps, position=position)[0]

    def predict_origins(self, series, origins, steps=None, position=0):
        """Forecasts `steps` points from each of several origins of one series, in one batch.

        The forecast from origin ``t`` sees ``series[:t]`` only (as `predict` on that
        history would): the backtests and residuals of many origins cost one model call per
        horizon, not one per origin.

        Args:
            series: values ``(time, columns)`` in original units.
            origins: positions of the first forecast point, each ``>= context_length`` and
                ``<= len(series)``.
            steps: points to forecast from each origin; the model's horizon by default.
            position: where `series` starts in the fitted series (see `predict`).

        Returns:
            ``(num_origins, steps, num_targets)`` point forecasts.
        """
        self._check_fitted()
        series = _as_2d(series, "series")
        origins = np.asarray(origins, dtype="int64").reshape(-1)
        steps = self.horizon if steps is None else int(steps)
        context = self.context_length
        if origins.size and (origins.min() < context or origins.max() > len(series)):
            raise DataError(
                f"Origins must lie in [{context}, {len(series)}]: forecasting needs "
                f"{context} points before each (lookback {self.lookback} + transform lags "
                f"{self.transforms.context_length}). Received {origins.min()} to {origins.max()}."
            )
        if steps > self.horizon and series.shape[1] != self.num_targets:
            raise ValueError(
                f"Forecasting {steps} steps past the horizon {self.horizon} feeds forecasts back "
                "as inputs, which needs every input column to be a target; the data has "
                f"{series.shape[1]} columns and {self.num_targets} targets."
            )
        histories = np.stack([series[t - context : t] for t in origins])  # (origins, ctx, cols)
        starts = int(position) + origins - context  # each history's first step
        z = self.transforms.transform(histories, position=starts)[:, -self.lookback :]
        forecasts = []
        produced = 0
        while True:
            outputs = self._predict_scaled(z[:, -self.lookback :])
            chunk = self.head.point_forecast(outputs)  # (origins, horizon, num_targets)
            forecasts.append(chunk)
            produced += chunk.shape[1]
            if produced >= steps:
                break
            # Past the horizon the forecasts become inputs (every column a target: checked).
            z = np.concatenate([z, chunk], axis=1)
        z_forecast = np.concatenate(forecasts, axis=1)[:, :steps]
        lag = self.transforms.context_length
        return self.transforms.inverse_transform(
            z_forecast,
            context=histories[:, -lag:] if lag else histories,
            position=int(position) + origins,
        )

    def predict_one_step(self, series, start, levels=None, position=0):
        """One-step-ahead forecasts of ``series[start:]``, each from the true history before it.

        Args:
            series: values ``(time, columns)`` in original units.
            start: first position forecast; needs ``start >= context_length``.
            levels: quantile levels to return too (a probabilistic head's, decoded by the
                head and mapped to original units), e.g. ``(0.1, 0.9)``.
            position: where `series` starts in the fitted series (see `predict`).

        Returns:
            ``(len(series) - start, num_targets)`` point forecasts; with `levels`, also the
            quantiles ``(len(series) - start, num_targets, len(levels))``.
        """
        self._check_fitted()
        series = _as_2d(series, "series")
        if start < self.context_length:
            raise DataError(
                f"`start`={start} leaves too little history; one-step forecasts need "
                f"{self.context_length} points before the first forecast."
            )
        lag = self.transforms.context_length
        z = self.transforms.transform(
            series[start - self.context_length :],
            position=int(position) + start - self.context_length,
        )
        # Window i holds the lookback steps before position start + i.
        x, _ = make_windows(z, lookback=self.lookback, horizon=1)
        outputs = np.asarray(self._predict_scaled(x))[:, :1]  # first step of each horizon
        contexts = make_windows(series[start - lag :], lookback=lag, horizon=1)[0] if lag else None
        targets = int(position) + start + np.arange(len(x))  # each forecast's position
        point = self.head.point_forecast(outputs)  # (num, 1, num_targets)
        forecast = self._inverse_batch(point, contexts, targets)[:, 0]
        if levels is None:
            return forecast
        # One step ahead, every transform's inverse is increasing in the forecast value (the
        # context is the true history), so quantiles map to quantiles in original units.
        quantiles = self.head.quantile_forecast(outputs, levels)  # (num, 1, targets, levels)
        mapped = [
            self._inverse_batch(quantiles[..., j], contexts, targets)[:, 0]
            for j in range(len(levels))
        ]
        return forecast, np.stack(mapped, axis=-1)

    def _inverse_batch(self, values, contexts, positions):
        if contexts is None:
            return self.transforms.inverse_transform(values, position=positions)
        # The whole context: the pipeline transforms it through every column's statistics.
        return self.transforms.inverse_transform(values, context=contexts, position=positions)

    # Saving ------------------------------------------------------------------------------

    def get_state(self):
        """Returns everything but the model's weights as plain JSON values."""
        self._check_fitted()
        return {
            "kseq_version": kseq.__version__,
            "keras_version": keras.__version__,
            "backend": keras.backend.backend(),
            "lookback": self.lookback,
            "horizon": self.horizon,
            "num_targets": self.num_targets,
            "transforms": self.transforms.get_state(),
        }

    @classmethod
    def from_state(cls, model, state, directory):
        try:
            transforms = TransformPipeline.from_state(state["transforms"])
        except (KeyError, TypeError, ValueError) as error:
            raise SavedStateError(
                f"{directory / STATE_FILE}: the transforms' state does not parse ({error})."
            ) from None
        return cls(
            model,
            lookback=state["lookback"],
            transforms=transforms,
            num_targets=state["num_targets"],
        )
