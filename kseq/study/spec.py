"""A study file: its settings, the overrides of the base recipe and the search space.


A study file is TOML::

    [study]
    name = "sine-study"
    recipe = "sines"                 # bundled recipe name or a path
    objective = "validation.recursive.rmse"
    direction = "minimize"
    sampler = "grid"                 # grid | tpe | random
    pruner = "median"                # median | none
    trials = 60
    heartbeat_seconds = 10           # shared storages: a silent worker's trial is re-run

    [overrides]                      # applied to the recipe before the search space
    "split.validation" = 20

    [space]                          # a list: categorical (grid); a table: a distribution
    "training.learning_rate" = [0.1, 0.01, 0.001]
    "model.num_layers" = {low = 1, high = 7}

The objective reads a validation metric of the run card (never the test part): one of
``validation.best_val_loss``, ``validation.one_step.<metric>`` or
``validation.recursive.<metric>`` with a metric from `kseq.metrics.score`; for a panel recipe,
``validation.kseq.mase`` or ``validation.kseq.smape`` (the global net's mean over the series).

"""

import math
from dataclasses import dataclass
from pathlib import Path

from kseq.config import load_recipe, read_toml, recipe_keys, recipe_path
from kseq.errors import ConfigError

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
    "heartbeat_seconds": ((float, int), 10.0),
}
_CHOICES = {
    "direction": ("minimize", "maximize"),
    "sampler": ("grid", "tpe", "random"),
    "pruner": ("median", "none"),
}
METRICS = ("mae", "rmse", "mape", "smape", "mase")
PANEL_METRICS = ("mase", "smape")


@dataclass(frozen=True)
class StudySettings:
    name: str
    recipe: str
    objective: str
    direction: str
    sampler: str
    pruner: str
    trials: int
    seed: int
    output_dir: str
    heartbeat_seconds: float = 10.0


@dataclass(frozen=True)
class StudySpec:
    """A checked study file: `settings`, recipe `overrides` (``(section, key, value)``), the
    search `space` (``{"section.key": list or {low, high, ...}}``), the base recipe's path."""

    settings: StudySettings
    overrides: list
    space: dict
    recipe: Path
    path: Path

    @property
    def budget(self):
        """Trials to finish: the `trials` setting, capped by the grid size for grid sampling."""
        trials = self.settings.trials
        if self.settings.sampler == "grid":
            trials = min(trials, math.prod(len(v) for v in self.space.values()))
        return trials


def load_study(path):
    """Reads and checks a study TOML file; returns a `StudySpec`."""
    path = Path(path)
    raw = read_toml(path, kind="study")
    if "study" not in raw and set(raw) & set(recipe_keys()):
        raise ConfigError(f"{path} is a recipe, not a study: run `kseq run {path}`.")
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
    settings = {}
    for key, (types, default) in STUDY_KEYS.items():
        value = section.get(key, default)
        if value is None:
            raise ConfigError(f"{path}: [study] needs {key}.")
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(f"{path}: [study] {key} must be {types[0].__name__}; got {value!r}.")
        if key in _CHOICES and value not in _CHOICES[key]:
            raise ConfigError(f"{path}: [study] {key} = {value!r} is not one of {_CHOICES[key]}.")
        settings[key] = value
    if settings["trials"] < 1:
        raise ConfigError(f"{path}: [study] trials must be >= 1; got {settings['trials']}.")
    if settings["heartbeat_seconds"] <= 0:
        raise ConfigError(
            f"{path}: [study] heartbeat_seconds must be > 0; got {settings['heartbeat_seconds']}."
        )
    settings = StudySettings(**settings)
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
    if settings.sampler == "grid" and any(isinstance(s, dict) for s in space.values()):
        raise ConfigError(f"{path}: sampler = 'grid' needs every [space] entry to be a list.")
    base = _base_recipe(settings.recipe, path)
    _check_objective(settings.objective, path, panel=_is_panel(base, overrides))
    # Fail now, not in trial 37: the base recipe with overrides and every value of the space
    # (the same validation `kseq run` applies; for distributions, both bounds).
    for key, spec in space.items():
        for value in spec if isinstance(spec, list) else (spec["low"], spec["high"]):
            load_recipe(base, [*overrides, (*_split_key(key, path), value)])
    return StudySpec(settings, overrides, space, base, path)


def _base_recipe(recipe, path):
    if recipe.endswith(".toml"):
        base = Path(recipe)
        if not base.is_absolute() and not base.exists():
            base = path.parent / base
        return base
    return recipe_path(recipe)


def _split_key(key, path):
    section, _, name = key.partition(".")
    keys = recipe_keys()
    if section not in keys or name not in keys[section]:
        raise ConfigError(f"{path}: {key!r} is not a recipe key (section.key, e.g. model.units).")
    return section, name


def _is_panel(base, overrides):
    recipe = load_recipe(base, overrides)
    return getattr(recipe.data, "is_panel", False)


def _check_objective(objective, path, panel=False):
    parts = objective.split(".")
    if panel:
        # A panel run scores the global net on every series' validation part.
        if parts[:2] != ["validation", "kseq"] or len(parts) != 3 or parts[2] not in PANEL_METRICS:
            raise ConfigError(
                f"{path}: [study] objective {objective!r}: a panel recipe's study reads the "
                "net's mean validation score over the series: "
                f"validation.kseq.({'|'.join(PANEL_METRICS)})."
            )
        return
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


def objective_value(card, objective):
    """The study objective read from a `RunCard`'s validation scores (never the test part)."""
    if card.panel is not None:
        _, method, name = objective.split(".")
        value = card.panel.validation.get(name, {}).get(method)
        if value is None:
            raise ConfigError(
                "The study's objective needs the panel's validation scores: set split.validation."
            )
        return value
    scores = card.validation
    if scores is None:
        raise ConfigError("The study's objective needs a validation part: set split.validation.")
    if objective == "validation.best_val_loss":
        return scores.best_val_loss
    _, kind, name = objective.split(".")
    return getattr(scores, kind)[name]


def suggest(trial, key, spec):
    """Optuna's suggestion for one [space] entry."""
    if isinstance(spec, list):
        return trial.suggest_categorical(key, spec)
    if isinstance(spec["low"], int) and isinstance(spec["high"], int) and not spec.get("log"):
        return trial.suggest_int(key, spec["low"], spec["high"], step=spec.get("step", 1))
    return trial.suggest_float(
        key, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log", False))
    )
