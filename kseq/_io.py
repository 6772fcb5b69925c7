"""Atomic file writes: a crash leaves the old file or the new one, never half of one.

Temporary files and folders come from `tempfile`, which creates them private (0600/0700); they
get the permissions the user's umask gives a plain `open`/`mkdir` before they are renamed into
place.
"""

import io
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from kseq.errors import ConfigError

# A run's checkpoint folder, inside its run folder.
CHECKPOINTS = "checkpoints"

_umask_lock = threading.Lock()


def current_umask():
    """The process's umask (read by setting it and putting it back)."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def apply_umask(path, directory=False):
    """Gives `path` the mode a new file (0666) or folder (0777) gets under the umask."""
    os.chmod(path, (0o777 if directory else 0o666) & ~current_umask())


def make_staging_dir(target):
    """A new empty folder beside `target` (to fill, then rename onto it), umask-respecting."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    apply_umask(staging, directory=True)
    return staging


def write_bytes_atomic(path, data, sync=False):
    """Writes `data` to a temporary file beside `path`, then renames it over `path`.

    Args:
        sync: flush the file to disk before the rename (checkpoints: survives a power cut,
            not only a killed process).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        apply_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_text_atomic(path, text):
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path, value):
    return write_text_atomic(path, json.dumps(value, indent=2, default=str) + "\n")


def write_npz_atomic(path, **arrays):
    """Writes NumPy arrays as an ``.npz`` file (no pickled objects), atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write_bytes_atomic(path, buffer.getvalue())


def save_figure_atomic(figure, path, dpi=110):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return write_bytes_atomic(path, buffer.getvalue())


# What a kseq command writes in its --out folder: a folder holding one of these is a kseq
# output that --overwrite may replace (an origin of a backtest holds them one level down).
_OUTPUTS = frozenset(
    {"run_card.json", "checkpoints", "forecaster", "metrics.json", "backtest.json",
     "backtest_recipe.json", "benchmark.md", "pretraining.json", "model", "forecasts.csv"}
)  # fmt: skip


def claim_out_dir(folder, *, overwrite, resume=False):
    """Makes `folder` ready for a command's outputs. An empty or new folder is used as is; one
    holding anything is refused unless `resume` (the command continues what is there) or
    `overwrite` (its contents are removed first, so two runs' files never mix)."""
    folder = Path(folder)
    if overwrite and resume:
        raise ConfigError("--overwrite starts again and --resume continues; give one of them.")
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    if not entries or resume:
        return
    names = ", ".join(p.name for p in entries[:4]) + (", ..." if len(entries) > 4 else "")
    if not overwrite:
        raise ConfigError(
            f"--out {folder} already holds files ({names}); add --overwrite to replace them, "
            "--resume to continue an interrupted run there, or give another --out."
        )
    ours = any(
        p.name in _OUTPUTS or (p.is_dir() and any((p / name).exists() for name in _OUTPUTS))
        for p in entries
    )
    if not ours:
        raise ConfigError(
            f"--out {folder} holds files kseq did not write ({names}); --overwrite only "
            "replaces a kseq output folder. Give another --out."
        )
    for path in entries:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
