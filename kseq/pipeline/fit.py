"""Stages 4-6, window/build/fit: a recipe and a `SplitSeries` → `FitResult`.

Each ensemble member is built from the registered builder, compiled with its head's loss and
trained on windows of the training part (validation windows read the end of train as context).
With ``[training] refit`` each member is trained again, from the same initial weights, on train
+ validation for the epochs that were best on validation.
"""

import dataclasses
import shutil
from pathlib import Path

import numpy as np

from kseq._io import CHECKPOINTS
from kseq._keras import keras
from kseq.callbacks import (
    ResumableEarlyStopping,
    TrainingCheckpoint,
    clear_checkpoints,
    read_checkpoint,
    restore_model_state,
)
from kseq.errors import ConfigError
from kseq.forecaster import Forecaster
from kseq.models.builders import build_ensemble
from kseq.models.registry import build_model
from kseq.pipeline.progress import StageProgress
from kseq.pipeline.related import cut_related
from kseq.pipeline.transform import fit_transforms
from kseq.pipeline.values import FitResult
from kseq.runtime import (
    choose_steps_per_execution,
    distribution_scope,
    make_data_parallel,
)
from kseq.training_config import TrainingConfig


def make_optimizer(training):
    return keras.optimizers.get(
        {"class_name": training.optimizer, "config": {"learning_rate": training.learning_rate}}
    )


def checkpoint_dir(run_dir, name):
    """Where the checkpoints of model `name` (``member_0``, ``member_0_refit``) live."""
    return Path(run_dir) / CHECKPOINTS / name


def clear_run_checkpoints(run_dir):
    """Removes a run's checkpoints (a finished run needs none)."""
    shutil.rmtree(Path(run_dir) / CHECKPOINTS, ignore_errors=True)


def fit_member(model, fit, training, *, directory, resume, monitor, label, callbacks=()):
    """Trains one model with resumable checkpoints; returns its whole history.

    With `resume`, the newest intact checkpoint in `directory` is restored first (weights,
    optimizer, dropout seeds, early-stopping counters and history) and training continues at
    its epoch; a model whose training had ended is only restored. Without it, old
    checkpoints are removed.

    Args:
        model: the compiled Keras model.
        fit: ``fit(initial_epoch, callbacks)`` runs the model's `fit` (through its forecaster).
        training: the recipe's `TrainingSection`.
        directory: this model's checkpoint folder (`checkpoint_dir`).
        resume: continue from the checkpoint.
        monitor: ``"val_loss"`` or ``"loss"``, watched by early stopping.
        label: the model's name in messages (``"member 2"``).
        callbacks: more callbacks (progress, pruning), run after the checkpoint's.

    Returns:
        ``{name: [value per epoch]}`` over every epoch, resumed ones included.
    """
    state = read_checkpoint(directory) if resume else None
    if not resume:
        clear_checkpoints(directory)
    if state is not None:
        restore_model_state(model, state)
        if state.complete:
            return state.history
    early = None
    if training.early_stopping:
        early = ResumableEarlyStopping(
            monitor=monitor,
            patience=training.patience,
            start_from_epoch=training.start_from_epoch,
            restore_best_weights=True,
        )
        if state is not None and state.early_stopping is not None:
            early.restore(state.early_stopping, state.best_variables)
    checkpoint = TrainingCheckpoint(
        directory,
        every_epochs=training.checkpoint_every,
        every_seconds=training.checkpoint_seconds,
        early_stopping=early,
        state=state,
        label=label,
    )
    # Early stopping before the checkpoint: the checkpoint records its updated counters.
    listed = [keras.callbacks.TerminateOnNaN(), *([early] if early else []), checkpoint]
    fit(state.epoch if state else 0, [*listed, *callbacks])
    return checkpoint.history


