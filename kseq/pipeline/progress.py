"""One progress bar for a whole stage (every epoch of every ensemble member), not one per
epoch: Keras's `Progbar` driven by a callback shared across the members' `fit` calls."""

from kseq._keras import keras


class StageProgress(keras.callbacks.Callback):
    """Advances one `keras.utils.Progbar` of `total` training steps across several fits.

    Early stopping ends a member before its last epoch, so the bar can finish short of
    `total`; `close` completes it.
    """

    def __init__(self, total=None, label="training"):
        super().__init__()
        self.bar = keras.utils.Progbar(total, unit_name=label)
        self.done = 0

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1
        shown = {k: v for k, v in (logs or {}).items() if k == "loss"}
        self.bar.update(self._position(), values=list(shown.items()))

    def on_epoch_end(self, epoch, logs=None):
        if logs and "val_loss" in logs:
            self.bar.update(self._position(), values=[("val_loss", logs["val_loss"])])

    def _position(self):
        target = self.bar.target
        return self.done if target is None else min(self.done, target)

    def close(self):
        self.bar.update(
            self._position() if self.bar.target is None else self.bar.target, finalize=True
        )
