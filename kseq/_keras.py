"""The one place kseq imports Keras: the backend is chosen first (see `kseq.backend`)."""

from kseq.backend import ensure_backend

ensure_backend()

import keras  # noqa: E402

__all__ = ["keras"]
