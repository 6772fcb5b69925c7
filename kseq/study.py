"""Hyperparameter studies on Optuna: a base recipe, a search space, a validation objective.

A study file is TOML::

    [study]
    name = "sine-study"
    recipe = "sines"                 # bundled recipe name or a path
    objective = "validation.recursive.rmse"
    direction = "minimize"
    sampler = "grid"                 # grid | tpe | random
    pruner = "median"                # median | none
    trials = 60

    [overrides]                      # applied to the recipe before the search space
    "split.validation" = 20

    [space]                          # a list: categorical (grid); a table: a distribution
    "training.learning_rate" = [0.1, 0.01, 0.001]
    "model.num_layers" = {low = 1, high = 7}

The objective reads a validation metric of the run card (never the test part): one of
``validation.best_val_loss``, ``validation.one_step.<metric>`` or
``validation.recursive.<metric>`` with a metric from `kseq.metrics.score`.
"""

import json
import math
import sys
import time
import tomllib
from pathlib import Path

from kseq._io import write_text_atomic
from kseq.errors import ConfigError
from kseq.recipes.config import SCHEMA, load_recipe, recipe_path

STUDY_KEYS = {
    "name": ((str,), "study"),
    "recipe": ((str,), None),
    "objective": ((str,), "validation.best_val_loss"),
    "direction": ((str,), "minimize"),
    "sampler": ((str,), "tpe"),
    "pruner": ((str,), "median"),
    "trials": ((int,), 20),
    "seed": ((int,), 0),
    "output_dir": ((str,), "runs/{name}"),
}
_CHOICES = {
    "direction": ("minimize", "maximize"),
    "sampler": ("grid", "tpe", "random"),
    "pruner": ("median", "none"),
}
METRICS = ("mae", "rmse", "mape", "smape", "mase")


