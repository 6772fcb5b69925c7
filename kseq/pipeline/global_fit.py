"""The panel run's net: an ensemble of `GlobalForecaster`s trained on every series' history
before the test part (`fit_global` → `GlobalFit`), saved and loaded as one folder."""

import dataclasses
from pathlib import Path

import numpy as np

from kseq._keras import keras
from kseq.errors import SavedStateError
from kseq.global_forecaster import GlobalForecaster
from kseq.models.builders import head_of
from kseq.models.registry import build_model
from kseq.pipeline.fit import (
    fit_ensemble_member,
    kept_epoch,
    make_distribution,
    make_member_config,
    make_optimizer,
)
from kseq.pipeline.progress import StageProgress
from kseq.runtime import choose_steps_per_execution, distribution_scope
from kseq.saving import staged_folder


@dataclasses.dataclass
class GlobalFit:
    """The trained ensemble. With ``[training] refit`` the members were retrained on the
    validation part too; `validated` then holds the members trained before it, whose
    forecasts of the validation part are out of sample (`validation_fit`)."""

    members: list
    histories: list
    refit_epochs: list | None = None
    distribution: dict | None = None  # `DataParallel.describe()` when trained data-parallel
    validated: list | None = None

    def validation_fit(self):
        """The fit whose forecasts of the validation part never saw it."""
        if self.validated is None:
            return self
        return dataclasses.replace(self, members=self.validated, validated=None)

    def forecast(self, history, steps, intervals=()):
        """The members' mean forecast after each series of `history` (long DataFrame), with
        the members' mean interval bounds (quantile averaging) for each of `intervals`."""
        frames = [member.predict(history, steps, intervals) for member in self.members]
        frame = frames[0]
        for column in frame.columns.drop(["unique_id", "ds"]):
            frame[column] = np.mean([f[column].to_numpy() for f in frames], axis=0)
        return frame


MEMBER_PREFIX = "member_"


def save_global_fit(fit, directory, extra):
    """Saves every member of `fit` as ``directory/member_<k>`` (`GlobalForecaster.save`, each
    with `extra`); the folder is filled beside its place and renamed onto it."""
    directory = Path(directory)
    with staged_folder(directory) as staging:
        for k, member in enumerate(fit.members):
            member.save(staging / f"{MEMBER_PREFIX}{k}", extra=extra)
    return directory


def is_saved_global_fit(directory):
    return (Path(directory) / f"{MEMBER_PREFIX}0").is_dir()


def load_global_fit(directory):
    """The `GlobalFit` saved by `save_global_fit` (its members; no training histories) and
    the `extra` it was saved with; `SavedStateError` when members are missing or disagree."""
    directory = Path(directory)
    folders = {p.name: p for p in directory.iterdir() if p.name.startswith(MEMBER_PREFIX)}
    expected = [f"{MEMBER_PREFIX}{k}" for k in range(len(folders))]
    if sorted(folders) != sorted(expected):
        raise SavedStateError(
            f"{directory} holds members {sorted(folders)}; expected {expected}: save the run again."
        )
    members = [GlobalForecaster.load(folders[name]) for name in expected]
    extras = [member.saved_state_.get("extra", {}) for member in members]
    if any(extra != extras[0] for extra in extras):
        raise SavedStateError(
            f"The members in {directory} were saved by different runs: save the run again."
        )
    return GlobalFit(members, histories=[]), extras[0]


