"""Fine-tuning the pretrained network on a user's panel: its windows before the last `horizon`
points of each series train a copy of the network; the windows whose targets are those last
points stop it early, and decide whether the tuned copy is kept at all."""

import time
from dataclasses import dataclass

import numpy as np

from kseq._keras import keras
from kseq.pretrained.inputs import make_training_windows, read_kind
from kseq.pretrained.network import make_pinball_loss

# Chosen on the validation loss of one out-of-corpus panel (US employment, 148 monthly series;
# 1e-4 reached 0.1254, 3e-4 0.1261): small steps keep what the corpus taught.
LEARNING_RATE = 1e-4
MAX_EPOCHS = 20
PATIENCE = 3
BATCH_SIZE = 512
# The latest windows per series (long series would otherwise outweigh short ones), and the
# fewest observed points before a window's origin, as in pretraining.
MAX_WINDOWS_PER_SERIES = 80
MIN_CONTEXT = 3


@dataclass(frozen=True)
class FineTuning:
    """How a fine-tuning went.

    Attributes:
        kept: whether the tuned network replaced the shipped one (its validation loss was
            lower than the shipped network's).
        loss_before, loss_after: validation pinball loss of the shipped network and of the
            best epoch (``None`` when there was nothing to validate on).
        epochs, best_epoch: epochs run, and the one kept.
        num_windows: training windows.
        seconds: wall time.
    """

    kept: bool
    loss_before: float | None
    loss_after: float | None
    epochs: int
    best_epoch: int
    num_windows: int
    seconds: float


def fine_tune(forecaster, panel, horizon, *, seed=0, max_epochs=MAX_EPOCHS):
    """A copy of `forecaster` (a `PretrainedForecaster`) trained further on `panel`, and a
    `FineTuning` record; `forecaster` itself when there are too few windows or the tuned copy
    does not beat it on the validation windows (each series' last `horizon` points).

    Nothing after `panel`'s end is read: the validation windows' targets are its last points.
    """
    tick = time.perf_counter()
    kind = read_kind(panel.freq)
    series = [panel.series(i) for i in range(len(panel))]
    horizon = int(min(horizon, forecaster.horizon))
    train = [values[:-horizon] for values in series if len(values) > horizon + MIN_CONTEXT]
    options = dict(lookback=forecaster.lookback, horizon=forecaster.horizon, kind_horizon=horizon)
    windows = make_training_windows(train, kind, **options, min_context=MIN_CONTEXT,
                                    max_windows_per_series=MAX_WINDOWS_PER_SERIES)  # fmt: skip
    validation = make_training_windows(series, kind, **options, min_context=1,
                                       max_windows_per_series=horizon)  # fmt: skip
    if not len(windows.targets) or not len(validation.targets):
        record = FineTuning(False, None, None, 0, 0, len(windows.targets), 0.0)
        return forecaster, record
    keras.utils.set_random_seed(seed)
    model = keras.models.clone_model(forecaster.model)
    model.set_weights(forecaster.model.get_weights())
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE, clipnorm=1.0), loss=make_pinball_loss()
    )
    validation_data = ([validation.steps, validation.kinds], validation.targets)
    before = float(model.evaluate(*validation_data, batch_size=BATCH_SIZE, verbose=0))
    history = model.fit(
        [windows.steps, windows.kinds],
        windows.targets,
        batch_size=BATCH_SIZE,
        epochs=max_epochs,
        validation_data=validation_data,
        shuffle=True,
        callbacks=[keras.callbacks.EarlyStopping(patience=PATIENCE, restore_best_weights=True)],
        verbose=0,
    ).history
    losses = [float(v) for v in history["val_loss"]]
    best = int(np.argmin(losses))
    kept = losses[best] < before
    record = FineTuning(
        kept, before, losses[best], len(losses), best + 1 if kept else 0,
        len(windows.targets), round(time.perf_counter() - tick, 2),
    )  # fmt: skip
    if not kept:
        return forecaster, record
    tuned = type(forecaster)(
        model,
        quantiles=forecaster.quantiles,
        rule=forecaster.rule,
        trained_on=[*forecaster.trained_on, "fine-tuned"],
    )
    return tuned, record
