"""Optuna pruning from Keras: each epoch's validation loss reported to the trial."""

import math


def make_pruning_callback(trial):
    """A Keras callback that reports ``val_loss`` to `trial` and stops hopeless trials."""
    import optuna

    from kseq._keras import keras

    class PruningCallback(keras.callbacks.Callback):
        """Reports each epoch's val_loss to Optuna and stops hopeless trials."""

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get("val_loss")
            if value is None or not math.isfinite(value):
                return
            trial.report(float(value), step=epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch} (val_loss {value:.4g})")

    return PruningCallback()
