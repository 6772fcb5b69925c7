"""Model builders (import Keras; the backend is chosen on first import)."""

from kseq.models.builders import (
    HEADS,
    build_ensemble,
    build_forecaster,
    build_seq2seq,
    head_loss,
    head_of,
    point_forecast,
)
from kseq.models.presets import (
    build_airpassengers_tutorial,
    build_ar1_model,
    build_sine_study_model,
)

__all__ = [
    "HEADS",
    "build_airpassengers_tutorial",
    "build_ensemble",
    "build_ar1_model",
    "build_forecaster",
    "build_seq2seq",
    "build_sine_study_model",
    "head_loss",
    "head_of",
    "point_forecast",
]
