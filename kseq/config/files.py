"""Recipe and study files: bundled names, TOML reading, ``--set`` overrides, `load_recipe`."""

import copy
import tomllib
from pathlib import Path

from kseq._resources import resource_dir
from kseq.config.checks import check_keys, validate
from kseq.errors import ConfigError

# kind -> (folder, the other kind, the command that runs this kind)
_BUNDLED = {"recipe": ("recipes", "study", "run"), "study": ("studies", "recipe", "study")}


def _bundled_path(kind, name):
    folder, other, _ = _BUNDLED[kind]
    path = resource_dir(folder) / f"{name}.toml"
    if path.is_file():
        return path
    other_folder, _, other_command = _BUNDLED[other]
    if (resource_dir(other_folder) / f"{name}.toml").is_file():
        raise ConfigError(
            f"{name!r} is a {other}, not a {kind}: run `kseq {other_command} {name}`."
        )
    bundled = sorted(p.stem for p in resource_dir(folder).glob("*.toml"))
    raise ConfigError(f"No bundled {kind} {name!r}; bundled: {', '.join(bundled)}.")


def recipe_path(name):
    """Returns the path of the bundled recipe `name` (``recipes/<name>.toml``)."""
    return _bundled_path("recipe", name)


def study_path(name):
    """Returns the path of the bundled study `name` (``studies/<name>.toml``)."""
    return _bundled_path("study", name)


def read_toml(path, kind="recipe"):
    """Reads a TOML file; `FileNotFoundError` or `ConfigError` with the path on failure."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"{kind.capitalize()} file {str(path)!r} {what}.")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}.") from None


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


def apply_overrides(raw, overrides):
    """Returns a copy of the mapping `raw` with ``(section, key, value)`` overrides set."""
    raw = copy.deepcopy(raw)
    for section, key, value in overrides:
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table of keys; cannot set {key}.")
        table[key] = value
    return raw


def load_recipe(path, overrides=(), backend=None):
    """Reads a recipe TOML file and applies ``(section, key, value)`` overrides.

    Args:
        path: the recipe file.
        overrides: ``(section, key, value)`` triples (`parse_override` of ``--set``).
        backend: the backend it will run on, for backend limits (see `validate`).

    Raises:
        FileNotFoundError: no such file.
        ConfigError: bad TOML, a study file, an unknown section or key, a wrong type or value.
    """
    raw = read_toml(path)
    data = raw.get("data")
    # A relative data path in a recipe file is relative to that file, not to the current
    # directory (one given with --set stays relative to the current directory).
    if isinstance(data, dict) and isinstance(data.get("path"), str):
        data["path"] = str((Path(path).parent / data["path"]).resolve())
    related = data.get("related") if isinstance(data, dict) else None
    if isinstance(related, str) and related != "us_employment":
        data["related"] = str((Path(path).parent / related).resolve())
    if overrides:
        # Each key where it was written: a bad value in the file is reported even when an
        # override replaces it, and a bad override is blamed on --set, not on the file.
        merged = apply_overrides(raw, overrides)
        check_keys(raw, source=str(path), whole=merged)
        check_keys(apply_overrides({}, overrides), source="--set", whole=merged)
        raw = merged
    return validate(raw, source=str(path), backend=backend)
