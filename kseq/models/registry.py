"""Model builders registered by name, for recipes (no Keras here: builders import lazily).

A recipe's ``[model] builder`` names one of `BUILDERS`. Each entry says which ``[model]`` keys
the builder reads and which it fixes: a preset such as the AirPassengers tutorial fixes its
units and dropout, so a recipe that sets them gets an error naming the key instead of a model
that silently differs from its recipe. `build_model` builds the Keras model of a validated
``[model]`` section.
"""

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BuilderSpec:
    """A registered builder: a ``module:function`` taking ``(section, lookback, num_features,
    horizon, num_targets, seed, name)``, the keys it fixes and a one-line description."""

    name: str
    target: str
    description: str
    fixed: dict = field(default_factory=dict)
    keys: tuple = ()


_FORECASTER_KEYS = (
    "cell",
    "units",
    "num_layers",
    "dropout",
    "input_dropout",
    "recurrent_dropout",
    "forget_bias",
    "head",
    "dense_units",
    "dense_activation",
    "quantiles",
    "num_components",
    "series_embedding",
)

BUILDERS = {}


def register_builder(spec):
    """Registers `spec` under its name; returns it."""
    if spec.name in BUILDERS:
        raise ValueError(f"A builder named {spec.name!r} is already registered.")
    BUILDERS[spec.name] = spec
    return spec


def get_builder(name):
    """Returns the `BuilderSpec` registered as `name`."""
    try:
        return BUILDERS[name]
    except KeyError:
        raise ValueError(
            f"No builder {name!r}; registered: {', '.join(BUILDERS)}. Received: builder={name!r}"
        ) from None


def build_model(section, *, lookback, num_features, horizon, num_targets, seed, name, num_series=0):
    """Builds the uncompiled Keras model of a validated ``[model]`` section (`num_series`:
    the series a panel model's id embedding indexes)."""
    spec = get_builder(section.builder)
    module, _, function = spec.target.partition(":")
    builder = getattr(importlib.import_module(module), function)
    return builder(
        section,
        lookback=lookback,
        num_features=num_features,
        horizon=horizon,
        num_targets=num_targets,
        seed=seed,
        name=name,
        **({"num_series": num_series} if num_series else {}),
    )


register_builder(
    BuilderSpec(
        "forecaster",
        "kseq.models.builders:build_forecaster_from_section",
        "a StackedRNN body and a point, quantile or mixture head",
        keys=_FORECASTER_KEYS,
    )
)
register_builder(
    BuilderSpec(
        "airpassengers_tutorial",
        "kseq.models.builders:build_forecaster_from_section",
        "the tutorial's 4 x (LSTM(50) + Dropout(0.2)) and Dense(1)",
        fixed={
            "cell": "lstm",
            "units": [50, 50, 50, 50],
            "num_layers": None,
            "dropout": 0.2,
            "head": "point",
            "dense_units": [],
        },
    )
)
register_builder(
    BuilderSpec(
        "sine_study",
        "kseq.models.builders:build_forecaster_from_section",
        "the sine study's LSTM layers with dropout 0.2 after each and Dense(1)",
        fixed={"cell": "lstm", "dropout": 0.2, "head": "point", "dense_units": []},
        keys=("units", "num_layers", "forget_bias"),
    )
)
