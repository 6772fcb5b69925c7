import numpy as np
import pandas as pd
import pytest

from kseq.data import check_length, read_series
from kseq.errors import (
    ColumnNotFoundError,
    DataError,
    DataTypeError,
    DataWarning,
    EmptyDataError,
    InfiniteValueError,
    MissingValueError,
    SeriesTooShortError,
    TimeIndexError,
)


def monthly(values, start="2020-01", **extra):
    frame = pd.DataFrame(
        {"month": pd.date_range(start, periods=len(values), freq="MS"), "y": values}
    )
    for name, column in extra.items():
        frame[name] = column
    return frame


def write(tmp_path, text):
    path = tmp_path / "series.csv"
    path.write_text(text)
    return path


def test_valid_csv_is_read_with_its_frequency(tmp_path):
    path = write(tmp_path, "month,y,x\n2020-01,1,5\n2020-02,2,6\n2020-03,4,7\n2020-04,8,8\n")
    frame = read_series(path, "month", "y", ["x"])
    assert list(frame.columns) == ["y", "x"]
    assert frame.index.freqstr == "MS" and frame.index.name == "month"
    np.testing.assert_array_equal(frame["y"], [1, 2, 4, 8])


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(EmptyDataError, match=r"series.csv' is empty"):
        read_series(path, "month", "y")


def test_header_only(tmp_path):
    path = write(tmp_path, "month,y\n")
    with pytest.raises(EmptyDataError, match=r"has a header \(month, y\) but no data rows"):
        read_series(path, "month", "y")


def test_empty_rows_at_the_end_are_left_out_and_said_so(tmp_path):
    from kseq.data import read_panel

    path = write(tmp_path, "month,y\n2020-01,1\n2020-02,2\n2020-03,4\n,\n,\n")
    with pytest.warns(DataWarning, match=r"ends with 2 empty row\(s\) \(rows 3-4\)"):
        frame = read_series(path, "month", "y")
    np.testing.assert_array_equal(frame["y"], [1, 2, 4])
    # Inside the data an empty row is a missing date, as before.
    path = write(tmp_path, "month,y\n2020-01,1\n,\n2020-03,4\n")
    with pytest.raises(TimeIndexError, match="not dates"):
        read_series(path, "month", "y")
    with pytest.raises(EmptyDataError, match="no data rows"):
        read_series(write(tmp_path, "month,y\n,\n"), "month", "y")
    panel = tmp_path / "panel.csv"
    panel.write_text("unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,2\na,2020-03-01,3\n,,\n")
    with pytest.warns(DataWarning, match=r"ends with 1 empty row\(s\) \(row 3\)"):
        assert list(read_panel(panel).lengths) == [3]


def test_missing_column_lists_available_ones():
    with pytest.raises(
        ColumnNotFoundError, match=r"no column 'sales'; available columns: 'month', 'y'\.$"
    ):
        read_series(monthly([1.0, 2.0, 3.0]), "month", "sales")
    # A header with spaces or another case (spreadsheet exports), or a near typo: named.
    frame = monthly([1.0, 2.0, 3.0]).rename(columns={"y": " Sales "})
    with pytest.raises(ColumnNotFoundError, match=r"Did you mean ' Sales ' for 'sales'\?"):
        read_series(frame, "month", "sales")
    with pytest.raises(ColumnNotFoundError, match=r"Did you mean 'month' for 'months'\?"):
        read_series(frame, "months", " Sales ")


def test_spreadsheet_exports_get_a_hint(tmp_path):
    from kseq.data import read_panel

    path = write(tmp_path, "month;y\n2020-01;1\n2020-02;2\n2020-03;3\n")
    with pytest.raises(ColumnNotFoundError, match=r"looks separated by ';', not commas"):
        read_series(path, "month", "y")
    panel = tmp_path / "panel.csv"
    panel.write_text("unique_id\tds\ty\na\t2020-01-01\t1\n")
    with pytest.raises(ColumnNotFoundError, match=r"looks separated by '\\t', not commas"):
        read_panel(panel)
    path = write(tmp_path, 'month,y\n2020-01,"1,234.5"\n2020-02,"2,000"\n2020-03,"12,001"\n')
    with pytest.raises(DataTypeError, match="numbers with thousands separators"):
        read_series(path, "month", "y")
    # Other text is not taken for numbers.
    path = write(tmp_path, "month,y\n2020-01,1\n2020-02,abc\n2020-03,3\n")
    with pytest.raises(DataTypeError, match=r"before forecasting\.$"):
        read_series(path, "month", "y")


