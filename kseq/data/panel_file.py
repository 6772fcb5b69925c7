"""A long-format panel read and validated from one file or DataFrame.

Inside each series the rules of `read_series` hold; errors are typed (`kseq.errors`) and name
the series id and the rows (row numbers count data rows from 0). A Parquet file that holds each
series as one run of rows in date order is read from its Arrow columns
(`kseq.data.parquet_panel`); anything else goes through pandas.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd

from kseq.data.dates import find_dayfirst
from kseq.data.panel import INFER_POINTS, infer_panel_freq, list_rows, make_panel
from kseq.data.parquet_panel import read_sorted_parquet_panel
from kseq.data.validation import (
    check_text_table,
    describe_missing_columns,
    describe_undecodable,
    drop_trailing_empty_rows,
)
from kseq.errors import (
    ColumnNotFoundError,
    DataError,
    DataTypeError,
    EmptyDataError,
    InfiniteValueError,
    MissingDependencyError,
    MissingValueError,
    TimeIndexError,
)


def read_panel_file(
    source,
    id_column="unique_id",
    time_column="ds",
    target_column="y",
    static_columns=(),
    *,
    min_length=1,
    on_short="raise",
    freq=None,
    name=None,
    min_series=1,
    missing="raise",
    fill_gaps="raise",
):
    """A long-format panel from one CSV or Parquet file, or a DataFrame (`read_panel`'s
    arguments; a folder of shards is `read_panel`'s)."""
    if name is None:
        name = source if isinstance(source, (str, os.PathLike)) else "the DataFrame"
    static_columns = [static_columns] if isinstance(static_columns, str) else list(static_columns)
    filling = missing != "raise" or fill_gaps != "raise"
    if not static_columns and not filling and _is_parquet_file(source):
        # Series stored sorted, one run of rows each, read from their Arrow columns; anything
        # else (or any problem) is read and reported by the pandas validation below.
        panel = read_sorted_parquet_panel(
            source,
            id_column,
            time_column,
            target_column,
            min_length=min_length,
            on_short=on_short,
            freq=freq,
            name=name,
            min_series=min_series,
        )
        if panel is not None:
            return panel
    frame = _read_columns(source, name, id_column, time_column, target_column, static_columns)
    frame = _parse_target(frame, name, id_column, target_column, allow_nan=missing != "raise")
    frame[time_column] = _parse_times(frame, name, id_column, time_column)
    # Stable: the original order breaks ties, so duplicates are reported by their rows.
    frame = frame.sort_values([id_column, time_column], kind="stable")
    duplicated = frame.duplicated([id_column, time_column], keep=False)
    if duplicated.any():
        first = frame.loc[duplicated].iloc[0]
        rows = frame.loc[duplicated & (frame[id_column] == first[id_column]), "_row"]
        raise TimeIndexError(
            f"{name}: series {first[id_column]!r} has duplicate dates "
            f"({first[time_column]:%Y-%m-%d} in data rows {list_rows(rows)}, counted from 0); "
            "keep one row per series and date."
        )
    groups = frame.groupby(id_column, sort=False)
    freq = freq or _infer_freq(frame, name, id_column, time_column)
    offset = pd.tseries.frequencies.to_offset(freq)
    if filling:
        frame = _fill_series(
            frame, name, id_column, time_column, target_column, offset, missing, fill_gaps
        )
        groups = frame.groupby(id_column, sort=False)
    _check_regular(frame, groups, name, id_column, time_column, offset, freq)
    # Rows are sorted by id, so each series is one run of rows, in the order of `groups`.
    sizes = groups.size()
    first_rows = frame[time_column].to_numpy()[groups.cumcount().to_numpy() == 0]
    return make_panel(
        sizes.index,
        frame[target_column].to_numpy(),
        sizes.to_numpy(),
        first_rows,
        offset.freqstr,
        name=name,
        min_length=min_length,
        on_short=on_short,
        min_series=min_series,
        static_of=lambda keep: _read_static(
            frame[np.repeat(keep, sizes.to_numpy())], static_columns, name, id_column
        ),
    )


def _read_columns(source, name, id_column, time_column, target_column, static_columns):
    """The frame's needed columns (errors name what is missing), with each row's number."""
    frame = _read_frame(source, name)
    needed = [id_column, time_column, target_column, *static_columns]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        columns = ", ".join(map(str, frame.columns))
        if missing[0] in static_columns and missing[0] not in (id_column, time_column):
            raise ColumnNotFoundError(
                f"{name}: no static column {missing[0]!r}; the columns are {columns} "
                "(static_columns=; recipe: [data] static_columns)."
                f"{describe_missing_columns(frame.columns, missing)}"
            )
        raise ColumnNotFoundError(
            f"{name}: no column {missing[0]!r}; the columns are {columns}. Name the id, time "
            "and target columns (id_column=, time_column=, target_column=; recipe: [data] "
            f"id_column, time_column, target_columns)."
            f"{describe_missing_columns(frame.columns, missing)}"
        )
    frame = frame[needed].copy()
    frame["_row"] = np.arange(len(frame))
    if frame[id_column].isna().any():
        rows = frame.index[frame[id_column].isna()]
        raise MissingValueError(
            f"{name}: column {id_column!r} is empty in data rows {list_rows(rows)} (counted "
            "from 0)."
        )
    return frame


def _parse_target(frame, name, id_column, target_column, allow_nan=False):
    """Ids as text and the target as float64; errors name the series and rows (NaN is left
    for `_fill_series` when `allow_nan`)."""
    frame[id_column] = frame[id_column].astype(str)
    y = frame[target_column]
    if y.dtype == bool or not (pd.api.types.is_numeric_dtype(y) or y.dtype == object):
        raise DataTypeError(f"{name}: column {target_column!r} must hold numbers; it is {y.dtype}.")
    numeric = pd.to_numeric(y, errors="coerce")
    bad = numeric.isna() & y.notna()
    if bad.any():
        first = frame.loc[bad].iloc[0]
        raise DataTypeError(
            f"{name}: column {target_column!r} has non-numeric values in series "
            f"{first[id_column]!r} (data rows {list_rows(frame.index[bad])}, counted from 0), "
            f"e.g. {first[target_column]!r}."
        )
    frame[target_column] = numeric.astype("float64")
    _check_finite(frame, name, id_column, target_column, allow_nan)
    return frame


def _fill_series(frame, name, id_column, time_column, target_column, offset, missing, fill_gaps):
    """Each series with its missing dates inserted (``fill_gaps``) and its NaN filled
    (``missing``, and the inserted rows), one series at a time so nothing crosses series.

    A series with a date off its frequency's grid is left as it is, for `_check_regular` to
    name; NaN that nothing can fill (at a series' start or end) is an error naming the rows.
    """
    parts = []
    for sid, group in frame.groupby(id_column, sort=False):
        method = missing
        dates = pd.DatetimeIndex(group[time_column])
        grid = pd.date_range(dates[0], dates[-1], freq=offset)
        if fill_gaps != "raise" and len(grid) > len(dates) and dates.isin(grid).all():
            group = group.set_index(time_column).reindex(grid).rename_axis(time_column)
            group = group.reset_index().assign(**{id_column: sid})
            method = fill_gaps  # as `read_series`: the gaps' method fills the series
        if method != "raise" and group[target_column].isna().any():
            values = group[target_column]
            group[target_column] = (
                values.ffill()
                if method == "ffill"
                else values.interpolate(method="linear", limit_area="inside")
            )
        parts.append(group)
    frame = pd.concat(parts, ignore_index=True)
    holes = frame[target_column].isna()
    if holes.any():
        sid = frame.loc[holes, id_column].iloc[0]
        where = frame.loc[holes & (frame[id_column] == sid), time_column]
        raise MissingValueError(
            f"{name}: series {sid!r} has missing values (NaN) in column {target_column!r} at "
            f"{list_rows(where.dt.strftime('%Y-%m-%d'))}"
            + (
                ", at its start or end, where nothing can fill them; trim the series."
                if missing != "raise"
                else "; pass missing='ffill' or missing='interpolate' to fill them."
            )
        )
    return frame


def _parse_times(frame, name, id_column, time_column):
    """The time column as naive datetimes (UTC for aware ones); errors name the rows."""
    # Which way 01/02/2015 reads is settled on the longest series (`find_dayfirst`).
    longest = frame[id_column] == frame[id_column].value_counts().index[0]
    dayfirst = find_dayfirst(
        frame[time_column], frame.loc[longest, time_column], f"{name}: column {time_column!r}"
    )
    times = pd.to_datetime(
        frame[time_column], errors="coerce", utc=False, format="mixed", dayfirst=bool(dayfirst)
    )
    if times.isna().any():
        rows = frame.index[times.isna()]
        sid = frame.loc[rows[0], id_column]
        raise TimeIndexError(
            f"{name}: column {time_column!r} has values that are not dates in series {sid!r} "
            f"(data rows {list_rows(rows)}, counted from 0), e.g. "
            f"{frame.loc[rows[0], time_column]!r}."
        )
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times


def _read_static(kept, static_columns, name, id_column):
    static = {}
    for column in static_columns:
        per_series = kept.groupby(id_column, sort=False)[column]
        varying = per_series.nunique(dropna=False) > 1
        if varying.any():
            raise DataTypeError(
                f"{name}: static column {column!r} changes within series "
                f"{list_rows(varying.index[varying])}; static values are one per series."
            )
        static[column] = per_series.first().to_numpy()
    return static


def _is_parquet_file(source):
    if not isinstance(source, (str, os.PathLike)) or not str(source).endswith(".parquet"):
        return False
    if not os.path.isfile(source):
        return False
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # `_read_frame` says what to install
        return False
    return True


def _read_frame(source, name):
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True)
    elif str(source).endswith(".parquet"):
        if not os.path.isfile(source):
            raise FileNotFoundError(f"Panel file {str(source)!r} does not exist.")
        frame = read_shard_frame(source, None)
    else:
        if not os.path.isfile(source):
            raise FileNotFoundError(f"Panel file {str(source)!r} does not exist.")
        check_text_table(source, name)
        try:
            frame = pd.read_csv(source)
        except UnicodeDecodeError as error:
            raise DataError(describe_undecodable(name, error)) from None
        except pd.errors.EmptyDataError:
            raise EmptyDataError(f"{name} is empty.") from None
        except pd.errors.ParserError as error:
            raise EmptyDataError(f"{name} is not a well-formed CSV: {error}") from None
    frame = drop_trailing_empty_rows(frame, name)
    if frame.empty:
        raise EmptyDataError(f"{name} holds no rows.")
    return frame


