"""The recipe-key reference (`docs/recipes.md`), generated from the schema.

Each key's type, default, choices and range come from its declaration in `kseq.config.schema`;
its description is the comment written above it there. ``python -m kseq.config.reference``
prints the page; a test fails when `docs/recipes.md` differs from it.
"""

import ast
import dataclasses
import inspect
import sys

from kseq.config import schema
from kseq.config.schema import SECTIONS, AR1Recipe, Recipe, field_default

_TITLE = """# Recipe keys

Generated from `kseq/config/schema.py` by `python -m kseq.config.reference > docs/recipes.md`;
a test fails when this page and the schema drift apart. Every key is optional. Ranges are
inclusive unless marked `<`; `auto` defaults are chosen from the data when the recipe leaves the
key out, and the run card says what was chosen and why.
"""


def read_key_comments(cls):
    """``{key: comment}``: the comment lines written right above each key of `cls`."""
    lines = inspect.getsource(cls).splitlines()
    comments, block = {}, []
    for node in ast.parse("\n".join(lines)).body[0].body:
        if not isinstance(node, ast.AnnAssign):
            continue
        block = []
        row = node.lineno - 2
        while row >= 0 and lines[row].strip().startswith("#"):
            block.insert(0, lines[row].strip().lstrip("#").strip())
            row -= 1
        if block:
            comments[node.target.id] = " ".join(block)
    return comments


def _type_text(meta):
    names = [t.__name__ for t in meta["types"]]
    return " or ".join("number" if n == "float" else n for n in dict.fromkeys(names))


def _range_text(meta):
    parts = []
    if meta["choices"]:
        parts.append("one of " + ", ".join(f"`{c}`" for c in meta["choices"]))
    low, high = meta["low"], meta["high"]
    if low is not None or high is not None:
        upper = "" if high is None else f" {'<' if meta['open_high'] else '≤'} {high}"
        lower = "" if low is None else f"{low} ≤ "
        parts.append(f"{'each ' if meta['each'] else ''}{lower}x{upper}".strip())
    return "; ".join(parts)


def _default_text(f, auto):
    value = field_default(f)
    shown = "unset" if value is None else f"`{value!r}`".replace("'", '"')
    return f"{shown} (auto)" if auto else shown


def make_section_table(section, cls, auto_keys):
    """The markdown table of one section's keys."""
    comments = read_key_comments(cls)
    rows = [
        f"## [{section}]" + (' — `source = "ar1"`' if cls is schema.AR1DataSection else ""),
        "",
        "| key | type | default | allowed | what it does |",
        "|---|---|---|---|---|",
    ]
    for f in dataclasses.fields(cls):
        auto = f"{section}.{f.name}" in auto_keys
        what = comments.get(f.name, "").replace("|", "\\|")
        rows.append(
            f"| `{f.name}` | {_type_text(f.metadata)} | {_default_text(f, auto)} | "
            f"{_range_text(f.metadata)} | {what} |"
        )
    return "\n".join(rows) + "\n"


def make_recipe_reference():
    """The whole reference page as markdown."""
    auto_keys = set(schema.AUTO_KEYS) | set(schema.PANEL_AUTO_KEYS)
    parts = [_TITLE]
    for section, cls in SECTIONS[Recipe].items():
        parts.append(make_section_table(section, cls, auto_keys))
    parts.append(make_section_table("data", SECTIONS[AR1Recipe]["data"], set()))
    parts.append(make_removed_table())
    return "\n".join(parts)


def make_removed_table():
    """The keys that were measured and not adopted: a recipe holding one at the value that
    does what kseq does now still runs; another value is refused with the reason."""
    rows = [
        "## Removed and renamed keys",
        "",
        "A recipe (or a saved run) holding one of these at the value shown runs as before; any "
        "other value is refused with the reason. A renamed key is read under its new name, "
        "with a warning.",
        "",
        "| key | accepted value | what replaced it |",
        "|---|---|---|",
    ]
    for (section, key), new in schema.RENAMED_KEYS.items():
        rows.append(f"| `[{section}] {key}` | any | renamed `[{section}] {new}` |")
    for (section, key), (value, why) in schema.REMOVED_KEYS.items():
        shown = "unset" if value is None else f"`{value!r}`".replace("'", '"')
        if (section, key) in schema.MERGED_KEYS:
            shown += f" or what `{schema.MERGED_KEYS[(section, key)][0]}` says"
        rows.append(f"| `[{section}] {key}` | {shown} | {why} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(make_recipe_reference())
