"""The repository's own rules: it speaks of the product only, its recipe-key reference matches
the schema, and its functions and modules stay small enough to read.

The import-layer contract is checked by `lint-imports` in the lint env (pyproject.toml)."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".md", ".py", ".toml", ".ini", ".json", ".sh", ".txt", ".cfg", ".yml", ".yaml"}
SEARCHED = ("README.md", "docs", "kseq", "tests", "recipes", "studies", "benchmarks", "data", ".ci")
# A work log's words: the repository is a manual and dated results, not a diary. Keras's
# `clear_session` and the like are API names, not prose. (Spelled in pieces so that this file
# does not match itself.)
DIARY = re.compile(r"\b(" + "sess" + r"ions?|" + "iss" + r"ues?)\b", re.IGNORECASE)
API_NAMES = re.compile(r"clear_" + "sess" + "ion|[a-z]_sess" + "ion|sess" + "ion_id")

MAX_FUNCTION_LINES = 80
MAX_MODULE_CODE_LINES = 400


def _text_files():
    for name in SEARCHED:
        path = ROOT / name
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if (
                    file.suffix in TEXT_SUFFIXES
                    and file.is_file()
                    and "__pycache__" not in file.parts
                ):
                    yield file


def _python_modules():
    return sorted((ROOT / "kseq").rglob("*.py"))


def test_the_repository_speaks_of_the_product_not_of_its_work_log():
    found = []
    for path in _text_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if DIARY.search(API_NAMES.sub("", line)):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert not found, "\n".join(found[:20])


def test_the_diary_check_finds_what_it_looks_for():
    # The check itself works: each word is caught, API names are not.
    for line in (
        "Sess" + "ion 4 measured",
        "as the " + "iss" + "ue asks",
        "two " + "sess" + "ions",
    ):
        assert DIARY.search(API_NAMES.sub("", line))
    assert not DIARY.search(API_NAMES.sub("", "keras.backend.clear_" + "sess" + "ion()"))


def test_the_readme_is_a_manual_of_at_most_200_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail to docs/"


def test_the_recipe_reference_is_generated_from_the_schema():
    from kseq.config.reference import make_recipe_reference

    page = (ROOT / "docs" / "recipes.md").read_text()
    assert page == make_recipe_reference(), (
        "docs/recipes.md is stale: run `python -m kseq.config.reference > docs/recipes.md`"
    )


def test_every_recipe_key_is_in_the_reference():
    from kseq.config import recipe_keys

    page = (ROOT / "docs" / "recipes.md").read_text()
    for section, keys in recipe_keys().items():
        assert f"## [{section}]" in page
        for key in keys:
            assert f"| `{key}` |" in page, f"[{section}] {key} is not in docs/recipes.md"


def _function_lengths(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.end_lineno - node.lineno + 1


def _code_lines(path):
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(
        1
        for number, line in enumerate(source.splitlines(), 1)
        if line.strip() and not line.strip().startswith("#") and number not in docstrings
    )


def test_no_function_grows_past_the_size_limit():
    too_long = []
    for path in _python_modules():
        for name, length in _function_lengths(path):
            key = f"{path.relative_to(ROOT).as_posix()}::{name}"
            if length > MAX_FUNCTION_LINES:
                too_long.append(f"{key}: {length} lines")
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"


def test_no_module_grows_past_the_size_limit():
    too_long = []
    for path in _python_modules():
        key = path.relative_to(ROOT).as_posix()
        lines = _code_lines(path)
        if lines > MAX_MODULE_CODE_LINES:
            too_long.append(f"{key}: {lines} code lines")
    assert not too_long, f"modules over {MAX_MODULE_CODE_LINES} code lines: {too_long}"


@pytest.mark.parametrize(
    "source, expected",
    [("def f():\n" + "    x = 1\n" * 81, 82), ("def f():\n    return 1\n", 2)],
)
def test_function_lengths_are_counted_from_def_to_last_line(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert dict(_function_lengths(path))["f"] == expected


def test_code_lines_leave_out_docstrings_comments_and_blank_lines(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        '"""Doc\n\nstring."""\n\n# comment\nx = 1\n\n\ndef f():\n    """Doc."""\n    return x\n'
    )
    assert _code_lines(path) == 3
