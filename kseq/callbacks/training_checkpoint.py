"""A Keras callback writing resumable training checkpoints (`checkpoint_state`)."""

import time

import numpy as np

from kseq._keras import keras
from kseq.callbacks.checkpoint_state import CheckpointState, write_checkpoint
from kseq.callbacks.interrupt_guard import InterruptGuard
from kseq.errors import SavedStateError


def read_model_state(model):
    """``(variables, optimizer variables)`` of `model` as NumPy arrays."""
    variables = [np.asarray(v.numpy()) for v in _model_variables(model)]
    optimizer = model.optimizer
    slots = [np.asarray(v.numpy()) for v in optimizer.variables] if optimizer else []
    return variables, slots


def restore_model_state(model, state):
    """Puts a `CheckpointState`'s variables and optimizer state back into compiled `model`."""
    variables = _model_variables(model)
    if len(variables) != len(state.variables):
        raise SavedStateError(
            f"The checkpoint holds {len(state.variables)} variables; the model has "
            f"{len(variables)}: it was written by another recipe. Run without --resume."
        )
    for variable, value in zip(variables, state.variables, strict=True):
        if tuple(variable.shape) != value.shape:
            raise SavedStateError(
                f"The checkpoint's {variable.path} has shape {value.shape}; the model's is "
                f"{tuple(variable.shape)}: it was written by another recipe. Run without --resume."
            )
        variable.assign(value)
    optimizer = model.optimizer
    if not state.optimizer:
        return
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    if len(optimizer.variables) != len(state.optimizer):
        raise SavedStateError(
            f"The checkpoint holds {len(state.optimizer)} optimizer variables; the optimizer "
            f"has {len(optimizer.variables)}. Run without --resume."
        )
    for variable, value in zip(optimizer.variables, state.optimizer, strict=True):
        variable.assign(value)


def _model_variables(model):
    # Trainable and non-trainable: the latter hold the dropout layers' seed-generator states,
    # so a resumed run draws the masks the uninterrupted run draws.
    return [*model.trainable_variables, *model.non_trainable_variables]


class TrainingCheckpoint(keras.callbacks.Callback):
    """Writes the training state at epoch ends, and the final state when training ends.

    A checkpoint is written when `every_epochs` epochs or `every_seconds` seconds have passed
    since the last one (whichever comes first; both 0: every epoch), never on the epoch that
    early stopping ends (the final checkpoint, with the restored best weights, follows at once).
    While a `InterruptGuard` is active, a SIGINT/SIGTERM stops training after the running batch.

    Args:
        directory: the checkpoint folder of this model.
        every_epochs: epochs between checkpoints (0: by time only).
        every_seconds: seconds between checkpoints (0: by epochs only).
        early_stopping: the run's `ResumableEarlyStopping` (listed before this callback), or
            `None`.
        state: the `CheckpointState` the run resumes from, or `None`.
        label: names the model in the interrupt message (``"member 2"``).
    """

    def __init__(
        self,
        directory,
        *,
        every_epochs=1,
        every_seconds=0.0,
        early_stopping=None,
        state=None,
        label="the model",
    ):
        super().__init__()
        if every_epochs < 0 or every_seconds < 0:
            raise ValueError(
                "`every_epochs` and `every_seconds` must be >= 0. "
                f"Received: {every_epochs!r}, {every_seconds!r}"
            )
        self.directory = directory
        self.every_epochs = int(every_epochs)
        self.every_seconds = float(every_seconds)
        self.early_stopping = early_stopping
        self.history = {k: list(v) for k, v in state.history.items()} if state else {}
        self.epoch = state.epoch if state else 0
        self.label = label
        self._saved_epoch = self.epoch
        self._saved_time = time.monotonic()
        self.written = 0

    def on_train_begin(self, logs=None):
        self._saved_time = time.monotonic()
        if InterruptGuard.active is not None:
            InterruptGuard.active.training = True

    def on_train_batch_end(self, batch, logs=None):
        InterruptGuard.check(f"in epoch {self.epoch + 1} of {self.label}")

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epoch = epoch + 1
        if not self.model.stop_training and self._due():
            self.write(complete=False)
        InterruptGuard.check(f"after epoch {self.epoch} of {self.label}")

    def on_train_end(self, logs=None):
        self.write(complete=True)
        if InterruptGuard.active is not None:
            InterruptGuard.active.training = False

    def _due(self):
        by_epochs = self.every_epochs and self.epoch - self._saved_epoch >= self.every_epochs
        by_time = self.every_seconds and time.monotonic() - self._saved_time >= self.every_seconds
        return bool(by_epochs or by_time or not (self.every_epochs or self.every_seconds))

    def write(self, complete):
        variables, optimizer = read_model_state(self.model)
        counters = best = None
        if self.early_stopping is not None:
            counters, best = self.early_stopping.get_state()
        write_checkpoint(
            self.directory,
            CheckpointState(
                epoch=self.epoch,
                history=self.history,
                variables=variables,
                optimizer=optimizer,
                early_stopping=counters,
                best_variables=best,
                complete=complete,
            ),
        )
        self._saved_epoch, self._saved_time = self.epoch, time.monotonic()
        self.written += 1
