"""Invertible transforms: log, seasonal adjustment, differencing and MinMax scaling,
composable and JSON-saveable."""

from kseq.transforms.difference import Difference
from kseq.transforms.log_transform import LogTransform
from kseq.transforms.min_max_scale import MinMaxScale
from kseq.transforms.seasonal_adjust import SeasonalAdjust
from kseq.transforms.transform_pipeline import TRANSFORMS, TransformPipeline

__all__ = [
    "TRANSFORMS",
    "Difference",
    "LogTransform",
    "MinMaxScale",
    "SeasonalAdjust",
    "TransformPipeline",
]
