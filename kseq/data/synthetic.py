"""Seeded synthetic series: the sine families of the LSTM sine study and AR(1) paths."""

import numpy as np
import pandas as pd

SINE_FAMILIES = ("clean", "noisy_offset", "x_sin", "random_amplitude")


def make_sine(family="clean", *, num_points=100, end=20.0, seed=None):
    """Makes one of the four sine series of the LSTM sine study.

    With ``x = linspace(0, end, num_points)`` and ``u ~ U(0, 1)`` drawn per point:

    - ``"clean"``: ``5·sin(x) + 10``;
    - ``"noisy_offset"``: ``5·sin(x) + 10·u``;
    - ``"x_sin"``: ``x·sin(x) + 10·u``;
    - ``"random_amplitude"``: ``a·sin(x) + 10·u`` with one amplitude ``a ~ U(0, 1)``.

    The study used ``end=20, num_points=100`` and, for its longer series, ``end=100,
    num_points=1000``.

    Args:
        family: one of `SINE_FAMILIES`.
        num_points: number of points, at least 2.
        end: last x value (the first is 0).
        seed: seed of the noise (`numpy.random.default_rng`).

    Returns:
        A float64 `pandas.Series` named after the family, indexed by x (index name ``"x"``).
    """
    if family not in SINE_FAMILIES:
        raise ValueError(f"Unknown sine family {family!r}; choose one of {SINE_FAMILIES}.")
    if int(num_points) != num_points or num_points < 2:
        raise ValueError(f"`num_points` must be an integer >= 2. Received: {num_points!r}")
    if not end > 0:
        raise ValueError(f"`end` must be positive. Received: {end!r}")
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, float(end), int(num_points))
    if family == "clean":
        y = 5.0 * np.sin(x) + 10.0
    elif family == "noisy_offset":
        y = 5.0 * np.sin(x) + 10.0 * rng.uniform(size=x.shape)
    elif family == "x_sin":
        y = x * np.sin(x) + 10.0 * rng.uniform(size=x.shape)
    else:
        amplitude = rng.uniform()
        y = amplitude * np.sin(x) + 10.0 * rng.uniform(size=x.shape)
    return pd.Series(y, index=pd.Index(x, name="x"), name=family)


def make_ar1(num_paths, *, num_steps=100, rho=0.1, lag_weight=0.0, seed=None):
    """Makes AR(1) paths and the nonlinear lag target of the AR(1) lag-function problem.

    ``x_t = rho·x_{t-1} + eps_t`` with ``eps_t ~ N(0, 1)`` and ``x_0 = 0``; the target is
    ``y_t = x_t² + lag_weight·x_{t-1}²`` for ``t = 1..num_steps`` (so ``y_1 = x_1²``).

    Args:
        num_paths: number of independent paths (the batch).
        num_steps: steps per path, ``T``.
        rho: AR coefficient; ``|rho| < 1`` keeps the process stationary.
        lag_weight: ``w``, the weight of the lagged square in the target.
        seed: seed of `numpy.random.default_rng`.

    Returns:
        ``(x, y)``, float32 arrays of shape ``(num_paths, num_steps, 1)``.
    """
    for name, value in (("num_paths", num_paths), ("num_steps", num_steps)):
        if int(value) != value or value < 1:
            raise ValueError(f"`{name}` must be a positive integer. Received: {value!r}")
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((int(num_paths), int(num_steps)))
    x = np.zeros((int(num_paths), int(num_steps) + 1))
    for t in range(1, int(num_steps) + 1):
        x[:, t] = rho * x[:, t - 1] + eps[:, t - 1]
    y = x[:, 1:] ** 2 + lag_weight * x[:, :-1] ** 2
    return x[:, 1:, None].astype("float32"), y[:, :, None].astype("float32")
