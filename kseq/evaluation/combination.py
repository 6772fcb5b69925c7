"""The net's forecast combined with a classical model's: equal weights, or the net's weight
chosen on the validation part (``[evaluation] combination_weights = "validation"``).

Estimated combination weights often lose to equal ones out of sample (the "forecast
combination puzzle": the weights' own estimation error eats what they gain), so the choice is
among a coarse grid that holds 1/2 — one number per combination, from the same validation
windows that choose the method — and a tie keeps 1/2.
"""

import numpy as np

__all__ = ["EQUAL_WEIGHT", "NET_WEIGHTS", "combine", "fit_weight"]

EQUAL_WEIGHT = 0.5
# The net's weights a validation part may choose (0 and 1 are the members, candidates apart).
NET_WEIGHTS = (0.25, 0.5, 0.75)


def combine(net, other, weight=EQUAL_WEIGHT):
    """``weight × net + (1 - weight) × other`` (arrays or pandas columns of one shape)."""
    return weight * net + (1 - weight) * other


def fit_weight(score, weights=NET_WEIGHTS):
    """The weight of `weights` whose ``score(weight)`` (an error: lower is better) is lowest;
    1/2 when it ties for lowest or no score is a number."""
    scores = {weight: float(score(weight)) for weight in weights}
    defined = {weight: value for weight, value in scores.items() if np.isfinite(value)}
    if not defined:
        return EQUAL_WEIGHT
    lowest = min(defined.values())
    if defined.get(EQUAL_WEIGHT) == lowest:
        return EQUAL_WEIGHT
    return min(defined, key=defined.get)
