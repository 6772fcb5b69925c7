"""kseq's pretrained global network: stacked LSTMs learned from the M1, M3 and Tourism
competition series, shipped in the package, that forecast a series they never saw.

>>> from kseq.pretrained import load_pretrained
>>> model = load_pretrained()                     # the shipped weights, sha256-checked
>>> model.forecast(df, h=12)                      # unique_id, ds, kseq, kseq-lo-80, ...

The model card is ``kseq/pretrained/weights/MODEL_CARD.md`` (data, licence, training command,
scores, limits). Importing this package imports no Keras; loading the model does.
"""

from pathlib import Path

# The shipped weights: a saved `PretrainedForecaster` folder (see `kseq.saving`).
SHIPPED = Path(__file__).resolve().parent / "weights" / "kseq-lstm-mcorpus"


def load_pretrained(directory=None):
    """The shipped `PretrainedForecaster` (or the one saved in `directory`), its files'
    sha256 checked and the network loaded with ``safe_mode=True``."""
    from kseq.pretrained.pretrained_forecaster import PretrainedForecaster

    return PretrainedForecaster.load(SHIPPED if directory is None else directory)


def __getattr__(name):
    # Imported on first use so that `import kseq.pretrained` does not import Keras.
    if name == "PretrainedForecaster":
        from kseq.pretrained.pretrained_forecaster import PretrainedForecaster

        return PretrainedForecaster
    raise AttributeError(f"module 'kseq.pretrained' has no attribute {name!r}")


__all__ = ["SHIPPED", "load_pretrained"]