def test_parquet_is_read_and_other_files_are_named(tmp_path):
    frame = monthly([1.0, 2.0, 4.0, 8.0])
    frame.to_parquet(tmp_path / "series.parquet")
    read = read_series(tmp_path / "series.parquet", "month", "y")
    np.testing.assert_array_equal(read["y"], [1, 2, 4, 8])
    assert read.index.freqstr == "MS"
    # Parquet under a .csv name, a Latin-1 CSV, a workbook: what the file is, and what to do.
    (tmp_path / "binary.csv").write_bytes((tmp_path / "series.parquet").read_bytes())
    with pytest.raises(DataError, match=r"is not UTF-8 text .* save it as a UTF-8 CSV"):
        read_series(tmp_path / "binary.csv", "month", "y")
    (tmp_path / "latin.csv").write_bytes("month,y\n2020-01,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"not UTF-8 text \(byte 0xe9"):
        read_series(tmp_path / "latin.csv", "month", "y")
    with pytest.raises(DataError, match=r"is a folder; a series is read from one CSV"):
        read_series(tmp_path, "month", "y")
    (tmp_path / "book.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="is a spreadsheet workbook, not a CSV"):
        read_series(tmp_path / "book.xlsx", "month", "y")


def test_non_numeric_values_name_the_rows(tmp_path):
    path = write(tmp_path, "month,y\n2020-01,1\n2020-02,abc\n2020-03,3\n2020-04,n/a?\n")
    with pytest.raises(
        DataTypeError,
        match=r"Column 'y' .* non-numeric values \(data row 1: 'abc', data row 3: 'n/a\?'",
    ):
        read_series(path, "month", "y")


def test_boolean_column_is_refused():
    with pytest.raises(DataTypeError, match="Column 'y' of the DataFrame is boolean"):
        read_series(monthly([True, False, True]), "month", "y")


def test_object_column_of_numbers_is_accepted():
    frame = read_series(monthly(np.array([1, 2, 3], dtype=object)), "month", "y")
    assert frame["y"].dtype == np.float64


def test_nan_is_an_error_by_default_and_fills_on_request():
    data = monthly([1.0, np.nan, 3.0, 4.0])
    with pytest.raises(
        MissingValueError, match=r"1 missing values \(at 2020-02-01.*missing='ffill'"
    ):
        read_series(data, "month", "y")
    np.testing.assert_array_equal(
        read_series(data, "month", "y", missing="ffill")["y"], [1, 1, 3, 4]
    )
    np.testing.assert_array_equal(
        read_series(data, "month", "y", missing="interpolate")["y"], [1, 2, 3, 4]
    )
    with pytest.raises(MissingValueError, match="start or end of the series"):
        read_series(monthly([np.nan, 1.0, 2.0]), "month", "y", missing="ffill")


def test_infinite_values():
    with pytest.raises(InfiniteValueError, match=r"Column 'y' .* infinite values at 2020-03-01"):
        read_series(monthly([1.0, 2.0, np.inf, 4.0]), "month", "y")


def test_gaps_error_and_opt_in_fill():
    data = monthly([1.0, 2.0, 3.0, 4.0, 5.0]).drop(index=2)
    with pytest.raises(
        TimeIndexError, match=r"1 gaps in its 'MS' grid \(missing 2020-03-01.*fill_gaps="
    ):
        read_series(data, "month", "y")
    filled = read_series(data, "month", "y", fill_gaps="interpolate")
    np.testing.assert_array_equal(filled["y"], [1, 2, 3, 4, 5])
    assert len(read_series(data, "month", "y", fill_gaps="ffill")) == 5


def test_irregular_frequency():
    times = [
        pd.Timestamp(t)
        for t in (
            "2020-01-01",
            "2020-01-02",
            "2020-01-03",
            "2020-01-04 07:00",
            "2020-01-05",
            "2020-01-06",
        )
    ]
    data = pd.DataFrame({"t": times, "y": np.arange(6.0)})
    with pytest.raises(
        TimeIndexError,
        match=r"irregular frequency: timestamps 2020-01-04 07:00:00 are off the 'D' grid",
    ):
        read_series(data, "t", "y")


def test_unsorted_time_is_sorted_with_a_warning():
    data = monthly([1.0, 2.0, 3.0, 4.0]).iloc[[0, 2, 1, 3]]
    with pytest.warns(
        DataWarning, match="not sorted .*data row 2, counted from 0, goes back in time"
    ):
        frame = read_series(data, "month", "y")
    np.testing.assert_array_equal(frame["y"], [1, 2, 3, 4])


def test_duplicate_timestamps():
    data = monthly([1.0, 2.0, 3.0])
    data.loc[2, "month"] = data.loc[1, "month"]
    with pytest.raises(
        TimeIndexError, match=r"duplicate timestamps \(2020-02-01 in data rows 1, 2;"
    ):
        read_series(data, "month", "y")
    # A long-format panel read as one series: each date repeats once per series.
    panel = pd.concat([monthly([1.0, 2.0, 3.0]), monthly([4.0, 5.0, 6.0])], ignore_index=True)
    with pytest.raises(
        TimeIndexError, match=r"2020-01-01 in data rows 0, 3, 2020-02-01 in data rows 1, 4"
    ):
        read_series(panel, "month", "y")
    with pytest.raises(
        TimeIndexError, match=r'read it as a panel \(recipe: \[data\] source = "panel"'
    ):
        read_series(panel, "month", "y")


def test_timezone_aware_times_convert_to_utc(tmp_path):
    path = write(
        tmp_path,
        "t,y\n2020-01-01T00:00+02:00,1\n2020-01-02T00:00+02:00,2\n2020-01-03T00:00+02:00,3\n",
    )
    with pytest.warns(DataWarning, match="timezone-aware; converted to UTC"):
        frame = read_series(path, "t", "y")
    assert str(frame.index.tz) == "UTC"
    assert frame.index[0] == pd.Timestamp("2019-12-31 22:00", tz="UTC")


def test_hourly_times_across_a_dst_change_stay_regular_in_utc():
    # 01:00 and 03:00 local are an hour apart in UTC; the wall clock skips 02:00.
    local = pd.date_range("2021-03-28 00:00", periods=6, freq="h", tz="Europe/Berlin")
    data = pd.DataFrame({"t": [t.isoformat() for t in local], "y": np.arange(6.0)})
    assert len({t[-6:] for t in data["t"]}) == 2
    with pytest.warns(DataWarning, match="converted to UTC"):
        frame = read_series(data, "t", "y")
    assert frame.index.freqstr == "h"
    assert frame.index[0] == pd.Timestamp("2021-03-27 23:00", tz="UTC")


def test_constant_series_warns():
    with pytest.warns(DataWarning, match=r"Column 'y' .* is constant \(5.0\); MinMax"):
        read_series(monthly([5.0, 5.0, 5.0]), "month", "y")


def test_numeric_time_column_is_refused():
    data = pd.DataFrame({"t": [1, 2, 3], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(DataTypeError, match="Time column 't' .* not dates"):
        read_series(data, "t", "y")


def test_series_too_short_says_required_and_actual():
    with pytest.raises(
        SeriesTooShortError,
        match=r"has 30 points but needs at least 46 \(lookback 24 \+ horizon 1 \+ validation 12 \+ test 9\)",
    ):
        check_length(30, lookback=24, horizon=1, validation=12, test=9)
    assert check_length(46, lookback=24, horizon=1, validation=12, test=9) == 46


def test_bad_arguments():
    with pytest.raises(ValueError, match="`missing` must be .* Received: 'drop'"):
        read_series(monthly([1.0]), "month", "y", missing="drop")
    with pytest.raises(TypeError, match="must be a CSV path or a pandas DataFrame"):
        read_series([1, 2, 3], "month", "y")
