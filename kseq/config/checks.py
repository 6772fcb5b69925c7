"""`validate`: a recipe mapping checked key by key into a `Recipe` or `AR1Recipe`."""

import copy
import dataclasses
import difflib
import math
import warnings

from kseq.config.rules import check_ar1, check_forecast, check_training
from kseq.config.schema import (
    AUTO_KEYS,
    MERGED_KEYS,
    PANEL_AUTO_KEYS,
    PANEL_DEFAULTS,
    PANEL_SOURCES,
    REMOVED_KEYS,
    RENAMED_KEYS,
    SECTIONS,
    AR1Recipe,
    ModelSection,
    Recipe,
    field_default,
)
from kseq.errors import ConfigError, KseqWarning
from kseq.models.registry import BUILDERS, get_builder


def _type_names(types):
    return " or ".join(t.__name__ for t in types)


def _check_range(where, value, meta):
    low, high = meta["low"], meta["high"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number; received {value!r}.")
    below = low is not None and value < low
    above = high is not None and (value >= high if meta["open_high"] else value > high)
    if below or above:
        bounds = (
            f">= {low}" if high is None else f"in [{low}, {high}{')' if meta['open_high'] else ']'}"
        )
        raise ConfigError(f"{where} must be {bounds}; received {value!r}.")


def _check_value(section, key, value, meta):
    where = f"[{section}] {key}"
    types = meta["types"]
    # bool is an int subclass: accept it only where bool is meant, and ints where floats are.
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        # A switch written for a size (`series_embedding = true`): say what the number means.
        hint = ""
        if isinstance(value, bool) and int in types:
            low = meta["low"]
            hint = f" Give a number{f' >= {low}' if low is not None else ''}, not true/false."
        raise ConfigError(
            f"{where} must be {_type_names(types)}; received {value!r} ({type(value).__name__})."
            f"{hint}"
        )
    choices = meta["choices"]
    if choices is not None and value not in choices:
        raise ConfigError(f"{where} = {value!r} is not one of {', '.join(choices)}.")
    if isinstance(value, list):
        if meta["each"] is not None:
            low, high = meta["each"]
            item_meta = {**meta, "low": low, "high": high}
            for item in value:
                if isinstance(item, bool) or not isinstance(item, int):
                    raise ConfigError(f"{where} must list integers; received {value!r}.")
                _check_range(where, item, item_meta)
    else:
        _check_range(where, value, meta)


def _suggest_key(key, section, fields):
    """`` Did you mean ...?`` for a key of another section or a near typo; else ``""``."""
    owners = sorted(
        {
            name
            for sections in SECTIONS.values()
            for name, cls in sections.items()
            if name != section and key in {f.name for f in dataclasses.fields(cls)}
        }
    )
    if owners:
        listed = " and ".join(f"[{name}]" for name in owners)
        return f" {key!r} is a key of {listed}: move it there."
    # Plural/singular and small typos ("target_column" for "target_columns").
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.8)
    return f" Did you mean {close[0]!r}?" if close else ""


def _read_section(cls, section, given, source, fixed=None):
    if not isinstance(given, dict):
        raise ConfigError(f"{source}: [{section}] must be a table of keys.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r} in [{section}]; valid keys: {', '.join(fields)}."
            f"{_suggest_key(unknown[0], section, fields)}"
        )
    values = dict(fixed or {})
    for key, value in given.items():
        if value is None and fields[key].default is None:
            continue  # an optional key left unset (as `Recipe.to_dict` writes it)
        try:
            _check_value(section, key, value, fields[key].metadata)
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None
        values[key] = copy.deepcopy(value)
    return cls(**values)


def drop_removed_keys(raw, source="the recipe", warn=False):
    """`raw` with its `RENAMED_KEYS` under their new names (with a `KseqWarning` saying so
    when `warn`) and without the `REMOVED_KEYS` it sets to the value that does what kseq does
    now; a removed key at another value is a `ConfigError` saying what replaced it."""
    kept = {}
    for section, given in raw.items():
        if not isinstance(given, dict):
            kept[section] = given
            continue
        kept[section] = {}
        for key, value in given.items():
            if (section, key) in RENAMED_KEYS:
                kept[section][rename_key(section, key, value, given, source, warn)] = value
                continue
            if (section, key) not in REMOVED_KEYS:
                kept[section].setdefault(key, value)
                continue
            default, why = REMOVED_KEYS[(section, key)]
            merged, advice = MERGED_KEYS.get((section, key), (None, "Remove the key"))
            now = given.get(merged)
            now = now[0] if isinstance(now, list) and now else now
            if value != default and (merged is None or value != now):
                advice = advice.format(value=value, key=key)
                raise ConfigError(
                    f"{source}: [{section}] {key} = {value!r} was removed: {why}. {advice}."
                )
    return kept


def rename_key(section, key, value, given, source, warn):
    """The new name of the renamed ``[section] key``; a `ConfigError` when `given` also sets
    the new key to another value."""
    new = RENAMED_KEYS[(section, key)]
    if new in given and given[new] != value:
        raise ConfigError(
            f"{source}: [{section}] {key} was renamed {new}, which is set too ({new} = "
            f"{given[new]!r}, {key} = {value!r}): remove {key}."
        )
    fields = {f.name: f for f in dataclasses.fields(SECTIONS[Recipe][section])}
    if warn and value != field_default(fields[new]):  # a saved run's default: nothing to say
        warnings.warn(
            f"{source}: [{section}] {key} is now [{section}] {new} (read as {new} = {value!r}); "
            "rename it in the recipe.",
            KseqWarning,
            stacklevel=4,
        )
    return new