def read_shard_frame(path, columns):
    """One shard file (Parquet through pyarrow, or CSV) as a DataFrame of `columns` (all when
    `None`)."""
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise MissingDependencyError(
                    f"{path}: reading Parquet needs pyarrow: run `pip install 'kseq[parquet]'`."
                ) from None
            frame = pd.read_parquet(path, columns=columns)
        else:
            frame = pd.read_csv(path, usecols=columns)
    except ValueError as error:  # pandas' and pyarrow's parse and missing-column errors
        if columns is not None:
            raise ColumnNotFoundError(f"{path}: cannot read column(s) {columns}: {error}") from None
        raise DataError(f"{path} cannot be read: {error}") from None
    if frame.empty:
        raise EmptyDataError(f"{path} holds no rows.")
    return frame


def _check_finite(frame, name, id_column, target_column, allow_nan=False):
    y = frame[target_column]
    for mask, error, what in (
        (y.isna() & (not allow_nan), MissingValueError, "missing values (NaN)"),
        (np.isinf(y), InfiniteValueError, "infinite values"),
        # A Panel holds float32: larger magnitudes would become infinite there.
        (
            y.abs() > np.finfo(np.float32).max,
            InfiniteValueError,
            f"values beyond float32's range (±{np.finfo(np.float32).max:.3g}; rescale them)",
        ),
    ):
        if mask.any():
            sid = frame.loc[mask, id_column].iloc[0]
            rows = frame.index[mask & (frame[id_column] == sid)]
            raise error(
                f"{name}: series {sid!r} has {what} in column {target_column!r} (data rows "
                f"{list_rows(rows)}, counted from 0); "
                + (
                    "pass missing='ffill' or missing='interpolate' to fill them."
                    if error is MissingValueError
                    else "fix them before reading the panel."
                )
            )


