"""A sorted Parquet panel read from its Arrow columns gives the pandas-validated panel, and any
file the column read cannot vouch for is read and reported by the pandas validation."""

import numpy as np
import pandas as pd
import pytest

from kseq.data import read_panel, read_panel_shards
from kseq.data.parquet_panel import read_sorted_parquet_panel
from kseq.errors import (
    DataTypeError,
    InfiniteValueError,
    MissingValueError,
    SeriesTooShortError,
    TimeIndexError,
)

pytest.importorskip("pyarrow")


def make_frame(freq="MS", num_series=12, seed=0):
    # Ids "s0".."s11": stored in number order, which is not their string order ("s10" < "s2").
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(num_series):
        n = 15 + 2 * i
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2001-01-01", periods=n + i, freq=freq)[i:],
                    "y": 50 + np.cumsum(rng.normal(size=n)),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def read_fast(path, **kwargs):
    options = dict(min_length=1, on_short="raise", freq=None, name=str(path), min_series=1)
    options.update(kwargs)
    return read_sorted_parquet_panel(path, "unique_id", "ds", "y", **options)


def assert_same_panel(panel, expected):
    assert list(panel.ids) == list(expected.ids)
    np.testing.assert_array_equal(panel.values, expected.values)
    assert panel.values.dtype == np.float32
    np.testing.assert_array_equal(panel.offsets, expected.offsets)
    assert panel.starts.equals(expected.starts)
    assert panel.freq == expected.freq
    assert panel.skipped == expected.skipped


@pytest.mark.parametrize("freq", ["MS", "QS", "W-SUN", "D", "h"])
def test_a_sorted_file_reads_from_its_columns_like_the_frame(tmp_path, freq):
    frame = make_frame(freq)
    path = tmp_path / "panel.parquet"
    frame.to_parquet(path, index=False, row_group_size=100)  # several row groups
    fast = read_fast(path)
    assert fast is not None
    expected = read_panel(frame)
    assert_same_panel(fast, expected)
    assert_same_panel(read_panel(path), expected)
    # The series are ordered by id as the frame read orders them; each keeps its own values.
    assert list(fast.ids[:4]) == ["s0", "s1", "s10", "s11"]
    np.testing.assert_array_equal(
        fast.series(2), frame.loc[frame["unique_id"] == "s10", "y"].to_numpy(np.float32)
    )


def test_time_zones_and_integer_values_read_like_the_frame(tmp_path):
    frame = make_frame("h")
    frame["ds"] = frame["ds"].dt.tz_localize("Europe/Paris", nonexistent="shift_forward")
    frame = frame.groupby("unique_id", sort=False).head(20)  # clear of the DST jump
    frame["y"] = np.arange(len(frame), dtype=np.int64) * 1_000_003 + 16_777_217
    path = tmp_path / "tz.parquet"
    frame.to_parquet(path, index=False)
    fast = read_fast(path)
    assert fast is not None
    assert_same_panel(fast, read_panel(frame))
    # Naive UTC, as the frame read converts.
    first = frame["ds"].iloc[0].tz_convert("UTC").tz_localize(None)
    assert fast.starts[0] == first


def test_short_series_are_raised_or_skipped_like_the_frame(tmp_path):
    frame = make_frame()
    path = tmp_path / "panel.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(SeriesTooShortError, match="3 series have fewer than 20 points: s0, s1, s2"):
        read_fast(path, min_length=20)
    fast = read_fast(path, min_length=20, on_short="skip")
    assert sorted(fast.skipped) == ["s0", "s1", "s2"]
    assert_same_panel(fast, read_panel(frame, min_length=20, on_short="skip"))


