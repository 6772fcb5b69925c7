"""Input/target windows as zero-copy views of a series."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kseq.errors import SeriesTooShortError


def _as_2d(values, argument):
    array = np.asarray(values)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"`{argument}` must be 1-D (time,) or 2-D (time, columns). Received shape "
            f"{array.shape}."
        )
    return array


def make_windows(inputs, targets=None, *, lookback, horizon=1, stride=1, sequence=False):
    """Cuts a series into aligned input and target windows, as views (no copy).

    Window ``i`` reads ``inputs[i·stride : i·stride + lookback]``. Its targets are the next
    `horizon` steps, ``targets[i·stride + lookback : i·stride + lookback + horizon]``, or with
    ``sequence=True`` one target per input step, ``targets[i·stride : i·stride + lookback]``.

    On ``arange(10)`` with ``lookback=3, horizon=2``: the first window reads ``[0, 1, 2]`` and
    targets ``[3, 4]``; there are ``10 - 3 - 2 + 1 = 6`` windows.

    The results share memory with the arguments: the windows of a 10M-point series cost no
    extra memory. Copy a batch (``x[batch_indices]`` does) before changing it.

    Args:
        inputs: array of shape ``(time,)`` or ``(time, num_features)``.
        targets: array of shape ``(time,)`` or ``(time, num_targets)`` aligned with `inputs`;
            `inputs` itself when `None`.
        lookback: number of input steps per window.
        horizon: number of target steps per window (ignored when ``sequence=True``).
        stride: steps between the starts of consecutive windows.
        sequence: one target per input step (sequence-to-sequence) instead of the steps after.

    Returns:
        ``(x, y)``: x of shape ``(num_windows, lookback, num_features)``, y of shape
        ``(num_windows, horizon, num_targets)`` (``lookback`` steps with ``sequence=True``).
    """
    for name, value in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"`{name}` must be a positive integer. Received: {value!r}")
    lookback, horizon, stride = int(lookback), int(horizon), int(stride)
    x_series = _as_2d(inputs, "inputs")
    y_series = x_series if targets is None else _as_2d(targets, "targets")
    if len(y_series) != len(x_series):
        raise ValueError(
            f"`inputs` and `targets` must have the same length. Received {len(x_series)} and "
            f"{len(y_series)}."
        )
    span = lookback if sequence else lookback + horizon
    if len(x_series) < span:
        raise SeriesTooShortError(
            f"The series has {len(x_series)} points but one window needs {span} "
            f"(lookback {lookback}" + ("" if sequence else f" + horizon {horizon}") + ")."
        )
    # sliding_window_view puts the window axis last: (num_windows, columns, span).
    x_all = sliding_window_view(x_series, span, axis=0)
    y_all = sliding_window_view(y_series, span, axis=0)
    x = x_all[::stride, :, :lookback].transpose(0, 2, 1)
    if sequence:
        y = y_all[::stride, :, :lookback]
    else:
        y = y_all[::stride, :, lookback:]
    return x, y.transpose(0, 2, 1)


def count_served_windows(num_windows, batch_size, batch_multiple=1):
    """Windows one pass serves when every batch must hold a multiple of `batch_multiple`
    windows (data-parallel training on JAX): the last partial batch leaves out its remainder.

    >>> count_served_windows(50, 16, 4)   # batches of 16, 16, 16, then 2 -> 0
    48
    """
    served = num_windows - (num_windows % batch_size) % batch_multiple
    if served < 1:
        raise ValueError(
            f"{num_windows} window(s) cannot fill one batch share on each of "
            f"{batch_multiple} devices; use fewer devices or more data."
        )
    return served
