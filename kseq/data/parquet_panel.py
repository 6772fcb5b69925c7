"""A well-formed Parquet panel read through its Arrow columns, without a DataFrame.

`read_panel` validates any long-format input with pandas: it sorts the rows, looks for
duplicate dates and gaps, and names the series and rows of the first problem. For a Parquet
file that already holds each series as one run of rows in date order (how panels are
usually written, and how shards must be for a fast read), that costs several copies of the
file: a Python string per row for the ids, a sorted frame, hash tables for duplicates.
`read_sorted_parquet_panel` checks the same rules on the Arrow columns as numpy arrays — ids
dictionary-encoded (one int32 code per row), dates as int64, values as float64 — and returns
`None` as soon as a rule does not hold there, so the caller reads the file the careful way and
the error names the problem exactly as it would have. A well-formed file gives the same
`Panel` either way.
"""

import numpy as np
import pandas as pd

from kseq.data.panel import _INFER_POINTS, infer_panel_freq, make_panel


def read_sorted_parquet_panel(
    path,
    id_column,
    time_column,
    target_column,
    *,
    min_length,
    on_short,
    freq,
    name,
    min_series,
):
    """The `Panel` of the Parquet file `path` when every series is one run of rows in date
    order, with no gap, no missing value and no infinite value; `None` otherwise (and when a
    column is missing or of another type), for `read_panel` to read and report.

    The arguments are `read_panel`'s; short series are raised or skipped as there.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(
            path, columns=[id_column, time_column, target_column], read_dictionary=[id_column]
        )
    except (pa.ArrowException, ValueError, OSError):
        return None
    if table.num_rows == 0 or any(column.null_count for column in table.columns):
        return None
    table = table.unify_dictionaries()
    id_type, time_type = table.schema.field(id_column).type, table.schema.field(time_column).type
    if not (
        pa.types.is_dictionary(id_type)
        and (pa.types.is_string(id_type.value_type) or pa.types.is_large_string(id_type.value_type))
        and pa.types.is_timestamp(time_type)
        and _is_number(pa, table.schema.field(target_column).type)
    ):
        return None
    ids = pa.concat_arrays(table.column(id_column).chunks)
    codes = ids.indices.to_numpy()
    # Timestamps with a time zone hold UTC instants: `read_panel` converts to naive UTC too.
    try:
        stamps = table.column(time_column).cast(pa.timestamp("ns")).to_numpy().view(np.int64)
    except pa.ArrowInvalid:  # out of datetime64[ns]'s range
        return None
    # float64 first, as `read_panel` does, so integers round to float32 the same way.
    y = table.column(target_column).to_numpy().astype(np.float64, copy=False)
    del table
    if not np.isfinite(y).all():
        return None

    # Each series one run of rows: as many runs as distinct ids.
    same_series = codes[1:] == codes[:-1]  # (rows - 1,) bool
    run_starts = np.concatenate([[0], np.flatnonzero(~same_series) + 1])
    run_codes = codes[run_starts]
    if len(np.unique(run_codes)) < len(run_codes):
        return None
    lengths = np.diff(np.concatenate([run_starts, [len(codes)]]))
    labels = np.asarray(ids.dictionary.to_pylist(), dtype=object)[run_codes]
    del codes, ids

    if freq is None:
        head = np.minimum(lengths, _INFER_POINTS)
        rows = np.repeat(run_starts, head) + _positions(head)
        try:
            freq = infer_panel_freq(
                np.repeat(labels, head), stamps[rows].view("datetime64[ns]"), name
            )
        except ValueError:  # no or several frequencies: reported by the careful read
            return None
    offset = pd.tseries.frequencies.to_offset(freq)
    if not _is_regular(stamps, same_series, offset):
        return None

    # `read_panel` orders the series by id; runs are moved as whole blocks.
    order = np.argsort(labels, kind="stable")
    ends = run_starts + lengths
    if np.array_equal(order, np.arange(len(order))):
        values = y
    else:
        values = np.concatenate([y[run_starts[i] : ends[i]] for i in order])
    return make_panel(
        labels[order],
        values,
        lengths[order],
        stamps[run_starts[order]].view("datetime64[ns]"),
        offset.freqstr,
        name=name,
        min_length=min_length,
        on_short=on_short,
        min_series=min_series,
    )


def _is_number(pa, dtype):
    return pa.types.is_floating(dtype) or pa.types.is_integer(dtype)


def _positions(lengths):
    """``(sum(lengths),)`` int64: each row's position inside its run."""
    total = int(lengths.sum())
    return np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _is_regular(stamps, same_series, offset):
    """Whether consecutive rows of a series are exactly one `offset` apart (which rules out
    unsorted rows, duplicates and gaps too)."""
    if isinstance(offset, pd.offsets.Tick):
        return bool((np.diff(stamps)[same_series] == offset.nanos).all())
    # Calendar steps (months, quarters, weeks): one step = the next date of one shared grid.
    grid = pd.date_range(pd.Timestamp(stamps.min()), pd.Timestamp(stamps.max()), freq=offset).asi8
    position = np.searchsorted(grid, stamps)  # (rows,) int64
    if (position >= len(grid)).any() or not (grid[position] == stamps).all():
        return False
    return bool((np.diff(position)[same_series] == 1).all())