def check_keys(raw, source="the recipe", whole=None):
    """Checks each key of the mapping `raw` by itself: known section and key, type and range;
    no rule between keys (`validate` checks those on the whole recipe). A recipe file's keys
    are checked so even when ``--set`` or ``--epochs`` replaces them, and the overrides are
    checked as their own source, so that an error names the one it is in. `whole`: the
    recipe `raw` is part of, which says its kind (`raw` itself by default)."""
    sections = SECTIONS[_recipe_kind(raw if whole is None else whole, source)]
    raw = drop_removed_keys(raw, source)
    known = {name for kind in SECTIONS.values() for name in kind}
    for section, given in raw.items():
        if section not in sections:
            if section in known:
                continue  # another kind's section: `validate` says why it does not apply
            raise ConfigError(
                f"{source}: unknown section [{section}]; sections are {', '.join(sections)}."
            )
        if not isinstance(given, dict):
            raise ConfigError(f"{source}: [{section}] must be a table of keys.")
        fields = {f.name: f for f in dataclasses.fields(sections[section])}
        for key, value in given.items():
            if key not in fields:
                raise ConfigError(
                    f"{source}: unknown key {key!r} in [{section}]; valid keys: "
                    f"{', '.join(fields)}.{_suggest_key(key, section, fields)}"
                )
            if value is None and fields[key].default is None:
                continue
            try:
                _check_value(section, key, value, fields[key].metadata)
            except ConfigError as error:
                raise ConfigError(f"{source}: {error}") from None


def _recipe_kind(raw, source):
    if "study" in raw or "space" in raw:
        raise ConfigError(f"{source} is a study file, not a recipe: run `kseq study {source}`.")
    data = raw.get("data", {})
    return AR1Recipe if isinstance(data, dict) and data.get("source") == "ar1" else Recipe


def validate(raw, source="the recipe", backend=None):
    """Checks a recipe mapping; returns a `Recipe` or `AR1Recipe` with every default filled in.

    Args:
        raw: the TOML mapping (sections of keys).
        source: how to name the recipe in errors (its path).
        backend: the Keras backend the recipe will run on, for backend-specific limits
            (`None`: not checked).

    Raises:
        ConfigError: an unknown section or key, a wrong type, a value out of range, or keys
            that contradict each other; the message names the key.
    """
    kind = _recipe_kind(raw, source)
    sections = SECTIONS[kind]
    raw = drop_removed_keys(raw, source, warn=True)
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        if kind is AR1Recipe and unknown[0] in SECTIONS[Recipe]:
            raise ConfigError(
                f"{source}: [{unknown[0]}] does not apply to source = 'ar1' (simulated paths, a "
                "fixed sequence model); remove it."
            )
        raise ConfigError(
            f"{source}: unknown section [{unknown[0]}]; sections are {', '.join(sections)}."
        )
    data = raw.get("data")
    panel = kind is Recipe and isinstance(data, dict) and data.get("source") in PANEL_SOURCES
    values = {}
    for section, cls in sections.items():
        given = raw.get(section, {})
        fixed = None
        if section == "model":
            fixed = _builder_defaults(given, source)
        if panel and isinstance(given, dict):
            defaults = PANEL_DEFAULTS.get(section, {})
            if "num_layers" in given:  # the recipe sizes the stack itself
                defaults = {k: v for k, v in defaults.items() if k != "units"}
            given = {**defaults, **given}
        values[section] = _read_section(cls, section, given, source, fixed)
    if kind is Recipe and (panel or values["data"].source == "csv"):
        values["auto"] = frozenset(
            key
            for key in (PANEL_AUTO_KEYS if panel else AUTO_KEYS)
            if key.split(".")[1] not in (raw.get(key.split(".")[0]) or {})
        )
    if kind is Recipe:
        values["given"] = frozenset(
            f"{section}.{key}" for section, keys in raw.items() for key in (keys or {})
        )
    recipe = kind(**values)
    if kind is AR1Recipe:
        check_ar1(raw, source)
    else:
        check_forecast(recipe, source)
    check_training(recipe.training, source, backend)
    return recipe


def _builder_defaults(given, source):
    """The values a builder fixes, after checking that the recipe sets none of them."""
    name = given.get("builder", "forecaster") if isinstance(given, dict) else "forecaster"
    if not isinstance(name, str):
        return None  # the type check names the key
    if name == "ar1":
        raise ConfigError(
            f"{source}: [model] builder = 'ar1' is the AR(1) sequence model; it is run by "
            "recipes with [data] source = 'ar1' (see `kseq run ar1`), not by forecast recipes."
        )
    if name not in BUILDERS:
        raise ConfigError(
            f"{source}: [model] builder = {name!r} is not one of {', '.join(BUILDERS)}."
        )
    spec = get_builder(name)
    # A saved recipe repeats the fixed values: only a different value is a contradiction.
    fixed = sorted(k for k in set(given) & set(spec.fixed) if given[k] != spec.fixed[k])
    if fixed:
        raise ConfigError(
            f"{source}: [model] {fixed[0]} is fixed by builder = {name!r} ({spec.description}); "
            f"remove it, or use builder = 'forecaster' to set it. Keys this builder takes: "
            f"{', '.join(spec.keys) or 'none'}."
        )
    defaults = {f.name: f for f in dataclasses.fields(ModelSection)}
    unused = sorted(
        key
        for key, value in given.items()
        if key != "builder"
        and key in defaults
        and key not in spec.keys
        and key not in spec.fixed
        and value != field_default(defaults[key])
    )
    if unused:
        raise ConfigError(
            f"{source}: [model] {unused[0]} does not apply to builder = {name!r} "
            f"({spec.description}); keys it takes: {', '.join(spec.keys) or 'none'}."
        )
    return spec.fixed
