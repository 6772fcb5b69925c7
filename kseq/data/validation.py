"""Reading the user's own series from a CSV file or a DataFrame, with clear errors."""

import difflib
import os
import warnings
from collections import Counter

import numpy as np
import pandas as pd

from kseq.data.dates import find_dayfirst, regular_freq
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

_FILL_METHODS = ("ffill", "interpolate")
_SHOW = 5  # offending rows quoted in a message


def _rows(labels):
    labels = list(labels)
    shown = ", ".join(str(label) for label in labels[:_SHOW])
    more = f" and {len(labels) - _SHOW} more" if len(labels) > _SHOW else ""
    return shown + more


def _as_list(columns, argument):
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    try:
        return list(columns)
    except TypeError:
        raise TypeError(
            f"`{argument}` must be a column name or a list of names. Received: {columns!r}"
        ) from None


def drop_trailing_empty_rows(frame, name):
    """`frame` without the rows left empty at its end (the ",," lines a spreadsheet export
    adds), with a `DataWarning` saying which; a frame of empty rows only comes back empty."""
    filled = np.flatnonzero(frame.notna().any(axis=1).to_numpy())
    last = int(filled[-1]) + 1 if len(filled) else 0
    if last < len(frame):
        if last:
            rows = f"row {last}" if last == len(frame) - 1 else f"rows {last}-{len(frame) - 1}"
            warnings.warn(
                f"{name} ends with {len(frame) - last} empty row(s) ({rows}); they were left out.",
                DataWarning,
                stacklevel=3,
            )
        frame = frame.iloc[:last]
    return frame


# Files people pass for a CSV that are not one: say what to do instead of a parser error.
_SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")


def check_text_table(path, name):
    """Refuses a spreadsheet workbook given where a CSV (or Parquet) file is read."""
    if os.fspath(path).lower().endswith(_SPREADSHEETS):
        raise DataError(
            f"{name} is a spreadsheet workbook, not a CSV: export the sheet as CSV (UTF-8), or "
            "read it with pandas.read_excel and pass the DataFrame."
        )


def describe_undecodable(name, error):
    """The message for a file that is not UTF-8 text (`error`: the `UnicodeDecodeError`)."""
    return (
        f"{name} is not UTF-8 text (byte {error.object[error.start]:#04x} at position "
        f"{error.start}): save it as a UTF-8 CSV; a binary file is read only as Parquet "
        "(a .parquet name)."
    )


def describe_missing_columns(columns, missing=()):
    """A hint for columns not found: the header read as one column holding the others (a file
    separated by ';', tabs or '|'), or a column named like a missing one but for spaces, case
    or a typo; else ``""``."""
    found = [s for s in ";\t|" if len(columns) == 1 and s in str(columns[0])]
    if found:
        return f" The file looks separated by {found[0]!r}, not commas: save it as comma-separated."
    names = [str(c) for c in columns]
    for name in missing:
        loose = [c for c in names if c.strip().casefold() == str(name).strip().casefold()]
        close = loose or difflib.get_close_matches(str(name), names, n=1, cutoff=0.8)
        if close:
            return f" Did you mean {close[0]!r} for {name!r}?"
    return ""


def _to_datetime(times, utc, dayfirst=None):
    if dayfirst is not None:
        # Numeric day/month dates, their order settled (`find_dayfirst`): each value on its own.
        return pd.to_datetime(times, errors="coerce", utc=utc, dayfirst=dayfirst, format="mixed")
    try:
        with warnings.catch_warnings():
            # Mixed UTC offsets (a DST change) without utc=True: pandas warns that it will
            # refuse them; the caller then converts to UTC.
            warnings.simplefilter("ignore", FutureWarning)
            return pd.to_datetime(times, errors="coerce", utc=utc)
    except (ValueError, TypeError):
        # Mixed formats (a date here, a date and time there): parse each on its own.
        try:
            return pd.to_datetime(times, errors="coerce", utc=utc, format="mixed")
        except (ValueError, TypeError):
            return pd.Series(
                pd.NaT,
                index=times.index,
                dtype="datetime64[ns]" if not utc else "datetime64[ns, UTC]",
            )


