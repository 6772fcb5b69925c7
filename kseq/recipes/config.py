"""Recipe files: TOML with a fixed schema, checked key by key (no Keras here)."""

import copy
import tomllib
from pathlib import Path

from kseq._resources import resource_dir
from kseq.errors import ConfigError

_NUM = (int, float)
_SIZE = (int, float, str)  # count, fraction or date
_LIST = (list,)

# section -> key -> (accepted types, default). `None` default: optional, no value.
SCHEMA = {
    "recipe": {
        "name": ((str,), "recipe"),
        "description": ((str,), ""),
        "seed": ((int,), 0),
        "output_dir": ((str,), "runs/{name}"),
    },
    "data": {
        "source": ((str,), "airpassengers"),
        # csv
        "path": ((str,), None),
        "time_column": ((str,), None),
        "target_columns": ((str, list), None),
        "feature_columns": ((str, list), None),
        "missing": ((str,), "raise"),
        "fill_gaps": ((str,), "raise"),
        # sine
        "family": ((str,), "clean"),
        "num_points": ((int,), 100),
        "end": (_NUM, 20.0),
        # ar1
        "rho": (_NUM, 0.1),
        "lag_weights": (_LIST, [0.0, 0.1]),
        "num_steps": ((int,), 100),
        "test_paths": ((int,), 1000),
    },
    "split": {
        "test": (_SIZE, 0),
        "validation": (_SIZE, 0),
        # Where the series ends for this run (a count of points or a last date): backtests
        # cut the series at an earlier origin.
        "end": ((int, str), None),
    },
    "transforms": {
        "log": ((bool,), False),
        "difference": (_LIST, []),
        "minmax": (_LIST + (bool,), [0.0, 1.0]),
        "fit_on": ((str,), "train"),
    },
    "windows": {
        "lookback": ((int,), 12),
        "horizon": ((int,), 1),
        "random_windows": ((bool,), False),
    },
    "model": {
        "builder": ((str,), "forecaster"),
        "cell": ((str,), "lstm"),
        "units": ((int, list), [50]),
        "num_layers": ((int,), None),
        "dropout": (_NUM, 0.0),
        "input_dropout": (_NUM, 0.0),
        "recurrent_dropout": (_NUM, 0.0),
        "forget_bias": (_NUM, None),
        "head": ((str,), "point"),
        "dense_units": ((int, list), []),
        "dense_activation": ((str,), "relu"),
        "quantiles": (_LIST, [0.1, 0.5, 0.9]),
        "num_components": ((int,), 1),
    },
    "training": {
        "optimizer": ((str,), "adam"),
        "learning_rate": (_NUM, 1e-3),
        "epochs": ((int,), 100),
        "batch_size": ((int,), 32),
        "steps_per_epoch": ((int,), None),
        # Training steps per compiled call (Keras's compile argument). Same numbers; on a GPU
        # it hides per-step host work (docs/speed.md: JAX on an H100, workload B, 0.67x ->
        # 0.98x plain PyTorch for 16).
        "steps_per_execution": ((int,), 1),
        "shuffle": ((bool,), True),
        "early_stopping": ((bool,), False),
        "patience": ((int,), 10),
        # Epochs before early stopping starts to watch the validation loss (Keras's
        # `EarlyStopping(start_from_epoch=...)`): the best weights are only taken from then on.
        "start_from_epoch": ((int,), 0),
        "train_on": ((str,), "train"),
        "ensemble": ((int,), 1),
        # After early stopping on the validation part, retrain on train + validation for the
        # number of epochs that scored best there.
        "refit": ((bool,), False),
    },
    "evaluation": {
        "horizon": ((int,), 0),
        "season_length": ((int,), 1),
        "baselines": (_LIST, ["naive", "seasonal_naive"]),
        "forecast_steps": ((int,), 0),
    },
}

