import numpy as np
import pytest

from kseq.data import make_windows
from kseq.errors import SeriesTooShortError


def test_one_step_windows_on_arange():
    x, y = make_windows(np.arange(10), lookback=3)
    assert x.shape == (7, 3, 1) and y.shape == (7, 1, 1)
    np.testing.assert_array_equal(x[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(y[:, 0, 0], np.arange(3, 10))
    # Every window's target is the step right after its last input.
    np.testing.assert_array_equal(y[:, 0, 0], x[:, -1, 0] + 1)


def test_multi_step_windows_and_stride():
    x, y = make_windows(np.arange(20), lookback=4, horizon=3, stride=2)
    assert x.shape == (7, 4, 1) and y.shape == (7, 3, 1)
    np.testing.assert_array_equal(x[1, :, 0], [2, 3, 4, 5])
    np.testing.assert_array_equal(y[1, :, 0], [6, 7, 8])
    np.testing.assert_array_equal(y[-1, :, 0], [16, 17, 18])


def test_sequence_targets_align_with_inputs():
    series = np.arange(10)
    x, y = make_windows(series, series * 10, lookback=4, sequence=True)
    assert x.shape == y.shape == (7, 4, 1)
    np.testing.assert_array_equal(y[2, :, 0], [20, 30, 40, 50])
    np.testing.assert_array_equal(y, x * 10)


def test_multivariate_inputs_separate_targets():
    values = np.stack([np.arange(12), 100 + np.arange(12)], axis=1)
    x, y = make_windows(values, values[:, :1], lookback=5, horizon=2)
    assert x.shape == (6, 5, 2) and y.shape == (6, 2, 1)
    np.testing.assert_array_equal(x[0, :, 1], [100, 101, 102, 103, 104])
    np.testing.assert_array_equal(y[0, :, 0], [5, 6])


def test_windows_are_views_not_copies():
    series = np.arange(1_000_000, dtype="float64")
    x, y = make_windows(series, lookback=60, horizon=5)
    assert np.shares_memory(x, series) and np.shares_memory(y, series)
    assert x.base is not None and x.nbytes > series.nbytes * 50  # 60 steps per window, no copy


def test_too_short_and_bad_arguments():
    with pytest.raises(SeriesTooShortError, match="5 points but one window needs 7"):
        make_windows(np.arange(5), lookback=4, horizon=3)
    with pytest.raises(ValueError, match="`lookback` must be a positive integer. Received: 0"):
        make_windows(np.arange(5), lookback=0)
    with pytest.raises(ValueError, match="same length"):
        make_windows(np.arange(5), np.arange(4), lookback=2)
