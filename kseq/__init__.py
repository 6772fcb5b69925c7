"""kseq: sequence forecasting with recurrent nets on Keras 3.

Importing ``kseq`` imports neither Keras nor a backend, so the backend can still be chosen
(``KERAS_BACKEND`` or ``kseq.backend.select_backend``) after ``import kseq``. The subpackages
that need Keras (``kseq.layers``, ``kseq.losses``, ``kseq.models``, ``kseq.forecaster``) choose
the backend when they are first imported, and so do the two entry points named here, on first
use: ``kseq.KSeq`` (fit on a long DataFrame, forecast past its end) and
``kseq.load_pretrained`` (the shipped pretrained network).
"""

import importlib

__version__ = "0.1.0"

__all__ = ["KSeq", "__version__", "load_pretrained"]

# name -> module: imported on first access, so that `import kseq` stays free of Keras.
_LAZY = {"KSeq": "kseq.api", "load_pretrained": "kseq.pretrained"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kseq' has no attribute {name!r}")
