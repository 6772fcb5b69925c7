"""Study workers: the Optuna study on its storage, the objective, grid queueing, stale trials.

On a shared database (PostgreSQL, MySQL) every worker's running trial records a heartbeat
(Optuna's `RDBStorage(heartbeat_interval=...)`); a trial whose worker has been silent for
three heartbeats (killed, or its machine lost) is failed by the next worker that looks, and
`RetryFailedTrialCallback` queues its parameters again, so it is re-run, once. The default
SQLite file serves one machine: there a RUNNING trial at start-up died with its process.
"""

import math
import os
import re
import socket
import time
import warnings
from pathlib import Path

from kseq.config import load_recipe
from kseq.errors import ConfigError, DataError, KseqWarning
from kseq.study.pruning import make_pruning_callback
from kseq.study.spec import objective_value, suggest

# A trial whose worker stays silent this many heartbeats is taken as dead.
GRACE_HEARTBEATS = 3


def storage_url(storage, out_dir):
    """The storage URL: the given one, or SQLite ``study.db`` in `out_dir`."""
    return f"sqlite:///{Path(out_dir).resolve() / 'study.db'}" if storage is None else storage


def check_storage(url):
    """Opens one connection to the storage at `url`, so that a URL that cannot serve the study
    is a `ConfigError` naming it before any trial starts (not an SQLAlchemy traceback)."""
    import sqlalchemy

    from kseq.errors import MissingDependencyError

    advice = "e.g. sqlite:///path/study.db or postgresql://user:password@host/database"
    # The password stays out of every message: SQLAlchemy's rendering, or a mask where the URL
    # does not parse.
    shown = re.sub(r":[^:@/]*@", ":***@", url)
    try:
        shown = sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
        engine = sqlalchemy.create_engine(url)
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError) as error:
        raise ConfigError(
            f"--storage {shown!r} is not a database URL ({error}); {advice}."
        ) from None
    except ImportError as error:
        raise MissingDependencyError(
            f"--storage {url.split(':', 1)[0]}://... needs its database driver ({error}): run "
            "`pip install 'kseq[postgresql]'` (psycopg) or the driver SQLAlchemy names."
        ) from None
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        check = (
            "that the database exists and its server is running"
            if is_shared(url)
            else "that its folder exists and is writable"
        )
        raise ConfigError(
            f"--storage {shown!r}: cannot connect ({reason}); check {check}."
        ) from None
    finally:
        engine.dispose()


def is_shared(url):
    """Whether workers on other machines may share the storage (a database server)."""
    return isinstance(url, str) and not url.startswith("sqlite")


def make_storage(url, heartbeat_seconds):
    """The Optuna storage of `url`: with heartbeats and retried stale trials on a shared
    database, as given for SQLite."""
    if not is_shared(url):
        return url
    import inspect

    import optuna

    from kseq.errors import MissingDependencyError

    retry = _retry_callback_class()(max_retry=3)
    # Optuna 4.9 renamed `failed_trial_callback` to `heartbeat_stale_trial_callback`.
    name = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback"
        in inspect.signature(optuna.storages.RDBStorage).parameters
        else "failed_trial_callback"
    )
    try:
        with warnings.catch_warnings():
            # Heartbeats are "experimental" in Optuna since 2.8; kseq relies on them knowingly.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                heartbeat_interval=max(1, round(heartbeat_seconds)),
                grace_period=max(2, round(GRACE_HEARTBEATS * heartbeat_seconds)),
                **{name: retry},
            )
    except ImportError as error:
        raise MissingDependencyError(
            f"--storage {url.split(':', 1)[0]}://... needs its database driver: run "
            "`pip install 'kseq[postgresql]'` (psycopg) or the driver SQLAlchemy names."
        ) from error


def _retry_callback_class():
    import optuna

    # Optuna 4.9 renamed RetryFailedTrialCallback to RetryHeartbeatStaleTrialCallback.
    storages = optuna.storages
    return getattr(storages, "RetryHeartbeatStaleTrialCallback", None) or (
        storages.RetryFailedTrialCallback
    )


