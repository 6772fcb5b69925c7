"""What a training checkpoint holds, and how it is written and read (NumPy only, no Keras).

One checkpoint is one ``.npz`` file (no pickled objects) named after its epoch and the sha256 of
its bytes: ``checkpoint-000012-<sha256>.npz``. It is written to a temporary file, flushed to
disk and renamed into place, so a kill leaves the previous checkpoint or the new one; a file
whose bytes do not match its name (truncated, edited) is skipped for the one before it. The two
newest are kept.
"""

import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kseq._io import write_bytes_atomic

FORMAT_VERSION = 1
KEEP = 2
_NAME = re.compile(r"^checkpoint-(\d{6})-([0-9a-f]{64})\.npz$")

logger = logging.getLogger("kseq")


@dataclass
class CheckpointState:
    """A model's training state after `epoch` completed epochs.

    Args:
        epoch: epochs completed (the next `fit` starts at this `initial_epoch`).
        history: every epoch's logs so far, ``{name: [value per epoch]}``.
        variables: the model's trainable then non-trainable variables (the latter hold the
            dropout seed generators' states), in `model.variables` order.
        optimizer: the optimizer's variables (iteration count, learning rate, moments).
        early_stopping: the early-stopping counters (``wait``, ``best``, ``best_epoch``), or
            `None` without early stopping.
        best_variables: the weights early stopping would restore, or `None`.
        complete: training ended (all epochs, or stopped early): resume only restores it.
    """

    epoch: int
    history: dict = field(default_factory=dict)
    variables: list = field(default_factory=list)
    optimizer: list = field(default_factory=list)
    early_stopping: dict | None = None
    best_variables: list | None = None
    complete: bool = False


def write_checkpoint(directory, state):
    """Writes `state` into `directory` atomically and drops all but the newest `KEEP`."""
    directory = Path(directory)
    meta = {
        "format_version": FORMAT_VERSION,
        "epoch": state.epoch,
        "history": state.history,
        "early_stopping": state.early_stopping,
        "complete": state.complete,
        "num_variables": len(state.variables),
        "num_optimizer": len(state.optimizer),
        "num_best": None if state.best_variables is None else len(state.best_variables),
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    for prefix, values in (
        ("variable", state.variables),
        ("optimizer", state.optimizer),
        ("best", state.best_variables or []),
    ):
        arrays.update({f"{prefix}_{i}": np.asarray(v) for i, v in enumerate(values)})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    path = directory / f"checkpoint-{state.epoch:06d}-{digest}.npz"
    write_bytes_atomic(path, data, sync=True)
    for old in list_checkpoints(directory)[KEEP:]:
        if old != path:
            old.unlink(missing_ok=True)
    return path


def list_checkpoints(directory):
    """Checkpoint files in `directory`, newest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(p, _NAME.match(p.name)) for p in directory.iterdir()]
    return [
        p
        for p, m in sorted(
            ((p, m) for p, m in found if m), key=lambda pm: pm[1].group(1), reverse=True
        )
    ]


def read_checkpoint(directory):
    """The newest intact checkpoint in `directory` as a `CheckpointState`, or `None`.

    A file whose sha256 does not match its name, or that does not parse, is reported on the
    ``kseq`` logger and skipped for the previous one.
    """
    for path in list_checkpoints(directory):
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != _NAME.match(path.name).group(2):
            logger.warning("checkpoint %s is damaged (sha256 mismatch); using an older one", path)
            continue
        try:
            return _parse(data)
        except (ValueError, KeyError, OSError) as error:
            logger.warning("checkpoint %s does not parse (%s); using an older one", path, error)
    return None


def clear_checkpoints(directory):
    """Removes every checkpoint in `directory` (and the folder when that leaves it empty)."""
    directory = Path(directory)
    for path in list_checkpoints(directory):
        path.unlink(missing_ok=True)
    if directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()


def _parse(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        meta = json.loads(arrays["meta"].tobytes().decode())
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format version {meta.get('format_version')!r}")

        def take(prefix, count):
            return [arrays[f"{prefix}_{i}"] for i in range(count)]

        best = meta["num_best"]
        return CheckpointState(
            epoch=int(meta["epoch"]),
            history={k: list(v) for k, v in meta["history"].items()},
            variables=take("variable", meta["num_variables"]),
            optimizer=take("optimizer", meta["num_optimizer"]),
            early_stopping=meta["early_stopping"],
            best_variables=None if best is None else take("best", best),
            complete=bool(meta["complete"]),
        )