def load_study(path):
    """Reads and checks a study TOML file; returns a dict with study, overrides and space."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Study file {str(path)!r} does not exist.")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}.") from None
    unknown = sorted(set(raw) - {"study", "overrides", "space"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown section [{unknown[0]}]; sections: study, overrides, space."
        )
    section = raw.get("study", {})
    unknown = sorted(set(section) - set(STUDY_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r} in [study]; valid keys: {', '.join(STUDY_KEYS)}."
        )
    study = {}
    for key, (types, default) in STUDY_KEYS.items():
        value = section.get(key, default)
        if value is None:
            raise ConfigError(f"{path}: [study] needs {key}.")
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(f"{path}: [study] {key} must be {types[0].__name__}; got {value!r}.")
        if key in _CHOICES and value not in _CHOICES[key]:
            raise ConfigError(f"{path}: [study] {key} = {value!r} is not one of {_CHOICES[key]}.")
        study[key] = value
    _check_objective(study["objective"], path)
    overrides = [(*_split_key(k, path), v) for k, v in raw.get("overrides", {}).items()]
    space = {}
    for key, spec in raw.get("space", {}).items():
        _split_key(key, path)
        if isinstance(spec, list):
            if not spec or not all(isinstance(v, (str, int, float, bool)) for v in spec):
                raise ConfigError(
                    f"{path}: [space] {key!r} must list numbers, strings or booleans; got {spec!r}."
                )
        elif isinstance(spec, dict):
            if set(spec) - {"low", "high", "log", "step"} or not {"low", "high"} <= set(spec):
                raise ConfigError(
                    f"{path}: [space] {key!r} needs low and high (and optionally log, step)."
                )
        else:
            raise ConfigError(f"{path}: [space] {key!r} must be a list or a {{low, high}} table.")
        space[key] = spec
    if not space:
        raise ConfigError(f"{path}: [space] is empty; name at least one recipe key to search.")
    if study["sampler"] == "grid" and any(isinstance(s, dict) for s in space.values()):
        raise ConfigError(f"{path}: sampler = 'grid' needs every [space] entry to be a list.")
    recipe = study["recipe"]
    base = Path(recipe) if recipe.endswith(".toml") else recipe_path(recipe)
    if not base.is_absolute() and not base.exists():
        base = path.parent / base
    # Fail now, not in trial 37: the base recipe with overrides and one point of the space.
    point = [
        (*_split_key(key, path), spec[0] if isinstance(spec, list) else spec["low"])
        for key, spec in space.items()
    ]
    load_recipe(base, overrides + point)
    return {"study": study, "overrides": overrides, "space": space, "recipe": base, "path": path}


def _split_key(key, path):
    section, _, name = key.partition(".")
    if section not in SCHEMA or name not in SCHEMA[section]:
        raise ConfigError(f"{path}: {key!r} is not a recipe key (section.key, e.g. model.units).")
    return section, name


def _check_objective(objective, path):
    parts = objective.split(".")
    ok = objective == "validation.best_val_loss" or (
        len(parts) == 3
        and parts[0] == "validation"
        and parts[1] in ("one_step", "recursive")
        and parts[2] in METRICS
    )
    if not ok:
        raise ConfigError(
            f"{path}: [study] objective {objective!r} must be validation.best_val_loss or "
            f"validation.(one_step|recursive).({'|'.join(METRICS)})."
        )


def _suggest(trial, key, spec):
    if isinstance(spec, list):
        return trial.suggest_categorical(key, spec)
    if isinstance(spec["low"], int) and isinstance(spec["high"], int) and not spec.get("log"):
        return trial.suggest_int(key, spec["low"], spec["high"], step=spec.get("step", 1))
    return trial.suggest_float(
        key, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log", False))
    )


def _objective_value(card, objective):
    metrics = card.get("validation_metrics")
    if not metrics:
        raise ConfigError("The study's objective needs a validation part: set split.validation.")
    if objective == "validation.best_val_loss":
        return metrics["best_val_loss"]
    _, kind, name = objective.split(".")
    return metrics[kind][name]


def _make_pruning_callback(trial):
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


def storage_url(spec, out_dir):
    return f"sqlite:///{Path(out_dir).resolve() / 'study.db'}" if spec is None else spec


def _make_study(spec, storage):
    import optuna

    study = spec["study"]
    if study["sampler"] in ("grid", "random"):
        # Grid points are enqueued trials (see queue_grid); the sampler only fills gaps.
        sampler = optuna.samplers.RandomSampler(seed=study["seed"])
    else:
        sampler = optuna.samplers.TPESampler(seed=study["seed"])
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
        if study["pruner"] == "median"
        else optuna.pruners.NopPruner()
    )
    return optuna.create_study(
        study_name=study["name"],
        storage=storage,
        sampler=sampler,
        pruner=pruner,
        direction=study["direction"],
        load_if_exists=True,
    )


def budget(spec):
    """Trials to finish: the `trials` setting, capped by the grid size for grid sampling."""
    trials = spec["study"]["trials"]
    if spec["study"]["sampler"] == "grid":
        trials = min(trials, math.prod(len(v) for v in spec["space"].values()))
    return trials


def run_worker(spec, storage, out_dir, *, epochs=None, verbose=0):
    """Runs trials until the study has `budget` finished (complete or pruned) trials."""
    import optuna

    from kseq.recipes.runner import run_recipe

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = _make_study(spec, storage)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    target = budget(spec)

    def objective(trial):
        overrides = list(spec["overrides"])
        for key, space in spec["space"].items():
            section, name = key.split(".", 1)
            overrides.append((section, name, _suggest(trial, key, space)))
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
        config = load_recipe(spec["recipe"], overrides)
        run_dir = Path(out_dir) / "trials" / f"trial_{trial.number:04d}"
        started = time.perf_counter()
        card = run_recipe(
            config, run_dir=run_dir, verbose=verbose, callbacks=[_make_pruning_callback(trial)]
        )
        trial.set_user_attr("epochs", card["epochs_run"])
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("backend", card["backend"])
        return _objective_value(card, spec["study"]["objective"])

    def stop_when_grid_is_done(study, trial):
        waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
        if spec["study"]["sampler"] == "grid" and not waiting:
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


def write_outputs(spec, study, out_dir):
    """Writes results.csv, results.md, one plot per parameter and best_recipe.toml."""
    import pandas as pd

    out_dir = Path(out_dir)
    objective = spec["study"]["objective"]
    rows = []
    for trial in study.get_trials(deepcopy=False):
        row = {"trial": trial.number, "state": trial.state.name}
        row.update(trial.params)
        # A pruned trial's Optuna value is its last val_loss, not the objective: keep it apart.
        complete = trial.state.name == "COMPLETE"
        row[objective] = trial.value if complete else None
        row["epochs"] = trial.user_attrs.get("epochs")
        if trial.state.name == "PRUNED" and trial.intermediate_values:
            row["epochs"] = max(trial.intermediate_values) + 1
        row["seconds"] = trial.user_attrs.get("seconds")
        row["duplicate_of"] = trial.user_attrs.get("duplicate_of")
        rows.append(row)
    frame = pd.DataFrame(rows)
    write_text_atomic(out_dir / "results.csv", frame.to_csv(index=False))
    ordered = frame.sort_values(
        objective, ascending=spec["study"]["direction"] == "minimize", na_position="last"
    )
    write_text_atomic(out_dir / "results.md", _markdown(ordered))
    plots = _plot_parameters(frame, spec, out_dir)
    best = None
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if complete:
        best = study.best_trial
        overrides = list(spec["overrides"]) + [
            (*key.split(".", 1), value) for key, value in best.params.items()
        ]
        config = load_recipe(spec["recipe"], overrides)
        config["recipe"]["name"] = f"{spec['study']['name']}-best"
        write_text_atomic(
            out_dir / "best_recipe.toml",
            to_toml(
                config,
                header=(
                    f"# Best trial {best.number} of study {spec['study']['name']!r}: "
                    f"{objective} = {best.value:.6g}\n"
                ),
            ),
        )
    return {"rows": len(rows), "plots": plots, "best": None if best is None else best.number}


def _markdown(frame):
    columns = list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        cells = []
        for value in row:
            if value is None:
                cells.append("")
            elif isinstance(value, float):
                cells.append("" if math.isnan(value) else f"{value:.4g}")
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _plot_parameters(frame, spec, out_dir):
    import numpy as np
    from matplotlib.figure import Figure

    from kseq._io import save_figure_atomic

    objective = spec["study"]["objective"]
    done = frame[frame["state"] == "COMPLETE"]
    paths = []
    for key, space in spec["space"].items():
        if key not in done:
            continue
        figure = Figure(figsize=(5.5, 4))
        axes = figure.subplots()
        values = done[key]
        if isinstance(space, list):
            labels = [str(v) for v in space]
            positions = np.array([labels.index(str(v)) for v in values], dtype=float)
            jitter = np.random.default_rng(0).uniform(-0.12, 0.12, len(positions))
            axes.scatter(positions + jitter, done[objective], alpha=0.6)
            axes.set_xticks(range(len(labels)), labels)
        else:
            axes.scatter(values, done[objective], alpha=0.6)
            if space.get("log"):
                axes.set_xscale("log")
        if (done[objective] > 0).all():
            axes.set_yscale("log")
        axes.set_xlabel(key)
        axes.set_ylabel(objective)
        axes.grid(alpha=0.3)
        path = out_dir / f"param_{key.replace('.', '_')}.png"
        save_figure_atomic(figure, path)
        paths.append(path.name)
    return paths


def to_toml(config, header=""):
    """Writes a recipe config (tables of str/int/float/bool/lists) as TOML."""
    lines = [header] if header else []
    for section, values in config.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if value is None:
                continue
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"Cannot write {value!r} as TOML.")


def run_study(path, *, storage=None, workers=1, out_dir=None, epochs=None, backend=None, verbose=0):
    """Runs (or resumes) a study; returns a summary dict. See the module docstring."""
    import subprocess

    spec = load_study(path)
    out_dir = Path(out_dir or spec["study"]["output_dir"].format(name=spec["study"]["name"]))
    out_dir.mkdir(parents=True, exist_ok=True)
    url = storage_url(storage, out_dir)
    if storage is None:
        # Local SQLite: no other worker can own a RUNNING trial, so it died with its process.
        fail_stale_trials(url, spec["study"]["name"])
    if spec["study"]["sampler"] == "grid":
        queue_grid(_make_study(spec, url), spec["space"], spec["study"]["seed"])
    processes = []
    for _ in range(max(workers, 1) - 1):
        command = [
            sys.executable,
            "-m",
            "kseq.cli",
            "study",
            str(spec["path"]),
            "--storage",
            url,
            "--out",
            str(out_dir),
            "--worker",
        ]
        if epochs is not None:
            command += ["--epochs", str(epochs)]
        if backend is not None:
            command += ["--backend", backend]
        processes.append(subprocess.Popen(command))
    study = run_worker(spec, url, out_dir, epochs=epochs, verbose=verbose)
    failed = [p.wait() for p in processes]
    if any(failed):
        raise RuntimeError(f"{sum(1 for c in failed if c)} study worker(s) failed.")
    summary = write_outputs(spec, study, out_dir)
    summary.update({"out_dir": str(out_dir), "storage": url, "trials": len(study.trials)})
    return summary