def _aware_index(utc, parsed, time_column, name):
    """The index of timestamps with UTC offsets: in UTC, unless the offsets change (a DST
    change) and only the local times as written form a regular grid (daily data at local
    midnight, say), which are then kept (naive)."""
    utc = pd.DatetimeIndex(utc, name=time_column)
    if parsed.dtype == object:  # mixed offsets: one Timestamp per row
        wall = pd.DatetimeIndex([t.replace(tzinfo=None) for t in parsed], name=time_column)
        if regular_freq(utc) is None and (freq := regular_freq(wall)) is not None:
            warnings.warn(
                f"Time column {time_column!r} of {name} changes its UTC offset (a DST change); "
                f"kept the local times as written, which form a regular {freq!r} grid.",
                DataWarning,
                stacklevel=3,
            )
            return wall
    warnings.warn(
        f"Time column {time_column!r} of {name} is timezone-aware; converted to UTC.",
        DataWarning,
        stacklevel=3,
    )
    return utc


def describe_ragged(name, error):
    """What pandas' `ParserError` says of a ragged CSV, with the file line it names."""
    # "Error tokenizing data. C error: Expected 2 fields in line 3, saw 3"
    detail = str(error).split("C error: ")[-1].strip()
    detail = detail.replace(" in line ", " in file line ")  # lines count from 1
    return (
        f"{name} is not a well-formed CSV ({detail}); every row needs as many fields as the header."
    )


def _fill(frame, method):
    if method == "ffill":
        return frame.ffill()
    return frame.interpolate(method="linear", limit_area="inside")


def read_series(
    source,
    time_column,
    target_columns,
    feature_columns=None,
    *,
    missing="raise",
    fill_gaps="raise",
    freq=None,
):
    """Reads and validates a time series from a CSV or Parquet file or a `pandas.DataFrame`.

    Every problem raises a subclass of `ValueError`/`TypeError` from `kseq.errors` whose message
    names the source, the column and the first offending rows (row numbers count data rows from
    0; for a CSV, file line = row + 2). Usable data that needed a fix-up gives a
    `kseq.errors.DataWarning`. Nothing is dropped silently.

    Args:
        source: path of a CSV file (UTF-8) or of a Parquet file (a ``.parquet`` name), or a
            DataFrame.
        time_column: name of the column holding timestamps.
        target_columns: name or names of the columns to forecast.
        feature_columns: optional names of extra input columns.
        missing: what to do with NaN in the value columns: ``"raise"`` (default), ``"ffill"``
            or ``"interpolate"`` (linear). Leading or trailing NaN that cannot be filled raise.
        fill_gaps: what to do with timestamps missing from a regular grid: ``"raise"``
            (default), ``"ffill"`` or ``"interpolate"`` (adds the missing rows, then fills).
        freq: the expected frequency (a pandas offset alias such as ``"MS"``); inferred when
            `None`.

    Returns:
        A float64 `pandas.DataFrame` indexed by a `DatetimeIndex` (named `time_column`, with its
        ``freq`` set) whose columns are the targets, then the features.
    """
    for argument, value in (("missing", missing), ("fill_gaps", fill_gaps)):
        if value not in ("raise", *_FILL_METHODS):
            raise ValueError(
                f"`{argument}` must be 'raise', 'ffill' or 'interpolate'. Received: {value!r}"
            )
    targets = _as_list(target_columns, "target_columns")
    features = _as_list(feature_columns, "feature_columns")
    if not targets:
        raise ValueError("`target_columns` must name at least one column.")
    name, frame = _read_frame(source)
    value_columns = targets + features
    _check_columns(frame, name, time_column, value_columns)
    data = pd.DataFrame({c: _read_numbers(frame[c], c, name) for c in value_columns})
    data.index = _read_index(frame[time_column], time_column, name)
    data = _sort_by_time(data, time_column, name)
    data = _check_frequency(data, name, time_column, freq, fill_gaps)
    return _check_values(data, value_columns, name, missing)


def _read_frame(source):
    """``(name, frame)``: how messages name `source`, and its rows (a copy of a DataFrame)."""
    if isinstance(source, pd.DataFrame):
        name, frame = "the DataFrame", source.copy()
    elif isinstance(source, (str, os.PathLike)):
        name = f"'{os.fspath(source)}'"
        if os.path.isdir(source):
            raise DataError(
                f"{name} is a folder; a series is read from one CSV or Parquet file (a folder "
                'of panel shards is read by a panel recipe: [data] source = "panel").'
            )
        check_text_table(source, name)
        try:
            if str(source).lower().endswith(".parquet"):
                frame = pd.read_parquet(source)
            else:
                frame = pd.read_csv(source)
        except UnicodeDecodeError as error:
            raise DataError(describe_undecodable(name, error)) from None
        except pd.errors.EmptyDataError:
            raise EmptyDataError(f"{name} is empty: expected a header and data rows.") from None
        except pd.errors.ParserError as error:
            raise DataError(describe_ragged(name, error)) from None
    else:
        raise TypeError(
            f"`source` must be a CSV path or a pandas DataFrame. Received: {type(source).__name__}"
        )
    frame = drop_trailing_empty_rows(frame, name)
    if frame.empty:
        raise EmptyDataError(
            f"{name} has a header ({', '.join(map(str, frame.columns))}) but no data rows."
        )
    return name, frame