def retried_trial_number(trial):
    """The number of the trial that `trial` re-runs (its worker went silent), or `None`."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _retry_callback_class().retried_trial_number(trial)


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
        storage=make_storage(storage, settings.heartbeat_seconds),
        sampler=sampler,
        pruner=pruner,
        direction=settings.direction,
        load_if_exists=True,
    )


class GridPointTaken(Exception):
    """This trial is no grid point of its own: another worker took the last queued point
    between this worker's look and its trial, or two workers that started together queued
    the same point twice. The trial is dropped (marked ``discarded``, left out of the report)."""


def is_grid_point_taken(study, number):
    """Whether trial `number` must give way: it was not queued, or an earlier trial that is
    running or finished holds the same grid point (the lower number wins, so of two twins
    exactly one runs)."""
    import optuna

    states = (
        optuna.trial.TrialState.RUNNING,
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
    )
    trials = study.get_trials(deepcopy=False, states=states)
    (this,) = [t for t in trials if t.number == number]
    point = this.system_attrs.get("fixed_params")
    if point is None:
        return True
    return any(
        (t.params or t.system_attrs.get("fixed_params")) == point
        for t in trials
        if t.number < number
    )


def run_worker(spec, storage, out_dir, *, epochs=None, verbose=0):
    """Runs trials until the study has `budget` finished (complete or pruned) trials.

    On a grid, a worker takes queued points only; when none is queued but other workers' trials
    are still running it waits for them (a dead one's point comes back after the grace
    period) and stops once every point is finished.
    """
    import optuna

    from kseq.pipeline.run import run_recipe

    # Errors only: a trial that raises re-raises here and `kseq study` reports it in one line
    # (Optuna's own warning would print its traceback first); a trial that fails without an
    # exception (an objective that is not a number) is reported by `report_failed`.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = make_study(spec, storage)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    grid = spec.settings.sampler == "grid"
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def objective(trial):
        trial.set_user_attr("worker", worker)
        if grid and is_grid_point_taken(study, trial.number):
            trial.set_user_attr("discarded", True)
            raise GridPointTaken()
        overrides = list(spec.overrides)
        for key, space in spec.space.items():
            section, name = key.split(".", 1)
            overrides.append((section, name, suggest(trial, key, space)))
        if epochs is not None:
            overrides.append(("training", "epochs", epochs))
        # Runs are seeded, so a point TPE proposes again would give the same value: reuse it.
        if (previous := find_duplicate(study, trial)) is not None:
            return previous.value
        recipe = load_recipe(spec.recipe, overrides)
        run_dir = Path(out_dir) / "trials" / f"trial_{trial.number:04d}"
        started = time.perf_counter()
        try:
            card = run_recipe(
                recipe, run_dir=run_dir, verbose=verbose, callbacks=[make_pruning_callback(trial)]
            )
        except (ConfigError, DataError) as error:
            # Which point of the space the data refused.
            point = ", ".join(f"{key} = {value!r}" for key, value in trial.params.items())
            raise type(error)(f"Trial {trial.number} ({point}): {error}") from error
        trial.set_user_attr("epochs", card.epochs_run)
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("backend", card.backend)
        value = objective_value(card, spec.settings.objective)
        if value is None or not math.isfinite(value):
            # Optuna fails the trial; it still counts towards the budget (`report_failed`).
            trial.set_user_attr("not_a_number", True)
        return value

    shared = is_shared(storage)
    while True:
        if shared:
            # Fails the trials of silent workers; the retry callback queues them again.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
        # Trials whose objective was not a number count too: a study whose every trial
        # diverges ends after its budget instead of sampling forever.
        done = sum(t.state in finished or bool(t.user_attrs.get("not_a_number")) for t in trials)
        if done >= spec.budget:
            break
        states = {t.state for t in trials}
        if grid and optuna.trial.TrialState.WAITING not in states:
            if optuna.trial.TrialState.RUNNING not in states:
                break  # every point is finished
            time.sleep(min(spec.settings.heartbeat_seconds, 1.0))
            continue
        study.optimize(objective, n_trials=1, catch=(GridPointTaken,), callbacks=[report_failed])
    return study


def find_duplicate(study, trial):
    """A complete trial of `study` at `trial`'s point, whose results `trial` records as its
    own (``duplicate_of``, epochs, seconds, run folder, backend); `None` when there is none."""
    import optuna

    for previous in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if previous.params == trial.params and previous.number != trial.number:
            trial.set_user_attr("duplicate_of", previous.number)
            for key in ("epochs", "seconds", "run_dir", "backend"):
                if key in previous.user_attrs:
                    trial.set_user_attr(key, previous.user_attrs[key])
            return previous
    return None


def report_failed(study, trial):
    """Says which trial failed without an exception: its objective was not a number (a loss
    that diverged, a metric undefined on the validation part); the study goes on."""
    import optuna

    if trial.state == optuna.trial.TrialState.FAIL and trial.user_attrs.get("not_a_number"):
        point = ", ".join(f"{key} = {value!r}" for key, value in trial.params.items())
        warnings.warn(
            f"Trial {trial.number} ({point}) failed: its objective is not a number (a diverged "
            "loss, or a metric undefined on the validation part); the study goes on.",
            KseqWarning,
            stacklevel=2,
        )


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
