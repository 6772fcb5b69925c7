"""The net's forecast combined with a classical model's: their mean.

Equal weights are the combination's default in the forecasting literature for a reason (the
"forecast combination puzzle": weights estimated on a short validation part lose to the mean
out of sample, their own estimation error eating what they gain); weights chosen on kseq's
validation windows were measured and did not beat the mean (docs/results.md). A saved run
records each combination's weight, and older runs may hold another one: `combine` takes it.
"""

__all__ = ["EQUAL_WEIGHT", "combine"]

EQUAL_WEIGHT = 0.5


def combine(net, other, weight=EQUAL_WEIGHT):
    """``weight × net + (1 - weight) × other`` (arrays or pandas columns of one shape)."""
    return weight * net + (1 - weight) * other
