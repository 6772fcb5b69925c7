"""One progress bar for a whole stage (every epoch of every ensemble member), not one per
epoch: Keras's `Progbar` driven by a callback shared across the members' `fit` calls.

On a terminal the bar is redrawn in place; with standard output redirected to a file or a pipe
it prints one line when the stage ends (Keras's ``verbose=2``), so logs hold no carriage
returns or backspaces."""

import sys

from kseq._keras import keras


class StageProgress(keras.callbacks.Callback):
    """Advances one `keras.utils.Progbar` of `total` training steps (or epochs) across
    several fits.

    Early stopping ends a member before its last epoch, so the bar can finish short of
    `total`; `close` completes it.

    Args:
        total: steps (or epochs) of the whole stage; `None` when unknown.
        label: the bar's unit name.
        per: ``"step"`` advances after every batch; ``"epoch"`` after every epoch (short
            epochs of one series, whose step count is not known before the windows are cut).
    """

    def __init__(self, total=None, label="training", per="step"):
        super().__init__()
        if per not in ("step", "epoch"):
            raise ValueError(f"`per` must be 'step' or 'epoch'; received {per!r}.")
        terminal = sys.stdout.isatty()
        self.bar = keras.utils.Progbar(total, unit_name=label, verbose=1 if terminal else 2)
        self.per = per
        self.done = 0

    def on_train_batch_end(self, batch, logs=None):
        if self.per != "step":
            return
        self.done += 1
        shown = {k: v for k, v in (logs or {}).items() if k == "loss"}
        self.bar.update(self._position(), values=list(shown.items()))

    def on_epoch_end(self, epoch, logs=None):
        shown = [(k, v) for k, v in (logs or {}).items() if k in ("loss", "val_loss")]
        if self.per == "epoch":
            self.done += 1
            self.bar.update(self._position(), values=shown)
        elif logs and "val_loss" in logs:
            self.bar.update(self._position(), values=[("val_loss", logs["val_loss"])])

    def _position(self):
        target = self.bar.target
        return self.done if target is None else min(self.done, target)

    def close(self):
        target = self.bar.target
        if target is not None and self.done >= target:
            return  # the last update reached the target, which finalized the bar
        self.bar.update(self._position() if target is None else target, finalize=True)