def fit_global(recipe, split, *, run_dir, resume=False, verbose="auto", callbacks=()):
    """Trains the recipe's ensemble of global nets on the history before the test part (a
    `PanelSplit`); with ``[training] refit``, each member again on the validation part too."""
    training = recipe.training
    progress = None
    if verbose not in (0, "0"):
        # One bar for the whole stage; Keras's own bars (one per epoch and member) stay off.
        runs = training.ensemble * (2 if training.refit else 1)
        steps = training.steps_per_epoch
        progress = StageProgress(steps and runs * training.epochs * steps, label="step")
        callbacks = [*callbacks, progress]
        verbose = 0
    engine = make_distribution(training)
    options = dict(recipe=recipe, engine=engine, run_dir=run_dir, resume=resume, verbose=verbose)
    members, histories, refit_epochs, validated = [], [], [], []
    for member in range(training.ensemble):
        forecaster, history = train_global_member(
            member,
            split,
            monitor="val_loss" if split.validation else "loss",
            callbacks=[c for c in callbacks if c is progress or member == 0],
            **options,
        )
        histories.append(history)
        if training.refit:
            validated.append(forecaster)
            # Again from the same initial weights, on every point before the test part, for
            # the epochs that were best on validation.
            forecaster, refit = train_global_member(
                member,
                split,
                epochs=kept_epoch(history["val_loss"], training),
                callbacks=[progress] if progress else [],
                **options,
            )
            refit_epochs.append(len(refit["loss"]))
        members.append(forecaster)
    if progress is not None:
        progress.close()
    return GlobalFit(
        members,
        histories,
        refit_epochs or None,
        engine.describe() if engine else None,
        validated=validated or None,
    )


def train_global_member(
    member,
    split,
    *,
    recipe,
    engine,
    run_dir,
    resume,
    verbose,
    callbacks,
    epochs=None,
    monitor="loss",
):
    """Member `member` built and trained on the history before the test part, its validation
    part scoring early stopping; with `epochs`, the member's refit on all of that history for
    that many epochs (no early stopping, its own checkpoints): ``(forecaster, history)``."""
    windows, seed = recipe.windows, recipe.recipe.seed + member
    num_features = 3 if windows.calendar and recipe.evaluation.season_length > 1 else 1
    num_features += len(recipe.data.static_columns)
    refit = epochs is not None
    validation = 0 if refit else split.validation
    with distribution_scope(engine):
        # The id embedding, when there is one, has a row per series.
        forecaster = _new_member(recipe, num_features, len(split.before_test), seed, member)
    config = make_member_config(recipe, member, epochs=epochs, verbose=verbose, engine=engine)
    # Before a resumed member is restored (it may not train again).
    forecaster.fit_transforms(split.before_test, validation=validation)

    def fit(initial_epoch, callbacks):
        with distribution_scope(engine):
            forecaster.fit(
                split.before_test,
                validation=validation,
                training=dataclasses.replace(config, initial_epoch=initial_epoch),
                callbacks=callbacks,
            )

    history = fit_ensemble_member(
        forecaster.model,
        fit,
        recipe.training,
        member,
        refit=refit,
        run_dir=run_dir,
        resume=resume,
        monitor=monitor,
        callbacks=callbacks,
    )
    return forecaster, history


def _new_member(recipe, num_features, num_series, seed, member):
    keras.utils.set_random_seed(seed)
    model = build_model(
        recipe.model,
        lookback=recipe.windows.lookback,
        num_features=num_features,
        horizon=recipe.windows.horizon,
        num_targets=1,
        seed=seed,
        name="forecaster" if recipe.training.ensemble == 1 else f"member_{member}",
        num_series=num_series if recipe.model.series_embedding else 0,
    )
    # A point head is trained on the windows' absolute error; a quantile head on its own
    # pinball loss.
    head = head_of(model)
    loss = head.default_loss() if head.is_probabilistic else "mae"
    model.compile(
        optimizer=make_optimizer(recipe.training),
        loss=loss,
        steps_per_execution=choose_steps_per_execution(recipe.training.steps_per_execution),
    )
    return GlobalForecaster(
        model,
        lookback=recipe.windows.lookback,
        season_length=recipe.evaluation.season_length,
        calendar=recipe.windows.calendar,
        sampling=recipe.windows.sampling,
        scaler=recipe.transforms.scaler,
        static_columns=recipe.data.static_columns,
    )
