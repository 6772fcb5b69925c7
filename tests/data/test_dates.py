import numpy as np
import pandas as pd
import pytest

from kseq.data.dates import count_steps, format_dates, make_future_index
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


def written(dates, form):
    return pd.Series(pd.DatetimeIndex(dates).strftime(form), name="ds")


def test_day_first_dates_are_read_by_the_reading_that_is_regular():
    from kseq.data import read_panel, read_series
    from kseq.data.dates import find_dayfirst
    from kseq.errors import DataWarning

    monthly = pd.date_range("2015-01-01", periods=24, freq="MS")
    frame = pd.DataFrame({"ds": written(monthly, "%d/%m/%Y"), "y": np.arange(24.0)})
    # 01/02/2015 month first is 2 January: twelve days a year, not a regular series.
    with pytest.warns(DataWarning, match=r"'01/02/2015' are read day first \(2015-02-01\)"):
        series = read_series(frame, "ds", "y")
    assert series.index.equals(monthly) and series.index.freqstr == "MS"
    # Written month first, they are read so, without a word.
    american = written(monthly, "%m/%d/%Y")
    assert find_dayfirst(american, american, "ds") is False
    # A day above 12 settles it; ISO dates are not this function's business.
    daily = written(pd.date_range("2015-01-05", periods=20, freq="D"), "%d.%m.%y")
    assert find_dayfirst(daily, daily, "ds") is True
    assert find_dayfirst(written(monthly, "%Y-%m-%d"), None, "ds") is None
    # A panel is read the same way (the longest series decides).
    panel = pd.concat(
        [frame.assign(unique_id="a"), frame.iloc[:12].assign(unique_id="b")], ignore_index=True
    )
    with pytest.warns(DataWarning, match="read day first"):
        assert read_panel(panel).freq == "MS"


def test_dates_that_read_either_way_or_both_ways_are_refused():
    from kseq.data import read_series
    from kseq.data.dates import find_dayfirst

    # 01/01/2020 ... 12/01/2020: twelve days (day first) or twelve months (month first).
    both = written(pd.date_range("2020-01-01", periods=12, freq="D"), "%d/%m/%Y")
    with pytest.raises(
        TimeIndexError, match=r"'02/01/2020' read as 2020-02-01 .* 2020-01-02 .*both"
    ):
        find_dayfirst(both, both, "Time column 'ds'")
    mixed = pd.Series(["13/01/2020", "01/14/2020"])
    with pytest.raises(TimeIndexError, match=r"day first \('13/01/2020'\) and month first"):
        find_dayfirst(mixed, mixed, "Time column 'ds'")
    with pytest.raises(TimeIndexError, match="write the dates as YYYY-MM-DD"):
        read_series(pd.DataFrame({"ds": both, "y": np.arange(12.0)}), "ds", "y")


@pytest.mark.parametrize("freq", ["MS", "ME", "QS", "W-SUN", "D", "h"])
def test_steps_are_counted_both_ways_on_the_calendar(freq):
    dates = pd.date_range("1999-11-01", periods=40, freq=freq)
    offset = pd.tseries.frequencies.to_offset(freq)
    for i, j in [(0, 0), (3, 17), (17, 3), (39, 0)]:
        assert count_steps(dates[i], dates[j], offset) == j - i
    # Half a step off the grid, forwards or backwards from the start.
    off = dates[5] + (dates[6] - dates[5]) / 2
    for start, stop in [(dates[2], off), (dates[9], off)]:
        with pytest.raises(TimeIndexError, match="is not a whole number of"):
            count_steps(start, stop, offset)