def _check_columns(frame, name, time_column, value_columns):
    """Every named column is in `frame`, and none is named twice."""
    absent = [c for c in [time_column, *value_columns] if c not in frame.columns]
    if absent:
        hint = describe_missing_columns(frame.columns, absent)
        raise ColumnNotFoundError(
            f"{name} has no column {', '.join(map(repr, absent))}; available columns: "
            f"{', '.join(map(repr, frame.columns))}.{hint}"
        )
    repeated = [c for c, k in Counter(value_columns).items() if k > 1]
    if repeated or time_column in value_columns:
        raise ValueError(f"Columns are named more than once: {repeated or [time_column]!r}.")


def _read_numbers(series, column, name):
    """A value column as float64, or an error quoting its first values that are not numbers."""
    if pd.api.types.is_bool_dtype(series):
        raise DataTypeError(
            f"Column {column!r} of {name} is boolean; convert it to numbers (e.g. 0/1) first."
        )
    if not pd.api.types.is_numeric_dtype(series):
        numeric = pd.to_numeric(series, errors="coerce")
        bad = series.notna() & numeric.isna()
        if bad.any():
            offenders = [f"data row {i}: {series.iloc[i]!r}" for i in np.flatnonzero(bad)]
            # 1,234.5 (or 1.234,5): numbers as a spreadsheet shows them.
            grouped = series[bad].astype(str).str.fullmatch(r"-?\d{1,3}([,.' ]\d{3})+([.,]\d+)?")
            hint = (
                " They look like numbers with thousands separators (or decimal commas): "
                "write them plainly (1234.5)."
                if grouped.all()
                else ""
            )
            raise DataTypeError(
                f"Column {column!r} of {name} has non-numeric values ({_rows(offenders)}; "
                "data rows count from 0 below the header); "
                f"clean or drop them before forecasting.{hint}"
            )
        series = numeric
    return series.astype("float64").to_numpy()


def _read_index(times, time_column, name):
    """The time column as a `DatetimeIndex` named `time_column`, checked free of repeats."""
    if pd.api.types.is_integer_dtype(times) and times.between(1000, 9999).all():
        # Four-digit whole years (1949, 1950, ...): a yearly series dated at each year's start.
        times = pd.Series(pd.to_datetime(times.astype(str), format="%Y"), index=times.index)
    if pd.api.types.is_bool_dtype(times) or pd.api.types.is_numeric_dtype(times):
        raise DataTypeError(
            f"Time column {time_column!r} of {name} holds {times.dtype} values, not dates; "
            "pass a column of date strings or datetimes (or four-digit years)."
        )
    dayfirst = find_dayfirst(times, times, f"Time column {time_column!r} of {name}")
    parsed = _to_datetime(times, utc=True, dayfirst=dayfirst)
    bad = parsed.isna()
    if bad.any():
        offenders = [f"data row {i}: {times.iloc[i]!r}" for i in np.flatnonzero(bad)]
        raise TimeIndexError(
            f"Time column {time_column!r} of {name} has values that are not dates "
            f"({_rows(offenders)}; data rows count from 0 below the header)."
        )
    naive = _to_datetime(times, utc=False, dayfirst=dayfirst)
    if isinstance(naive.dtype, pd.DatetimeTZDtype) or naive.dtype == object:
        index = _aware_index(parsed, naive, time_column, name)
    else:
        index = pd.DatetimeIndex(naive, name=time_column)
    duplicated = index.duplicated(keep=False)
    if duplicated.any():
        where = pd.Series(np.flatnonzero(duplicated)).groupby(index[duplicated]).agg(list)
        stamps = [
            f"{stamp.date() if stamp == stamp.normalize() else stamp} in data rows "
            + ", ".join(map(str, rows))
            for stamp, rows in where.items()
        ]
        raise TimeIndexError(
            f"Time column {time_column!r} of {name} has duplicate timestamps ({_rows(stamps)}; "
            "data rows count from 0 below the header); "
            "aggregate them to one row per timestamp first, or, if the file holds several "
            "series in long format (unique_id, ds, y), read it as a panel (recipe: [data] "
            'source = "panel").'
        )
    return index


