"""Atomic file writes: a crash leaves the old file or the new one, never half of one."""

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def write_bytes_atomic(path, data):
    """Writes `data` to a temporary file beside `path`, then renames it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
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
