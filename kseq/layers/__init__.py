"""Backend-agnostic layers (import Keras; the backend is chosen on first import)."""

from kseq.layers.mixture_density_head import MixtureDensityHead
from kseq.layers.point_head import PointHead
from kseq.layers.quantile_head import QuantileHead
from kseq.layers.sequence_head import SequenceHead
from kseq.layers.stacked_rnn import CELLS, StackedRNN

__all__ = ["CELLS", "MixtureDensityHead", "PointHead", "QuantileHead", "SequenceHead", "StackedRNN"]
