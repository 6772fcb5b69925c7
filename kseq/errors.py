"""Errors and warnings raised by kseq.

Every error is a subclass of `ValueError` or `TypeError`, so existing ``except ValueError`` code
keeps working, and of `KseqError`, so callers can catch kseq's own errors in one clause.
"""


class KseqError(Exception):
    """Base class of every error kseq raises on purpose."""


class DataError(KseqError, ValueError):
    """The data cannot be used as given; the message says where and what to do."""


class EmptyDataError(DataError):
    """The file or frame holds no rows (or only a header)."""


class ColumnNotFoundError(DataError):
    """A named column is not in the data; the message lists the available ones."""


class DataTypeError(KseqError, TypeError):
    """A column holds non-numeric, boolean or object values where numbers are needed."""


class MissingValueError(DataError):
    """A column holds NaN; pass ``missing="ffill"`` or ``"interpolate"`` to fill them."""


class InfiniteValueError(DataError):
    """A column holds +inf or -inf."""


class TimeIndexError(DataError):
    """The time column has duplicates, gaps or an irregular frequency."""


class SeriesTooShortError(DataError):
    """The series is shorter than the windows and splits need."""


class NotFittedError(KseqError, ValueError):
    """A transform or forecaster was used before `fit`."""


class ConfigError(KseqError, ValueError):
    """A recipe or study configuration has an unknown key, a wrong type or a bad value."""


class BackendError(KseqError, ImportError):
    """The requested Keras backend is not installed or cannot be chosen any more."""


class MissingDependencyError(KseqError, ImportError):
    """An optional dependency is not installed; the message names the extra."""


class KseqWarning(UserWarning):
    """Base class of kseq's warnings: the data or setting is usable but deserves a look."""


class DataWarning(KseqWarning):
    """The data was usable after a documented fix-up (sorted, converted to UTC, ...)."""


class TrustWarning(KseqWarning):
    """A result that cannot be trusted: a net trained on a few windows, intervals far from
    their nominal coverage, a forecast far past the steps the run was tested on."""


class LeakageWarning(KseqWarning):
    """A configuration lets a fitted statistic see the test period."""


class SavedStateError(DataError):
    """A saved forecaster or checkpoint was changed, is incomplete or has another format."""


class TrainingInterrupted(KeyboardInterrupt):
    """A run stopped on SIGINT or SIGTERM (after the running training step); the last
    checkpoint is kept. A `KeyboardInterrupt`, as Ctrl-C is: ``except Exception`` (Keras's
    own error handling included) lets it through.

    Attributes:
        signal_number: the signal received (`signal.SIGINT` or `signal.SIGTERM`).
        exit_code: the conventional exit status, 128 + the signal number (130, 143).
        resumable: whether a checkpoint was written before the stop (``--resume`` continues
            from it); `False` where training stopped before its first one.
    """

    def __init__(self, message, signal_number):
        super().__init__(message)
        self.signal_number = int(signal_number)
        self.resumable = True
        self.exit_code = 128 + self.signal_number


# The one line for a data-parallel recipe on PyTorch: the recipe check and the runtime say it.
TORCH_DATA_PARALLEL = (
    '[training] distribution = "data_parallel" is not supported on the PyTorch backend: Keras '
    "3.15 has no released keras.distribution support for torch. Use the JAX or TensorFlow "
    'backend (--backend jax), or set distribution = "none".'
)


def check_positive(name, value):
    """`value` if it is a positive integer; else a `ValueError` quoting it (layers, losses)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value
