import numpy as np
import pytest

from kseq.data import load_airpassengers, split_series
from kseq.errors import SeriesTooShortError
from kseq.transforms import MinMaxScale


def test_split_by_date_count_and_fraction():
    series = load_airpassengers()
    by_date = split_series(series, test="1959-01", validation=12)
    assert by_date == (slice(0, 108), slice(108, 120), slice(120, 144))
    assert split_series(series, test=24, validation=12) == by_date
    assert split_series(100, test=0.2, validation=0.1) == (
        slice(0, 70),
        slice(70, 80),
        slice(80, 100),
    )
    assert split_series(series, test="1959-01", validation="1958-01") == by_date
    assert series.index[by_date.test.start].strftime("%Y-%m") == "1959-01"


def test_parts_are_time_ordered_and_disjoint():
    split = split_series(50, test=10, validation=5)
    positions = np.concatenate([np.arange(50)[s] for s in split])
    np.testing.assert_array_equal(positions, np.arange(50))
    assert split.with_context("test", 12) == slice(28, 50)


def test_pipeline_scaler_sees_only_training_values():
    series = load_airpassengers()
    split = split_series(series, test=24, validation=12)
    scaler = MinMaxScale((-1, 1)).fit(series.to_numpy()[split.train])
    assert scaler.scaler_.data_max_[0] == series.iloc[split.train].max() == 467
    assert scaler.scaler_.data_max_[0] < series.iloc[split.test].max() == 622


def test_split_errors():
    with pytest.raises(SeriesTooShortError, match="10 points"):
        split_series(10, test=6, validation=4)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\). Received: 1.5"):
        split_series(10, test=1.5)
    with pytest.raises(TypeError, match="needs data with a DatetimeIndex"):
        split_series(np.zeros(10), test="2020-01")