CHOICES = {
    ("data", "source"): ("airpassengers", "sine", "ar1", "csv"),
    ("data", "family"): ("clean", "noisy_offset", "x_sin", "random_amplitude"),
    ("data", "missing"): ("raise", "ffill", "interpolate"),
    ("data", "fill_gaps"): ("raise", "ffill", "interpolate"),
    ("transforms", "fit_on"): ("train", "all"),
    ("training", "train_on"): ("train", "all"),
    ("training", "optimizer"): ("adam", "adamw", "rmsprop", "sgd"),
    ("model", "builder"): ("forecaster", "airpassengers_tutorial", "sine_study", "ar1"),
    ("model", "cell"): ("lstm", "gru", "simple_rnn"),
    ("model", "head"): ("point", "quantile", "mixture"),
}
BASELINES = ("naive", "seasonal_naive", "sarima")


def recipe_path(name):
    """Returns the path of the bundled recipe `name` (``recipes/<name>.toml``)."""
    path = resource_dir("recipes") / f"{name}.toml"
    if not path.is_file():
        bundled = sorted(p.stem for p in resource_dir("recipes").glob("*.toml"))
        raise ConfigError(f"No bundled recipe {name!r}; bundled: {', '.join(bundled)}.")
    return path


def _type_names(types):
    return " or ".join(t.__name__ for t in types)


def _check_value(section, key, value, types):
    # bool is an int subclass: accept it only where bool is meant, and ints where floats are.
    if isinstance(value, bool) and bool not in types:
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        raise ConfigError(
            f"[{section}] {key} must be {_type_names(types)}; received {value!r} "
            f"({type(value).__name__})."
        )
    choices = CHOICES.get((section, key))
    if choices is not None and value not in choices:
        raise ConfigError(f"[{section}] {key} = {value!r} is not one of {', '.join(choices)}.")


def validate(raw, source="the recipe"):
    """Checks a recipe mapping against `SCHEMA`; returns it with every default filled in."""
    unknown = sorted(set(raw) - set(SCHEMA))
    if unknown:
        raise ConfigError(
            f"{source}: unknown section [{unknown[0]}]; sections are {', '.join(SCHEMA)}."
        )
    config = {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{source}: [{section}] must be a table of keys.")
        unknown = sorted(set(given) - set(keys))
        if unknown:
            raise ConfigError(
                f"{source}: unknown key {unknown[0]!r} in [{section}]; valid keys: "
                f"{', '.join(keys)}."
            )
        config[section] = {}
        for key, (types, default) in keys.items():
            if key in given:
                _check_value(section, key, given[key], types)
                config[section][key] = given[key]
            else:
                config[section][key] = copy.deepcopy(default)
    for baseline in config["evaluation"]["baselines"]:
        if baseline not in BASELINES:
            raise ConfigError(
                f"{source}: [evaluation] baselines has {baseline!r}; choose from "
                f"{', '.join(BASELINES)}."
            )
    training = config["training"]
    if training["steps_per_execution"] < 1:
        raise ConfigError(
            f"{source}: [training] steps_per_execution must be >= 1; received "
            f"{training['steps_per_execution']}."
        )
    start = training["start_from_epoch"]
    if start:
        if not training["early_stopping"]:
            raise ConfigError(
                f"{source}: [training] start_from_epoch = {start} only delays early stopping; "
                "set early_stopping = true or remove it."
            )
        if not 0 < start < training["epochs"]:
            raise ConfigError(
                f"{source}: [training] start_from_epoch must be between 0 and epochs - 1 "
                f"({training['epochs'] - 1}); received {start}."
            )
    data = config["data"]
    if data["source"] == "csv":
        for key in ("path", "time_column", "target_columns"):
            if data[key] is None:
                raise ConfigError(f"{source}: [data] source = 'csv' needs [data] {key}.")
    return config


def parse_override(text):
    """Parses ``section.key=value``; the value is read as TOML (a bare word is a string)."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise ConfigError(f"--set needs section.key=value; received {text!r}.")
    dotted, value_text = text.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text
    return section, key, value


def load_recipe(path, overrides=()):
    """Reads a recipe TOML file and applies ``(section, key, value)`` overrides.

    Raises:
        FileNotFoundError: no such file.
        ConfigError: bad TOML, an unknown section or key, a wrong type or value.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Recipe file {str(path)!r} does not exist.")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}.") from None
    for section, key, value in overrides:
        raw.setdefault(section, {})[key] = value
    return validate(raw, source=str(path))
