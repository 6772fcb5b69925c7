"""The one place a recipe is validated, for `kseq run`, `backtest`, `study` and the library.

A recipe is a TOML file of sections; `load_recipe` turns it into a frozen `Recipe` (or an
`AR1Recipe` for ``[data] source = "ar1"``) whose sections are dataclasses with every default
filled in. Each key is declared once below with its types, choices and range; cross-key rules
(a head's interval levels, refit needing a validation part, a builder's fixed keys, ...) are
checked in `validate`. Nothing here imports Keras.

The schema is split by concern: `schema` (every section's keys), `checks` (`validate`), `rules`
(rules across keys) and `files` (bundled names, TOML, overrides, `load_recipe`).
"""

from kseq.config.checks import validate
from kseq.config.files import (
    apply_overrides,
    load_recipe,
    parse_override,
    read_toml,
    recipe_path,
    study_path,
)
from kseq.config.schema import (
    AUTO_KEYS,
    BASELINES,
    PANEL_AUTO_KEYS,
    PANEL_BASELINES,
    PANEL_CLASSICAL,
    PANEL_PRETRAINED,
    PANEL_SOURCES,
    PRETRAINED_HORIZON,
    AR1Recipe,
    EvaluationSection,
    Recipe,
    SplitSection,
    recipe_keys,
)

__all__ = [
    "AR1Recipe",
    "AUTO_KEYS",
    "BASELINES",
    "EvaluationSection",
    "PANEL_AUTO_KEYS",
    "PANEL_BASELINES",
    "PANEL_CLASSICAL",
    "PANEL_PRETRAINED",
    "PRETRAINED_HORIZON",
    "PANEL_SOURCES",
    "Recipe",
    "SplitSection",
    "apply_overrides",
    "load_recipe",
    "parse_override",
    "read_toml",
    "recipe_keys",
    "recipe_path",
    "study_path",
    "validate",
]
