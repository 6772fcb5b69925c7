"""What the pretrained network reads and predicts, in NumPy (no Keras).

Every series is cut to its last `lookback` points (the context), left-padded with zeros
where it is shorter, and standardised by the mean and standard deviation of its observed
context — statistics of the context alone, so a forecast uses nothing after its origin. Each
step carries two features, the standardised value and whether it was observed, and each
series its frequency kind (yearly, quarterly, monthly, other) as a one-hot vector.

The network predicts, for each of `horizon` steps, quantiles of the change from the last
observed value in units of the context's standard deviation; `to_original_units` maps them
back. Predicting changes makes "no change" (the naive forecast) the zero output.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kseq.errors import DataError

KINDS = ("yearly", "quarterly", "monthly", "other")
NUM_STEP_FEATURES = 2
# The smallest standard deviation a context is divided by, relative to its mean magnitude
# (a constant series would otherwise divide by zero).
_MIN_RELATIVE_SCALE = 1e-3
_MIN_SCALE = 1e-8


def read_kind(freq):
    """The frequency kind of a pandas frequency (``"MS"`` -> ``"monthly"``); weekly, daily
    and finer are ``"other"``."""
    offset = pd.tseries.frequencies.to_offset(freq)
    name = type(offset).__name__
    if name.startswith("Year"):
        return "yearly"
    if name.startswith("Quarter"):
        return "quarterly"
    if name.startswith("Month"):
        return "monthly"
    return "other"


@dataclass(frozen=True)
class Contexts:
    """The network's inputs for a batch of series, and how to map its outputs back.

    Attributes:
        steps: ``(num_series, lookback, 2)`` float32: standardised value, observed flag.
        kinds: ``(num_series, 4)`` float32 one-hot frequency kinds.
        last: ``(num_series,)`` float64, each context's last value (original units).
        scale: ``(num_series,)`` float64, each context's standard deviation (floored).
    """

    steps: np.ndarray
    kinds: np.ndarray
    last: np.ndarray
    scale: np.ndarray

    def to_original_units(self, outputs):
        """``(num_series, horizon, ...)`` network outputs -> forecasts in original units."""
        outputs = np.asarray(outputs, dtype=np.float64)
        extra = (1,) * (outputs.ndim - 1)
        return self.last.reshape(-1, *extra) + self.scale.reshape(-1, *extra) * outputs


def _kind_vectors(kind, count):
    if kind not in KINDS:
        raise DataError(f"Unknown frequency kind {kind!r}; choose one of {list(KINDS)}.")
    vectors = np.zeros((count, len(KINDS)), dtype=np.float32)
    vectors[:, KINDS.index(kind)] = 1.0
    return vectors


def _standardise(windows, observed):
    """Mean and floored standard deviation of each row's observed values."""
    count = observed.sum(axis=1)
    mean = (windows * observed).sum(axis=1) / count
    spread = np.sqrt((((windows - mean[:, None]) * observed) ** 2).sum(axis=1) / count)
    floor = np.maximum(_MIN_RELATIVE_SCALE * np.abs(mean), _MIN_SCALE)
    return mean, np.maximum(spread, floor)


def make_contexts(series, kind, lookback):
    """The contexts of the last `lookback` points of each array in `series`.

    Args:
        series: a sequence of 1-D arrays (finite values, at least one each).
        kind: the frequency kind shared by all of them (see `read_kind`).
        lookback: the network's context length.
    """
    windows = np.zeros((len(series), lookback), dtype=np.float64)
    observed = np.zeros((len(series), lookback), dtype=np.float64)
    for row, values in enumerate(series):
        tail = np.asarray(values, dtype=np.float64)[-lookback:]
        if len(tail) == 0:
            raise DataError(f"Series number {row} is empty; a forecast needs one value or more.")
        windows[row, lookback - len(tail) :] = tail
        observed[row, lookback - len(tail) :] = 1.0
    return _contexts(windows, observed, kind)


def _contexts(windows, observed, kind):
    mean, scale = _standardise(windows, observed)
    steps = np.stack([(windows - mean[:, None]) / scale[:, None] * observed, observed], axis=-1)
    return Contexts(
        steps=steps.astype(np.float32),
        kinds=_kind_vectors(kind, len(windows)),
        last=windows[:, -1].copy(),
        scale=scale,
    )


@dataclass(frozen=True)
class TrainingWindows:
    """Windows cut from training series, ready for `fit`.

    Attributes:
        steps, kinds: the inputs, as in `Contexts`.
        targets: ``(num_windows, horizon, 2)`` float32: the standardised change from the
            context's last value, and 1 where that step is inside the series and within the
            frequency's horizon (0: padding, left out of the loss).
    """

    steps: np.ndarray
    kinds: np.ndarray
    targets: np.ndarray

    def __len__(self):
        return len(self.steps)


def make_training_windows(series, kind, *, lookback, horizon, kind_horizon, min_context,
                          max_windows_per_series):  # fmt: skip
    """Every window of the series in `series` whose origin leaves `min_context` points before
    it, the latest `max_windows_per_series` of each series (long series would otherwise
    outweigh short ones).

    Args:
        series: a sequence of 1-D arrays, all of frequency `kind`.
        lookback, horizon: the network's context and output lengths.
        kind_horizon: steps scored for this kind (at most `horizon`; the rest are masked).
        min_context: the fewest observed points before an origin.
        max_windows_per_series: the latest origins kept per series.
    """
    contexts, observed, targets = [], [], []
    for values in series:
        values = np.asarray(values, dtype=np.float64)
        n = len(values)
        origins = np.arange(max(min_context, n - max_windows_per_series), n)
        if len(origins) == 0:
            continue
        padded = np.concatenate([np.zeros(lookback), values, np.full(horizon, np.nan)])
        flags = np.concatenate([np.zeros(lookback), np.ones(n), np.zeros(horizon)])
        view = np.lib.stride_tricks.sliding_window_view(padded, lookback + horizon)
        mask_view = np.lib.stride_tricks.sliding_window_view(flags, lookback + horizon)
        # Window w starts at padded position w, so origin c (a position in `values`) is w = c.
        contexts.append(view[origins, :lookback])
        observed.append(mask_view[origins, :lookback])
        future = view[origins, lookback:]
        valid = mask_view[origins, lookback:].copy()
        valid[:, kind_horizon:] = 0.0
        targets.append((future, valid))
    if not contexts:
        raise DataError(f"No {kind} series has more than {min_context} points.")
    windows, flags = np.concatenate(contexts), np.concatenate(observed)
    future = np.concatenate([f for f, _ in targets])
    valid = np.concatenate([v for _, v in targets])
    made = _contexts(windows, flags, kind)
    change = (future - made.last[:, None]) / made.scale[:, None]
    change = np.where(valid > 0, change, 0.0)
    return TrainingWindows(
        steps=made.steps,
        kinds=made.kinds,
        targets=np.stack([change, valid], axis=-1).astype(np.float32),
    )


def concat_windows(parts):
    """One `TrainingWindows` of several."""
    return TrainingWindows(
        steps=np.concatenate([p.steps for p in parts]),
        kinds=np.concatenate([p.kinds for p in parts]),
        targets=np.concatenate([p.targets for p in parts]),
    )