def make_distribution(training):
    """The data-parallel engine a recipe's ``[training] distribution`` asks for, or `None`."""
    if training.distribution != "data_parallel":
        return None
    engine = make_data_parallel()
    multiple = engine.batch_multiple
    size = training.batch_size
    if size % multiple:
        suggested = multiple * max(1, round(size / multiple))
        raise ConfigError(
            f"[training] batch_size = {size} must be a multiple of the {multiple} devices it "
            f"is split over ({engine.engine}); set --set training.batch_size={suggested}."
        )
    return engine


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
    forecaster = Forecaster(
        model,
        lookback=recipe.windows.lookback,
        transforms=transforms,
        num_targets=recipe.data.num_targets,
    )
    compile_forecaster(forecaster, recipe.training)
    return forecaster


def compile_forecaster(forecaster, training):
    """Compiles `forecaster`'s model with the ``[training]`` optimizer and its head's loss."""
    forecaster.model.compile(
        optimizer=make_optimizer(training),
        loss=forecaster.head.default_loss(),
        steps_per_execution=choose_steps_per_execution(training.steps_per_execution),
    )


def make_fit(forecaster, config, engine, train, validation=None, related=()):
    """The ``fit(initial_epoch, callbacks)`` that `fit_member` runs: `forecaster` trained on
    `train` (and `related`), validated on `validation`, its transforms kept as fitted."""

    def fit(initial_epoch, callbacks):
        with distribution_scope(engine):
            forecaster.fit(
                train,
                validation,
                related=related,
                training=dataclasses.replace(config, initial_epoch=initial_epoch),
                callbacks=callbacks,
                fit_transforms=False,
            )

    return fit


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
    recipe,
    data,
    transforms,
    *,
    run_dir,
    related=None,
    resume=False,
    verbose="auto",
    callbacks=(),
):
    """Trains every ensemble member of `recipe` on `data` (a `SplitSeries`).

    Args:
        recipe: a validated `Recipe`.
        data: the run's `SplitSeries`.
        transforms: the unfitted `TransformPipeline` shared by the members (fitted here on the
            training part, or on everything when ``fit_on = "all"``).
        related: the `Panel` of ``[data] related`` (or `None`): every member also trains on
            its series up to the training part's last date (a refit: the validation part's).
        run_dir: the run folder; each member's checkpoints live in its ``checkpoints/``.
        resume: continue from the checkpoints of an interrupted run.
        verbose: Keras progress-bar setting.
        callbacks: extra callbacks for the first member (e.g. a study's pruning).
    """
    training, values = recipe.training, data.values
    train_values, validation_values = split_training(recipe, data)
    fit_shared_transforms(recipe, data, transforms, train_values)
    monitor = "val_loss" if validation_values is not None and len(validation_values) else "loss"
    related_train = cut_run_related(recipe, data, related, transforms, len(train_values))
    related_refit = None
    if training.refit:
        stop = data.split.validation.stop
        related_refit = cut_run_related(recipe, data, related, transforms, stop)
    progress, verbose = make_progress(training, verbose)
    engine = make_distribution(training)
    bar = [progress] if progress else []
    options = dict(recipe=recipe, transforms=transforms, engine=engine, run_dir=run_dir)
    options.update(resume=resume, verbose=verbose)
    members, histories, refits, refit_epochs = [], [], [], []
    for member in range(training.ensemble):
        forecaster, history = train_member(
            member,
            train_values,
            validation_values,
            monitor=monitor,
            related=related_train,
            # Pruning and other extra callbacks watch the first member only.
            callbacks=[*(callbacks if member == 0 else []), *bar],
            **options,
        )
        members.append(forecaster)
        histories.append(history)
        if training.refit:
            # From scratch on train + validation for the kept epochs (transforms as on train).
            refit, refit_history = train_member(
                member,
                values[: data.split.validation.stop],
                epochs=kept_epoch(history["val_loss"], training),
                related=related_refit,
                callbacks=bar,
                **options,
            )
            refits.append(refit)
            refit_epochs.append(len(refit_history["loss"]))
    if progress is not None:
        progress.close()
    forecaster = combine_members(members)
    start = training.start_from_epoch
    best = [best_epoch(h["val_loss"], start) for h in histories] if monitor == "val_loss" else None
    return FitResult(
        forecaster=forecaster,
        final=combine_members(refits) if refits else forecaster,
        histories=histories,
        monitor=monitor,
        best_epochs=best,
        refit_epochs=refit_epochs or None,
        distribution=engine.describe() if engine else None,
        related=related_train.describe(recipe.data.related) if related_train else None,
    )


