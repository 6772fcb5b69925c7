"""Losses for the probabilistic heads (import Keras)."""

from kseq.losses.mixture_nll import MixtureNLL
from kseq.losses.pinball_loss import PinballLoss

__all__ = ["MixtureNLL", "PinballLoss"]
