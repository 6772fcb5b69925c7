import numpy as np
import pandas as pd
import pytest

from kseq.data.dates import format_dates, make_future_index
from kseq.errors import TimeIndexError


@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("MS", ["1961-01-01", "1961-02-01", "1961-03-01"]),
        ("ME", ["1961-01-31", "1961-02-28", "1961-03-31"]),
        ("QS", ["1961-01-01", "1961-04-01", "1961-07-01"]),
        ("D", ["1960-12-02", "1960-12-03", "1960-12-04"]),
    ],
)
def test_future_dates_follow_the_frequency(freq, expected):
    last = {"MS": "1960-12-01", "ME": "1960-12-31", "QS": "1960-10-01", "D": "1960-12-01"}[freq]
    index = pd.date_range(end=last, periods=24, freq=freq)
    assert format_dates(make_future_index(index, 3)) == expected
    # An index that lost its freq attribute (a CSV read back) gets the same dates.
    bare = pd.DatetimeIndex(list(index))
    assert bare.freq is None
    assert format_dates(make_future_index(bare, 3)) == expected


def test_numeric_positions_continue_their_step_and_irregular_dates_are_refused():
    np.testing.assert_allclose(make_future_index(pd.Index([0.0, 0.5, 1.0]), 2), [1.5, 2.0])
    irregular = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-09"])
    with pytest.raises(TimeIndexError, match="no regular frequency"):
        make_future_index(irregular, 2)
