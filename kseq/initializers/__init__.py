"""Initializers (import Keras)."""

from kseq.initializers.forget_bias import ForgetBias

__all__ = ["ForgetBias"]
