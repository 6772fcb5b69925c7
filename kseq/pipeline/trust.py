"""Where a run's result cannot be trusted, in plain sentences: a net trained on a handful of
windows, intervals whose coverage on the test part is far from what they promise, a forecast
far past the steps the run was tested on. Each is a `TrustWarning` and a run-card note."""

import math
import warnings

from kseq.errors import TrustWarning

# Fewer training windows than this: the net has seen too few examples to learn from.
FEW_WINDOWS = 20
# Coverage further than this many binomial standard deviations from the nominal level.
COVERAGE_SIGMAS = 3.0
# A forecast longer than this many times the steps the run was tested on.
EXTRAPOLATION = 2


def count_windows(num_points, lookback, horizon, context_length=0):
    """Training windows of `lookback` inputs and `horizon` targets in `num_points` points
    (`context_length` of them taken by differencing)."""
    return max(0, num_points - context_length - lookback - horizon + 1)


def describe_few_windows(num_windows):
    """A sentence when `num_windows` is too few to train a net on, else `None`."""
    if num_windows >= FEW_WINDOWS:
        return None
    return (
        f"the net trained on {num_windows} window(s) only (fewer than {FEW_WINDOWS}): its "
        "forecasts say little; trust the baselines beside it, use a shorter [windows] "
        "lookback, or forecast several series together as a panel"
    )


def describe_coverage(coverage, counts):
    """Sentences for the interval bands whose share of test points inside is far from the
    nominal level (more than `COVERAGE_SIGMAS` binomial standard deviations at the band's
    number of points).

    Args:
        coverage: ``{label: {"80": share inside, ...}}``.
        counts: ``{label: number of test points scored}``.
    """
    notes = []
    for label, shares in coverage.items():
        n = counts.get(label, 0)
        for level, share in shares.items():
            nominal = float(level) / 100
            if n < 1 or not 0 < nominal < 1:
                continue
            spread = COVERAGE_SIGMAS * math.sqrt(nominal * (1 - nominal) / n) + 1 / n
            if abs(share - nominal) > spread:
                notes.append(
                    f"the {level} % intervals ({label}) held {100 * share:.0f} % of the {n} "
                    f"test points, far from {level} %: "
                    + (
                        "too narrow; widen them with more calibration windows or a longer "
                        "validation part"
                        if share < nominal
                        else "wider than needed"
                    )
                )
    return notes


def check_panel_coverage(coverage, num_series):
    """`describe_coverage` of a panel run's ``{"test": {method: {level: share}}}``, warned.
    A series' test steps move together: the series, not the points, count as samples."""
    tested = coverage.get("test", {})
    notes = describe_coverage(tested, dict.fromkeys(tested, num_series))
    warn(notes, stacklevel=3)
    return notes


def describe_extrapolation(steps, tested):
    """A sentence when a forecast of `steps` goes far past the `tested` steps, else `None`."""
    if tested < 1 or steps <= EXTRAPOLATION * tested:
        return None
    return (
        f"{steps} steps is more than {EXTRAPOLATION} times the {tested} steps this run was "
        "tested on: errors compound with every step fed back, and nothing measured them there"
    )


def warn(notes, stacklevel=2):
    """Each note as a `TrustWarning` (the command line shows one line each)."""
    for note in notes:
        if note:
            warnings.warn(f"{note}.", TrustWarning, stacklevel=stacklevel + 1)
