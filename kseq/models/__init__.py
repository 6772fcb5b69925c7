"""Model builders. The builders import Keras on first use (the backend is chosen first);
`kseq.models.registry`, which names them for recipes, does not."""

_BUILDERS = {
    "HEADS": "kseq.models.builders",
    "build_ensemble": "kseq.models.builders",
    "build_forecaster": "kseq.models.builders",
    "build_forecaster_from_section": "kseq.models.builders",
    "build_seq2seq": "kseq.models.builders",
    "head_of": "kseq.models.builders",
    "build_airpassengers_tutorial": "kseq.models.presets",
    "build_ar1_model": "kseq.models.presets",
    "build_sine_study_model": "kseq.models.presets",
}

__all__ = sorted(_BUILDERS)


def __getattr__(name):
    # Imported on first use so that `import kseq.models.registry` does not import Keras.
    if name in _BUILDERS:
        import importlib

        return getattr(importlib.import_module(_BUILDERS[name]), name)
    raise AttributeError(f"module 'kseq.models' has no attribute {name!r}")
