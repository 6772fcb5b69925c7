"""Pretraining the network on many series: windows in, a fitted Keras model out."""

import time
from dataclasses import dataclass

import numpy as np

from kseq._keras import keras
from kseq.pretrained.network import build_network, make_pinball_loss


@dataclass(frozen=True)
class PretrainingConfig:
    """How the network is built and trained.

    Attributes:
        lookback: context length (steps).
        horizon: output steps (the longest horizon of the corpus).
        units, num_layers: LSTM sizes.
        batch_size, learning_rate: Adam's batches and step size.
        max_epochs: passes over the windows at most.
        patience: epochs without a better validation loss before stopping.
        max_minutes: wall-clock budget of the fit (stops after the epoch that crosses it).
        seed: weights, shuffling and dropout.
    """

    lookback: int = 48
    horizon: int = 24
    units: int = 64
    num_layers: int = 2
    batch_size: int = 512
    learning_rate: float = 1e-3
    max_epochs: int = 40
    patience: int = 3
    max_minutes: float = 12.0
    seed: int = 1


class _TimeBudget(keras.callbacks.Callback):
    """Stops training after the epoch in which `seconds` have passed."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds
        self.start = None

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True


@dataclass(frozen=True)
class PretrainingResult:
    """A fitted network and how its training went.

    Attributes:
        model: the Keras model (the best epoch's weights when validated).
        epochs: epochs run; best_epoch: the epoch kept (1-based).
        history: ``{"loss": [...], "val_loss": [...]}``.
        seconds: wall time of the fit.
    """

    model: object
    epochs: int
    best_epoch: int
    history: dict
    seconds: float


def pretrain_network(windows, config, *, validation=None, epochs=None, callbacks=()):
    """Fits a new network on `windows` (a `TrainingWindows`).

    Args:
        windows: the training windows.
        config: a `PretrainingConfig`.
        validation: windows scored after every epoch; with them training stops when the
            validation loss has not improved for `config.patience` epochs and the best
            epoch's weights are kept.
        epochs: a fixed number of epochs (overrides `config.max_epochs`; used to refit on
            all windows for the epochs a validated run chose).
        callbacks: more Keras callbacks (progress, checkpoints).
    """
    keras.utils.set_random_seed(config.seed)
    model = build_network(
        lookback=config.lookback,
        horizon=config.horizon,
        units=config.units,
        num_layers=config.num_layers,
        seed=config.seed,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
        loss=make_pinball_loss(),
    )
    stops = [_TimeBudget(60.0 * config.max_minutes), *callbacks]
    validation_data = None
    if validation is not None:
        validation_data = ([validation.steps, validation.kinds], validation.targets)
        stops.append(
            keras.callbacks.EarlyStopping(
                patience=config.patience, restore_best_weights=True, verbose=0
            )
        )
    tick = time.perf_counter()
    history = model.fit(
        [windows.steps, windows.kinds],
        windows.targets,
        batch_size=config.batch_size,
        epochs=int(epochs or config.max_epochs),
        validation_data=validation_data,
        shuffle=True,
        callbacks=stops,
        verbose=0,
    ).history
    seconds = time.perf_counter() - tick
    run = len(history["loss"])
    best = int(np.argmin(history["val_loss"])) + 1 if "val_loss" in history else run
    history = {key: [float(v) for v in values] for key, values in history.items()}
    return PretrainingResult(model, run, best, history, round(seconds, 1))


__all__ = ["PretrainingConfig", "PretrainingResult", "pretrain_network"]
