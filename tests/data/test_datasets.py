import numpy as np
import pandas as pd

from kseq.data import load_airpassengers, make_ar1, make_sine


def test_airpassengers_matches_the_reference_copy():
    series = load_airpassengers()
    assert len(series) == 144
    assert series.sum() == 40363
    assert series.min() == 104 and series.idxmin() == pd.Timestamp("1949-11-01")
    assert series.max() == 622 and series.idxmax() == pd.Timestamp("1960-07-01")
    assert series.iloc[0] == 112 and series.iloc[-1] == 432
    assert series.index.freqstr == "MS"
    assert series.index[0] == pd.Timestamp("1949-01-01")
    assert series.index[-1] == pd.Timestamp("1960-12-01")


def test_sine_families_follow_their_formulas():
    x = np.linspace(0, 20, 100)
    clean = make_sine("clean")
    np.testing.assert_allclose(clean.to_numpy(), 5 * np.sin(x) + 10)
    np.testing.assert_allclose(clean.index.to_numpy(), x)
    rng = np.random.default_rng(3)
    np.testing.assert_allclose(
        make_sine("noisy_offset", seed=3), 5 * np.sin(x) + 10 * rng.uniform(size=100)
    )
    rng = np.random.default_rng(3)
    np.testing.assert_allclose(
        make_sine("x_sin", seed=3), x * np.sin(x) + 10 * rng.uniform(size=100)
    )
    rng = np.random.default_rng(3)
    a = rng.uniform()
    np.testing.assert_allclose(
        make_sine("random_amplitude", seed=3), a * np.sin(x) + 10 * rng.uniform(size=100)
    )
    long = make_sine("clean", num_points=1000, end=100)
    assert len(long) == 1000 and long.index[-1] == 100


def test_ar1_paths_and_lag_target():
    x, y = make_ar1(4, num_steps=50, rho=0.1, lag_weight=0.1, seed=0)
    assert x.shape == y.shape == (4, 50, 1) and x.dtype == np.float32
    np.testing.assert_allclose(y[:, 0, 0], x[:, 0, 0] ** 2, rtol=1e-6)  # x_0 = 0
    np.testing.assert_allclose(y[:, 1:, 0], x[:, 1:, 0] ** 2 + 0.1 * x[:, :-1, 0] ** 2, rtol=1e-5)
    # The innovations are x_t - rho x_{t-1}, standard normal.
    eps = x[:, 1:, 0] - 0.1 * x[:, :-1, 0]
    big, _ = make_ar1(2000, num_steps=50, seed=1)
    assert abs(np.var(big[:, 1:, 0] - 0.1 * big[:, :-1, 0]) - 1.0) < 0.02
    assert eps.shape == (4, 49)
    again, _ = make_ar1(4, num_steps=50, rho=0.1, lag_weight=0.1, seed=0)
    np.testing.assert_array_equal(x, again)