def _check_regular(frame, groups, name, id_column, time_column, offset, freq):
    """Every series steps by `offset` with no gap: checked for all series at once on one
    calendar grid; a series off that grid is checked alone (and named if irregular)."""
    times = frame[time_column]
    position = groups.cumcount().to_numpy()
    first_row = np.maximum.accumulate(np.where(position == 0, np.arange(len(frame)), 0))
    if isinstance(offset, pd.offsets.Tick):
        # A fixed step (days, hours, ...): each date is the series' first plus k steps.
        stamps = pd.DatetimeIndex(times).asi8
        regular = stamps - stamps[first_row] == position * offset.nanos
    else:
        # Calendar steps (months, quarters, weeks): positions on one shared date grid.
        grid = pd.date_range(times.min(), times.max(), freq=offset)
        on_grid = grid.get_indexer(pd.DatetimeIndex(times))
        regular = (on_grid >= 0) & (on_grid[first_row] >= 0)
        regular &= on_grid - on_grid[first_row] == position
    if regular.all():
        return
    suspects = frame.loc[~regular, id_column].unique()
    for sid in suspects:
        group = groups.get_group(sid)
        dates = pd.DatetimeIndex(group[time_column])
        expected = pd.date_range(dates[0], periods=len(dates), freq=offset)
        if len(dates) > 1 and not dates.equals(expected):
            where = int(np.argmax(dates != expected))
            raise TimeIndexError(
                f"{name}: series {sid!r} has a gap or an irregular date at {dates[where]:%Y-%m-%d} "
                f"(data row {group['_row'].iloc[where]}; expected {expected[where]:%Y-%m-%d} at "
                f"frequency {freq}); pass fill_gaps='ffill' or fill_gaps='interpolate' to insert "
                "and fill the missing dates, or resample the series."
            )


def _infer_freq(frame, name, id_column, time_column):
    heads = frame.groupby(id_column, sort=False).head(INFER_POINTS)
    return infer_panel_freq(heads[id_column].to_numpy(), heads[time_column].to_numpy(), name)