def split_training(recipe, data):
    """``(train, validation)`` values the members fit and monitor: the training and validation
    parts, or with ``[training] train_on = "all"`` the whole series and none."""
    if recipe.training.train_on == "all":
        return data.values, None
    return data.train, data.validation


def fit_shared_transforms(recipe, data, transforms, train_values):
    """Fits the members' shared transforms once, before any member (a resumed member may not
    train at all): on the training part, or on everything when the recipe says so."""
    values = data.values
    fit_part = values if recipe.transforms.fit_on == "all" else train_values
    fit_transforms(transforms, recipe.transforms, fit_part, values, data.series.columns)


def make_progress(training, verbose):
    """``(bar, verbose)``: one bar over every member's (and refit's) epochs instead of
    Keras's bar per epoch, and Keras's own setting then (0); ``(None, verbose)`` when quiet."""
    if verbose in (0, "0"):
        return None, verbose
    runs = training.ensemble * (2 if training.refit else 1)
    return StageProgress(runs * training.epochs, label="epoch", per="epoch"), 0


def train_member(
    member,
    values,
    validation=None,
    *,
    recipe,
    transforms,
    epochs=None,
    monitor="loss",
    engine,
    related,
    run_dir,
    resume,
    verbose,
    callbacks,
):
    """Member `member` built and trained on `values` (monitoring `validation`): the first
    fit, or with `epochs` the refit of the member (no early stopping, its own checkpoints):
    ``(forecaster, history)``."""
    with distribution_scope(engine):
        forecaster = build_member(recipe, values.shape[1], member, transforms)
    config = make_member_config(recipe, member, epochs=epochs, verbose=verbose, engine=engine)
    windows = make_fit(
        forecaster, config, engine, values, validation, related=related.values if related else ()
    )
    history = fit_ensemble_member(
        forecaster.model,
        windows,
        recipe.training,
        member,
        refit=epochs is not None,
        run_dir=run_dir,
        resume=resume,
        monitor=monitor,
        callbacks=callbacks,
    )
    return forecaster, history


def make_member_config(recipe, member, *, epochs, verbose, engine):
    """The `TrainingConfig` of member `member` (its seed: the recipe's + `member`), for
    `epochs` (the recipe's when `None`), its batches a multiple of the engine's devices."""
    return TrainingConfig.from_recipe(
        recipe.training,
        recipe.windows,
        seed=recipe.recipe.seed + member,
        epochs=epochs,
        verbose=verbose,
        batch_multiple=engine.batch_multiple if engine else 1,
    )


def fit_ensemble_member(
    model, fit, training, member, *, refit, run_dir, resume, monitor, callbacks
):
    """`fit_member` for member `member` of an ensemble in ``run_dir/checkpoints/member_<k>``,
    or for its refit (`refit`: no early stopping, ``member_<k>_refit``)."""
    return fit_member(
        model,
        fit,
        dataclasses.replace(training, early_stopping=False) if refit else training,
        directory=checkpoint_dir(run_dir, f"member_{member}" + ("_refit" if refit else "")),
        resume=resume,
        monitor=monitor,
        label=f"the refit of member {member}" if refit else f"member {member}",
        callbacks=callbacks,
    )


def cut_run_related(recipe, data, related, transforms, stop):
    """`related` (a `Panel`, or `None`) up to the date of the series' point before `stop`:
    the `RelatedCut` a fit on ``values[:stop]`` trains on beside them."""
    if related is None:
        return None
    min_length = recipe.windows.lookback + transforms.context_length + recipe.windows.horizon
    # Seasonal indices are estimated from two seasons of each related series at least.
    min_length = max(min_length, 2 * recipe.transforms.seasonal_adjust)
    return cut_related(
        related, data.series.index[stop - 1], min_length, positive=recipe.transforms.log
    )
