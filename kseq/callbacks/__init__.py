"""Keras callbacks for runs that survive interruption (imports Keras: import it lazily)."""

from kseq.callbacks.checkpoint_state import (
    CheckpointState,
    clear_checkpoints,
    list_checkpoints,
    read_checkpoint,
    write_checkpoint,
)
from kseq.callbacks.interrupt_guard import InterruptGuard
from kseq.callbacks.resumable_early_stopping import ResumableEarlyStopping
from kseq.callbacks.training_checkpoint import (
    TrainingCheckpoint,
    read_model_state,
    restore_model_state,
)

__all__ = [
    "CheckpointState",
    "InterruptGuard",
    "ResumableEarlyStopping",
    "TrainingCheckpoint",
    "clear_checkpoints",
    "list_checkpoints",
    "read_checkpoint",
    "restore_model_state",
    "read_model_state",
    "write_checkpoint",
]
