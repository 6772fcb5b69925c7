"""kseq: sequence forecasting with recurrent nets on Keras 3.

Importing ``kseq`` imports neither Keras nor a backend, so the backend can still be chosen
(``KERAS_BACKEND`` or ``kseq.backend.select_backend``) after ``import kseq``. The subpackages
that need Keras (``kseq.layers``, ``kseq.losses``, ``kseq.models``, ``kseq.forecaster``) choose
the backend when they are first imported.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
