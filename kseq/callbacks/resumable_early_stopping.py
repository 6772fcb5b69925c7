"""Keras's `EarlyStopping` with its counters saved in and restored from a checkpoint."""

import numpy as np

from kseq._keras import keras


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """`keras.callbacks.EarlyStopping` whose state survives an interrupted run.

    A fit that starts again at ``initial_epoch`` resets Keras's counters in
    `on_train_begin`; `restore` hands them back right after that reset, so a resumed run stops
    at the epoch the uninterrupted run stops at, and restores the same best weights.

    Args:
        **kwargs: `keras.callbacks.EarlyStopping` arguments.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._pending = None

    def get_state(self):
        """``(counters, best weights or None)``: JSON values and NumPy arrays."""
        best = self.best
        counters = {
            "wait": int(self.wait),
            "best": None if best is None or not np.isfinite(best) else float(best),
            "best_epoch": int(self.best_epoch),
        }
        weights = None if self.best_weights is None else [np.asarray(w) for w in self.best_weights]
        return counters, weights

    def restore(self, counters, weights):
        """Sets the counters (from `get_state`) once `on_train_begin` has reset them."""
        self._pending = (counters, weights)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._pending is None:
            return
        counters, weights = self._pending
        self._pending = None
        self.wait = counters["wait"]
        if counters["best"] is not None:
            self.best = counters["best"]
        self.best_epoch = counters["best_epoch"]
        self.best_weights = weights
