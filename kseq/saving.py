"""Saved forecasters that are what they claim: one folder, every file hashed, the state checked.

A saved forecaster is a folder holding ``model.keras`` and one JSON file (``forecaster.json``
or ``global_forecaster.json``)::

    {"format_version": 2, "kind": "forecaster",
     "files": {"model.keras": "<sha256>"},      # every other file of the folder
     "state": {...},                            # lookback, transforms, ... (the schema below)
     "sha256": "<sha256 of the canonical JSON of format_version, kind, files and state>"}

Editing any file, a value of the state included, changes a digest and the load is refused;
the state is then checked against its schema (keys, types, ranges) before it is used. The
folder is written beside its final place and renamed into it, with the user's umask.
"""

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from kseq._io import make_staging_dir
from kseq.errors import SavedStateError

FORMAT_VERSION = 2
MODEL_FILE = "model.keras"


def _digest(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _file_digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_saved_folder(directory, *, kind, state_file, state, write_files):
    """Writes a saved-forecaster folder atomically.

    Args:
        directory: the target folder (replaced when it exists).
        kind: what the folder holds (``"forecaster"``, ``"global_forecaster"``).
        state_file: name of the JSON file.
        state: the JSON state (see the module docstring).
        write_files: ``write_files(staging)`` writes the other files (the model) into the
            staging folder.
    """
    directory = Path(directory)
    with staged_folder(directory) as staging:
        write_files(staging)
        files = {p.name: _file_digest(p) for p in sorted(staging.iterdir()) if p.name != state_file}
        body = {"format_version": FORMAT_VERSION, "kind": kind, "files": files, "state": state}
        body["sha256"] = _digest(body)
        (staging / state_file).write_text(json.dumps(body, indent=2, allow_nan=False) + "\n")
    return directory


@contextlib.contextmanager
def staged_folder(directory):
    """Yields an empty folder beside `directory` to fill; on success it replaces `directory`
    (`replace_folder`), on any error it is removed and `directory` is left as it was."""
    staging = make_staging_dir(directory)
    try:
        yield staging
        replace_folder(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def replace_folder(staging, directory):
    """Moves the filled `staging` folder onto `directory` (a folder of the same parent),
    replacing what is there; a reader sees the old folder or the new one, never a mix."""
    directory = Path(directory)
    if directory.exists():
        old = make_staging_dir(directory.with_name(directory.name + ".old"))
        os.replace(directory, old / "previous")
        os.replace(staging, directory)
        shutil.rmtree(old)
    else:
        os.replace(staging, directory)


def read_saved_folder(directory, *, kind, state_file, schema):
    """The checked state of a saved folder; `SavedStateError` on any mismatch.

    Args:
        schema: ``{key: check}``, where ``check(value)`` returns an error text or `None`.
    """
    directory = Path(directory)
    path = directory / state_file
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {directory} is not a saved {kind}.")
    try:
        body = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SavedStateError(f"{path} is not valid JSON ({error}); {_redo(kind)}.") from None
    if not isinstance(body, dict) or body.get("format_version") != FORMAT_VERSION:
        version = body.get("format_version") if isinstance(body, dict) else None
        raise SavedStateError(
            f"{path} has format version {version!r}; this kseq reads version {FORMAT_VERSION}: "
            f"{_redo(kind)} with this kseq."
        )
    if body.get("kind") != kind:
        raise SavedStateError(f"{directory} holds a {body.get('kind')!r}, not a {kind}.")
    recorded = body.pop("sha256", None)
    if recorded != _digest(body):
        raise SavedStateError(
            f"{path} was changed after it was saved (its sha256 does not match); "
            f"the forecaster cannot be trusted: {_redo(kind)}."
        )
    files = body.get("files")
    if not isinstance(files, dict) or MODEL_FILE not in files:
        raise SavedStateError(f"{path} lists no {MODEL_FILE}.")
    for name, digest in files.items():
        file = directory / name
        if not file.is_file():
            raise FileNotFoundError(f"{file} is missing: {directory} is not a complete {kind}.")
        if _file_digest(file) != digest:
            raise SavedStateError(
                f"{file} does not match the sha256 recorded in {path}; the files were changed "
                f"or mixed up: {_redo(kind)}."
            )
    state = body["state"]
    problems = [
        f"{key}: {problem}"
        for key, check in schema.items()
        if (problem := "missing" if key not in state else check(state[key]))
    ]
    if problems:
        raise SavedStateError(f"{path} does not match its schema: {'; '.join(problems)}.")
    return state


def plain_value(value):
    """A numpy scalar (a series id, say) as the Python value JSON writes; others unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def positive_int(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"expected a positive integer, found {value!r}"
    return None


def non_negative_int(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"expected an integer >= 0, found {value!r}"
    return None


def of_type(*types):
    def check(value):
        if isinstance(value, bool) and bool not in types:
            return f"expected {'/'.join(t.__name__ for t in types)}, found {value!r}"
        if not isinstance(value, types):
            return f"expected {'/'.join(t.__name__ for t in types)}, found {value!r}"
        return None

    return check


def _redo(kind):
    """How to write a saved `kind` again: the command that does it."""
    if kind == "pretrained_forecaster":
        return (
            "write it again (`kseq pretrain --out DIR --overwrite`; the shipped network comes "
            "back with `pip install --force-reinstall kseq`)"
        )
    return (
        "write it again (`kseq run RECIPE --out DIR --overwrite` saves a run's forecaster; in "
        "Python, `forecaster.save(DIR)`)"
    )
