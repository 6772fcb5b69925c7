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

from kseq.data.panel import INFER_POINTS, infer_panel_freq, make_panel


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

    columns = _read_ids_and_stamps(pa, pq, path, id_column, time_column, target_column)
    if columns is None:
        return None
    codes, all_labels, stamps = columns
    del columns  # the tuple would keep `codes` and `stamps` alive past their `del` below
    # Each series one run of rows: as many runs as distinct ids.
    same_series = codes[1:] == codes[:-1]  # (rows - 1,) bool
    run_starts = np.concatenate([[0], np.flatnonzero(~same_series) + 1])
    run_codes = codes[run_starts]
    if len(np.unique(run_codes)) < len(run_codes):
        return None
    lengths = np.diff(np.concatenate([run_starts, [len(codes)]]))
    labels = all_labels[run_codes]
    del codes

    if freq is None:
        head = np.minimum(lengths, INFER_POINTS)
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
    starts = stamps[run_starts].view("datetime64[ns]")
    # The dates are checked: only the values are read next, so the read's peak holds the
    # codes and one column, not every column at once.
    num_rows = len(stamps)
    del stamps, same_series
    try:
        # Converted from Arrow's buffer straight to float32 (through float64, as `read_panel`
        # does, so integers round the same way).
        y = _read_column(pa, pq, path, target_column, convert=_finite_float32)
    except (pa.ArrowException, ValueError, OSError, KeyError):
        return None
    if y is None or len(y) != num_rows:
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
        starts[order],
        offset.freqstr,
        name=name,
        min_length=min_length,
        on_short=on_short,
        min_series=min_series,
    )


def _read_ids_and_stamps(pa, pq, path, id_column, time_column, target_column):
    """``(codes, labels, stamps)``: each row's id code, the ids, and its timestamp (int64 ns);
    `None` where a column is missing, of another type or unreadable, or the file has no rows."""
    try:
        schema = pq.read_schema(path)
        if not (
            pa.types.is_timestamp(schema.field(time_column).type)
            and _is_number(pa, schema.field(target_column).type)
        ):
            return None
        # One column at a time, each turned into numpy and its Arrow buffers released before
        # the next is decoded: the read's peak is one column's decoding, not the table's.
        ids = read_id_codes(path, id_column)
        if ids is None:
            return None
        codes, labels = ids
        # Timestamps with a time zone hold UTC instants: `read_panel` converts to naive UTC too.
        stamps = _read_column(pa, pq, path, time_column, cast=pa.timestamp("ns"))
    except (pa.ArrowException, ValueError, OSError, KeyError):  # out of range, missing, ...
        return None
    if stamps is None or len(stamps) != len(codes) or not len(codes):
        return None
    return codes, labels, stamps.view(np.int64)


def read_id_codes(path, id_column):
    """A Parquet file's text ids as ``(codes, labels)``: ``(rows,)`` integer codes into
    ``(distinct,)`` object labels, read dictionary-encoded (no Python string per row); `None`
    when the column is empty, has missing values or is not text. pyarrow's errors (a missing
    column: ``ArrowInvalid``, a `ValueError`) are the caller's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = _read_column(pa, pq, path, id_column, read_dictionary=[id_column])
    if ids is None or not len(ids) or not pa.types.is_dictionary(ids.type):
        return None
    text = ids.type.value_type
    if not (pa.types.is_string(text) or pa.types.is_large_string(text)):
        return None
    ids = pa.concat_arrays(ids.unify_dictionaries().chunks)
    return ids.indices.to_numpy(), np.asarray(ids.dictionary.to_pylist(), dtype=object)


def _finite_float32(values):
    """`values` as float32 (rounded from float64), or `None` when one is not finite there
    (infinite, missing, or beyond float32's range)."""
    with np.errstate(over="ignore"):  # an overflow is an infinity, reported by `None`
        values = np.asarray(values, dtype=np.float64).astype(np.float32)
    return values if np.isfinite(values).all() else None


def _read_column(pa, pq, path, column, cast=None, convert=None, **options):
    """One column as numpy (an Arrow array for dictionary columns), `None` when it has
    missing values; ``convert(array)`` makes the numpy array (or `None`) from a view of
    Arrow's buffer, a copy by default. Arrow's freed buffers go back to the system before
    numpy's temporaries (numpy cannot reuse them)."""
    # Without pre-buffering or threads: one column chunk decoded at a time.
    values = (
        pq.ParquetFile(path, pre_buffer=False, **options)
        .read(columns=[column], use_threads=False)
        .column(column)
    )
    if values.null_count:
        return None
    if pa.types.is_dictionary(values.type):
        return values
    if cast is not None:
        values = values.cast(cast)
    # An array owned by numpy, so that no Arrow buffer outlives this call.
    view = values.to_numpy()
    out = np.array(view, copy=True) if convert is None else convert(view)
    del view
    del values
    pa.default_memory_pool().release_unused()
    return out


def _is_number(pa, dtype):
    return pa.types.is_floating(dtype) or pa.types.is_integer(dtype)


def _positions(lengths):
    """``(sum(lengths),)`` int64: each row's position inside its run."""
    total = int(lengths.sum())
    return np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)


# Rows per block of the regularity check (bounds its int64 temporaries to a few MB).
_CHUNK = 1 << 18


def _is_regular(stamps, same_series, offset):
    """Whether consecutive rows of a series are exactly one `offset` apart (which rules out
    unsorted rows, duplicates and gaps too); checked in blocks of `_CHUNK` rows."""
    if isinstance(offset, pd.offsets.Tick):
        step, grid = offset.nanos, None
    else:
        # Calendar steps (months, quarters, weeks): one step = the next date of a shared grid.
        step = 1
        grid = pd.date_range(pd.Timestamp(stamps.min()), pd.Timestamp(stamps.max()), freq=offset)
        grid = grid.asi8
    for begin in range(0, len(stamps), _CHUNK):
        # Rows begin-1 .. end-1: the row before the block links it to the previous one.
        first = max(begin - 1, 0)
        part = stamps[first : begin + _CHUNK]
        if grid is not None:
            position = np.searchsorted(grid, part)  # (rows,) int64
            if (position >= len(grid)).any() or not (grid[position] == part).all():
                return False
            part = position
        if not (np.diff(part)[same_series[first : begin + _CHUNK - 1]] == step).all():
            return False
    return True
