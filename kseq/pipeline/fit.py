"""Stages 4-6, window/build/fit: a recipe and a `SplitSeries` → `FitResult`.

Each ensemble member is built from the registered builder, compiled with its head's loss and
trained on windows of the training part (validation windows read the end of train as context).
With ``[training] refit`` each member is trained again, from the same initial weights, on train
+ validation for the epochs that were best on validation.
"""

import shutil
from pathlib import Path

import numpy as np

from kseq._keras import keras
from kseq.forecaster import Forecaster
from kseq.models.builders import build_ensemble
from kseq.models.registry import build_model
from kseq.pipeline.values import FitResult
from kseq.training_config import TrainingConfig


def make_optimizer(training):
    return keras.optimizers.get(
        {"class_name": training.optimizer, "config": {"learning_rate": training.learning_rate}}
    )


def make_callbacks(training, backup_dir, resume, monitor):
    """TerminateOnNaN, a backup to resume from, and early stopping when the recipe asks."""
    backup = Path(backup_dir) / "backup"
    if backup.exists() and not resume:
        shutil.rmtree(backup)
    callbacks = [keras.callbacks.TerminateOnNaN(), keras.callbacks.BackupAndRestore(str(backup))]
    if training.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                patience=training.patience,
                start_from_epoch=training.start_from_epoch,
                restore_best_weights=True,
            )
        )
    return callbacks


def best_epoch(val_loss, start_from_epoch=0):
    """The 1-based epoch whose weights early stopping kept (it skips `start_from_epoch`)."""
    if len(val_loss) <= start_from_epoch:
        return len(val_loss)  # stopped (NaN) before monitoring began: the last weights stay
    return start_from_epoch + int(np.argmin(val_loss[start_from_epoch:])) + 1


def kept_epoch(val_loss, training):
    """The epoch whose weights the member ends with: early stopping's pick, or the last."""
    if training.early_stopping:
        return best_epoch(val_loss, training.start_from_epoch)
    return len(val_loss)


def build_member(recipe, num_features, member, transforms):
    """A compiled, unfitted `Forecaster` for ensemble member `member` (seeded `seed + member`:
    members differ in initial weights, dropout masks and batch order only)."""
    seed = recipe.recipe.seed + member
    keras.utils.set_random_seed(seed)
    name = "forecaster" if recipe.training.ensemble == 1 else f"member_{member}"
    model = build_model(
        recipe.model,
        lookback=recipe.windows.lookback,
        num_features=num_features,
        horizon=recipe.windows.horizon,
        num_targets=recipe.data.num_targets,
        seed=seed,
        name=name,
    )
    training = recipe.training
    forecaster = Forecaster(
        model,
        lookback=recipe.windows.lookback,
        transforms=transforms,
        num_targets=recipe.data.num_targets,
    )
    model.compile(
        optimizer=make_optimizer(training),
        loss=forecaster.head.default_loss(),
        steps_per_execution=training.steps_per_execution,
    )
    return forecaster


def combine_members(forecasters):
    """One forecaster averaging the members' outputs (the first member when there is one)."""
    first = forecasters[0]
    if len(forecasters) == 1:
        return first
    model = build_ensemble([f.model for f in forecasters])
    return Forecaster(
        model, lookback=first.lookback, transforms=first.transforms, num_targets=first.num_targets
    )


def fit_forecaster(
    recipe, data, transforms, *, run_dir, resume=False, verbose="auto", callbacks=()
):
    """Trains every ensemble member of `recipe` on `data` (a `SplitSeries`).

    Args:
        recipe: a validated `Recipe`.
        data: the run's `SplitSeries`.
        transforms: the unfitted `TransformPipeline` shared by the members (fitted here on the
            training part, or beforehand on everything when ``fit_on = "all"``).
        run_dir: where each member's backup for `resume` lives.
        resume: continue from the backups of an interrupted run.
        verbose: Keras progress-bar setting.
        callbacks: extra callbacks for the first member (e.g. a study's pruning).
    """
    training, seed = recipe.training, recipe.recipe.seed
    values = data.values
    train_all = training.train_on == "all"
    if recipe.transforms.fit_on == "all":
        transforms.fit(values)
    train_values = values if train_all else data.train
    validation_values = None if train_all else data.validation
    monitor = "val_loss" if validation_values is not None and len(validation_values) else "loss"
    members, histories, refits, refit_epochs = [], [], [], []
    for member in range(training.ensemble):
        forecaster = build_member(recipe, values.shape[1], member, transforms)
        backup_dir = run_dir if training.ensemble == 1 else Path(run_dir) / forecaster.model.name
        config = TrainingConfig.from_recipe(
            training, recipe.windows, seed=seed + member, verbose=verbose
        )
        history = forecaster.fit(
            train_values,
            validation_values,
            training=config,
            # Pruning and other extra callbacks watch the first member only.
            callbacks=make_callbacks(training, backup_dir, resume, monitor)
            + (list(callbacks) if member == 0 else []),
            fit_transforms=recipe.transforms.fit_on == "train" and member == 0,
        )
        members.append(forecaster)
        histories.append(history.history)
        if training.refit:
            # The transforms stay fitted on train.
            refit = build_member(recipe, values.shape[1], member, transforms)
            epochs = kept_epoch(history.history["val_loss"], training)
            refit_history = refit.fit(
                values[: data.split.validation.stop],
                training=TrainingConfig.from_recipe(
                    training, recipe.windows, seed=seed + member, epochs=epochs, verbose=verbose
                ),
                callbacks=[keras.callbacks.TerminateOnNaN()],
                fit_transforms=False,
            )
            refits.append(refit)
            refit_epochs.append(len(refit_history.history["loss"]))
    forecaster = combine_members(members)
    best = None
    if monitor == "val_loss":
        best = [best_epoch(h["val_loss"], training.start_from_epoch) for h in histories]
    return FitResult(
        forecaster=forecaster,
        final=combine_members(refits) if refits else forecaster,
        histories=histories,
        monitor=monitor,
        best_epochs=best,
        refit_epochs=refit_epochs or None,
    )
