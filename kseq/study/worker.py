"""Study workers: the Optuna study on its storage, the objective, grid queueing, stale trials."""

import time
from pathlib import Path

from kseq.recipes.config import load_recipe
from kseq.study.pruning import make_pruning_callback
from kseq.study.spec import objective_value, suggest


def storage_url(storage, out_dir):
    """The storage URL: the given one, or SQLite ``study.db`` in `out_dir`."""
    return f"sqlite:///{Path(out_dir).resolve() / 'study.db'}" if storage is None else storage


def make_study(spec, storage):
    import optuna

    settings = spec.settings
    if settings.sampler in ("grid", "random"):
        # Grid points are enqueued trials (see queue_grid); the sampler only fills gaps.
        sampler = optuna.samplers.RandomSampler(seed=settings.seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=settings.seed)
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
        if settings.pruner == "median"
        else optuna.pruners.NopPruner()
    )
    return optuna.create_study(
        study_name=settings.name,
        storage=storage,
        sampler=sampler,
        pruner=pruner,
        direction=settings.direction,
        load_if_exists=True,
    )


def run_worker(spec, storage, out_dir, *, epochs=None, verbose=0):
    """Runs trials until the study has `budget` finished (complete or pruned) trials."""
    import optuna

    from kseq.pipeline.run import run_recipe

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = make_study(spec, storage)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    target = spec.budget

    def objective(trial):
        overrides = list(spec.overrides)
        for key, space in spec.space.items():
            section, name = key.split(".", 1)
            overrides.append((section, name, suggest(trial, key, space)))
        if epochs is not None:
            overrides.append(("training", "epochs", epochs))
        # Runs are seeded, so a point TPE proposes again would give the same value: reuse it.
        for previous in study.get_trials(
            deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
        ):
            if previous.params == trial.params and previous.number != trial.number:
                trial.set_user_attr("duplicate_of", previous.number)
                for key in ("epochs", "seconds", "run_dir", "backend"):
                    if key in previous.user_attrs:
                        trial.set_user_attr(key, previous.user_attrs[key])
                return previous.value
        recipe = load_recipe(spec.recipe, overrides)
        run_dir = Path(out_dir) / "trials" / f"trial_{trial.number:04d}"
        started = time.perf_counter()
        card = run_recipe(
            recipe, run_dir=run_dir, verbose=verbose, callbacks=[make_pruning_callback(trial)]
        )
        trial.set_user_attr("epochs", card.epochs_run)
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("backend", card.backend)
        return objective_value(card, spec.settings.objective)

    def stop_when_grid_is_done(study, trial):
        waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
        if spec.settings.sampler == "grid" and not waiting:
            study.stop()

    done = sum(t.state in finished for t in study.get_trials(deepcopy=False))
    if done < target:
        study.optimize(
            objective,
            n_trials=target - done,
            callbacks=[
                optuna.study.MaxTrialsCallback(target, states=finished),
                stop_when_grid_is_done,
            ],
            catch=(),
        )
    return study


def fail_stale_trials(storage, name):
    """Fails the RUNNING trials of a local study: the process that ran them was killed."""
    import optuna

    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:  # no such study yet
        return 0
    stale = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in stale:
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    return len(stale)


def queue_grid(study, space, seed):
    """Enqueues every grid point that no finished, waiting or running trial covers.

    Grid search as enqueued trials survives kills: a failed point is simply queued again
    (Optuna's GridSampler counts failed points as visited).
    """
    import itertools

    import numpy as np
    import optuna

    keys = list(space)
    points = list(itertools.product(*(space[k] for k in keys)))
    order = np.random.default_rng(seed).permutation(len(points))
    states = tuple(optuna.trial.TrialState)
    covered = set()
    for trial in study.get_trials(deepcopy=False, states=states):
        if trial.state.name in ("COMPLETE", "PRUNED", "WAITING", "RUNNING"):
            params = trial.params or trial.system_attrs.get("fixed_params", {})
            covered.add(tuple(params.get(k) for k in keys))
    queued = 0
    for i in order:
        if points[i] not in covered:
            study.enqueue_trial(dict(zip(keys, points[i], strict=True)))
            queued += 1
    return queued