def _sort_by_time(data, time_column, name):
    """`data` sorted by time, with a warning naming the first row that goes back in time."""
    if data.index.is_monotonic_increasing:
        return data
    first = int(np.flatnonzero(np.diff(data.index.asi8) < 0)[0]) + 1
    warnings.warn(
        f"Time column {time_column!r} of {name} is not sorted (data row {first}, counted from "
        "0, goes back in time); the rows were sorted by time.",
        DataWarning,
        stacklevel=3,
    )
    return data.sort_index(kind="stable")


def _check_values(data, value_columns, name, missing):
    """`data` with its NaN filled as `missing` says; an error for infinite values and for
    NaN left, a warning for a constant column."""
    for column in value_columns:
        infinite = np.isinf(data[column].to_numpy())
        if infinite.any():
            rows = [f"{data.index[i]}" for i in np.flatnonzero(infinite)]
            raise InfiniteValueError(
                f"Column {column!r} of {name} has infinite values at {_rows(rows)}; replace them."
            )
    if data.isna().to_numpy().any() and missing != "raise":
        data = _fill(data, missing)
    for column in value_columns:
        holes = data[column].isna()
        if holes.any():
            rows = [f"{t}" for t in data.index[holes]]
            hint = (
                "pass missing='ffill' or missing='interpolate' to fill them"
                if missing == "raise"
                else "they are at the start or end of the series, where nothing can fill them; "
                "trim the series"
            )
            raise MissingValueError(
                f"Column {column!r} of {name} has {int(holes.sum())} missing values "
                f"(at {_rows(rows)}); {hint}."
            )
        if data[column].nunique() == 1:
            warnings.warn(
                f"Column {column!r} of {name} is constant ({data[column].iloc[0]}); MinMax "
                "scaling maps it to a single value.",
                DataWarning,
                stacklevel=3,
            )
    return data


def _check_frequency(data, name, time_column, freq, fill_gaps):
    index = data.index
    if len(index) < 3 and freq is None:
        return data
    if freq is None:
        freq = _infer_frequency(index)
        if freq is None:
            raise TimeIndexError(
                f"Time column {time_column!r} of {name} has an irregular frequency (no regular "
                "step found); resample it (e.g. frame.resample('D').mean()) or pass freq=."
            )
    grid = pd.date_range(index[0], index[-1], freq=freq, name=index.name)
    off_grid = ~index.isin(grid)
    if off_grid.any():
        rows = [f"{t}" for t in index[off_grid]]
        raise TimeIndexError(
            f"Time column {time_column!r} of {name} has an irregular frequency: timestamps "
            f"{_rows(rows)} are off the {freq!r} grid; resample the data to one frequency first."
        )
    if len(grid) > len(index):
        gaps = grid[~grid.isin(index)]
        if fill_gaps == "raise":
            raise TimeIndexError(
                f"Time column {time_column!r} of {name} has {len(gaps)} gaps in its {freq!r} "
                f"grid (missing {_rows(str(t) for t in gaps)}); pass fill_gaps='ffill' or "
                "fill_gaps='interpolate' to fill them."
            )
        data = _fill(data.reindex(grid), fill_gaps)
    data.index = pd.DatetimeIndex(data.index, name=time_column, freq=freq)
    return data


# Coarsest first: the first grid holding every timestamp is the data's frequency.
_CANDIDATES = (
    ["YS", "YE", "QS", "QE", "MS", "ME"]
    + [f"W-{day}" for day in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")]
    + ["D", "h", "min", "s"]
)


def _infer_frequency(index):
    def infer(part):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 announces an offset return type
            found = pd.infer_freq(part)
        return getattr(found, "freqstr", found)

    # Each run of three timestamps votes; gaps and odd points only spoil their own runs.
    votes = Counter(infer(index[i : i + 3]) for i in range(min(len(index) - 2, 1000)))
    votes.pop(None, None)
    if votes:
        return votes.most_common(1)[0][0]
    for candidate in _CANDIDATES:
        grid = pd.date_range(index[0], index[-1], freq=candidate)
        if len(grid) <= 10 * len(index) and index.isin(grid).all():
            return candidate
    return None


def check_length(num_points, *, lookback, horizon=1, validation=0, test=0):
    """Raises `SeriesTooShortError` unless a series can give the windows and splits asked for.

    The training part needs one full window (``lookback + horizon`` points); validation and
    test parts need their own points.

    Returns:
        The required length.
    """
    required = int(lookback) + int(horizon) + int(validation) + int(test)
    if num_points < required:
        parts = f"lookback {lookback} + horizon {horizon}"
        if validation:
            parts += f" + validation {validation}"
        if test:
            parts += f" + test {test}"
        raise SeriesTooShortError(
            f"The series has {num_points} points but needs at least {required} ({parts}); "
            "use a longer series or smaller lookback, horizon or splits."
        )
    return required