def break_frame(frame, how):
    frame = frame.copy()
    s3 = frame.index[frame["unique_id"] == "s3"]
    if how == "unsorted":  # two dates of s3 swapped: sorted by the frame read, so fine
        order = list(frame.index)
        order[s3[4]], order[s3[5]] = order[s3[5]], order[s3[4]]
        return frame.loc[order].reset_index(drop=True), None, None
    if how == "split":  # s3 in two runs of rows
        frame = pd.concat([frame.loc[s3[:5]], frame.drop(index=s3[:5])], ignore_index=True)
        return frame, None, None
    if how == "gap":
        return frame.drop(index=s3[5]), TimeIndexError, "series 's3' has a gap"
    if how == "duplicate":
        frame.loc[s3[5], "ds"] = frame.loc[s3[4], "ds"]
        return frame, TimeIndexError, "series 's3' has duplicate dates"
    if how == "nan":
        frame.loc[s3[5], "y"] = np.nan
        return frame, MissingValueError, "series 's3' has missing values"
    if how == "inf":
        frame.loc[s3[5], "y"] = np.inf
        return frame, InfiniteValueError, "series 's3' has infinite values"
    if how == "huge":  # finite as float64, infinite as the panel's float32
        frame.loc[s3[5], "y"] = 1e39
        return frame, InfiniteValueError, "series 's3' has values beyond float32's range"
    if how == "missing id":
        frame["unique_id"] = frame["unique_id"].astype(object)
        frame.loc[s3[5], "unique_id"] = None
        return frame, MissingValueError, "column 'unique_id' is empty"
    if how == "text":
        frame["y"] = frame["y"].astype(str)  # numbers written as text, one of them not
        frame.loc[s3[5], "y"] = "n/a"
        return frame, DataTypeError, "non-numeric values in series 's3'"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["unsorted", "split", "gap", "duplicate", "nan", "inf", "huge", "missing id", "text"]
)
def test_files_the_column_read_cannot_vouch_for_are_read_by_the_frame_read(tmp_path, how):
    frame, error, message = break_frame(make_frame(), how)
    path = tmp_path / "panel.parquet"
    frame.to_parquet(path, index=False)
    assert read_fast(path) is None
    if error is None:  # well formed once sorted: the same panel as the frame's
        assert_same_panel(read_panel(path), read_panel(frame))
    else:
        with pytest.raises(error, match=message):
            read_panel(path)


def test_shard_listing_counts_ids_from_their_codes(tmp_path):
    frame = make_frame()
    folder = tmp_path / "shards"
    folder.mkdir()
    first = frame["unique_id"].isin(["s0", "s1", "s2", "s3"])  # 72 rows
    frame[first].to_parquet(folder / "a.parquet", index=False)
    frame[~first].to_parquet(folder / "b.parquet", index=False, row_group_size=50)
    shards = read_panel_shards(folder)
    expected = [
        frame[first]["unique_id"].value_counts(sort=False),
        frame[~first]["unique_id"].value_counts(sort=False),
    ]
    for lengths, counts in zip(shards.lengths, expected, strict=True):
        assert sorted(lengths) == sorted(counts.to_numpy())
    assert shards.num_values == len(frame)


@pytest.mark.parametrize("freq", ["MS", "D"])
def test_the_regularity_check_holds_across_its_blocks(tmp_path, monkeypatch, freq):
    # Blocks of 7 rows: series and their gaps fall on and across block boundaries.
    from kseq.data import parquet_panel

    monkeypatch.setattr(parquet_panel, "_CHUNK", 7)
    frame = make_frame(freq)
    path = tmp_path / "panel.parquet"
    frame.to_parquet(path, index=False)
    assert_same_panel(read_fast(path), read_panel(frame))
    ids = frame["unique_id"]
    assert ids[147] != ids[146]  # a series starts exactly on a block's first row
    for row in (6, 7, 8, 13, 20, 21):  # a block's last, first and second rows
        assert ids[row - 1] == ids[row] == ids[row + 1]
        frame.drop(index=row).to_parquet(path, index=False)
        assert read_fast(path) is None, row  # a gap inside a series
