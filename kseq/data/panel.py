"""Panels: many series in long format (``unique_id``, ``ds``, ``y``), stored contiguously.

A `Panel` keeps every value in one float32 array with per-series offsets, and each series'
first date and the panel's frequency, so 10 million values cost about 40 MB plus a few bytes
per series (no DataFrame per series). Series may start and end at different dates (ragged).
"""

import os
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from kseq.data.dates import find_dayfirst
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
    MissingValueError,
    SeriesTooShortError,
    TimeIndexError,
)

_SHOW = 5
# Values per step when phases are computed (bounds the int64 temporaries to 32 MB).
_PHASE_CHUNK = 1 << 22


@dataclass(frozen=True)
class Panel:
    """Many series on one frequency.

    Attributes:
        ids: ``(num_series,)`` series ids (strings), in the order stored.
        values: ``(total,)`` float32, the series one after another.
        offsets: ``(num_series + 1,)`` int64; series ``i`` is ``values[offsets[i]:offsets[i+1]]``.
        starts: ``(num_series,)`` the first date of each series.
        freq: the pandas frequency of every series (``"MS"``, ``"QS-JAN"``, ...).
        static: ``{column: (num_series,) array}`` of per-series static values.
        skipped: ids left out by ``on_short="skip"``, with why (reported, never silent).
    """

    ids: np.ndarray
    values: np.ndarray
    offsets: np.ndarray
    starts: pd.DatetimeIndex
    freq: str
    static: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.ids)

    @property
    def lengths(self):
        return np.diff(self.offsets)

    def series(self, i):
        """The values of series `i` (a view)."""
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def dates(self, i):
        """The dates of series `i`."""
        return pd.date_range(self.starts[i], periods=int(self.lengths[i]), freq=self.freq)

    def end_dates(self):
        """The last date of each series."""
        offset = pd.tseries.frequencies.to_offset(self.freq)
        return pd.DatetimeIndex(
            [start + (n - 1) * offset for start, n in zip(self.starts, self.lengths, strict=True)]
        )

    def phase_shifts(self, season_length):
        """``(num_series,)`` int64: value ``p`` of series ``i`` (an absolute position in
        `values`) sits at position ``(shift[i] + p) % season_length`` in its season, aligned on
        calendar dates so all series share one phase."""
        # Steps from a fixed calendar origin, read off one date range (not one per series).
        origin = pd.Timestamp("2000-01-01")
        grid = pd.date_range(
            min(origin, self.starts.min()), max(origin, self.starts.max()), freq=self.freq
        )
        first = grid.searchsorted(self.starts) - grid.searchsorted(origin)
        return (first - self.offsets[:-1]) % season_length

    def phases(self, season_length):
        """``(total,)`` each value's position in its season (month of year for monthly data
        with season 12), one byte a value for seasons up to 256."""
        shift = self.phase_shifts(season_length)
        # Filled in chunks: no (total,) int64 temporaries.
        phases = np.empty(len(self.values), dtype=np.min_scalar_type(season_length - 1))
        for begin in range(0, len(phases), _PHASE_CHUNK):
            positions = np.arange(begin, min(begin + _PHASE_CHUNK, len(phases)))
            series = np.searchsorted(self.offsets, positions, side="right") - 1
            phases[begin : begin + len(positions)] = (shift[series] + positions) % season_length
        return phases

    def to_frame(self, value_name="y"):
        """The panel in long format: ``unique_id``, ``ds``, `value_name`."""
        return pd.DataFrame(
            {
                "unique_id": np.repeat(self.ids, self.lengths),
                "ds": np.concatenate([self.dates(i) for i in range(len(self))]),
                value_name: self.values.astype("float64"),
            }
        )

    def head(self, lengths):
        """A panel of each series' first ``lengths[i]`` values (a cut before a cutoff)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        if (lengths < 1).any() or (lengths > self.lengths).any():
            raise ValueError("Each kept length must be in [1, the series length].")
        parts = [self.values[o : o + n] for o, n in zip(self.offsets[:-1], lengths, strict=True)]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        return Panel(
            self.ids,
            np.concatenate(parts),
            offsets,
            self.starts,
            self.freq,
            self.static,
            self.skipped,
        )

    def drop(self, reasons):
        """A panel without the series in `reasons` (``{id: why}``), which join `skipped`."""
        keep = ~np.isin(self.ids, list(reasons))
        lengths = self.lengths[keep]
        parts = [self.series(i) for i in np.flatnonzero(keep)]
        return Panel(
            self.ids[keep],
            np.concatenate(parts) if parts else self.values[:0],
            np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            self.starts[keep],
            self.freq,
            {name: values[keep] for name, values in self.static.items()},
            {**self.skipped, **reasons},
        )

    def count_until(self, end):
        """``(num_series,)`` points of each series dated on or before `end` (a date)."""
        end = pd.Timestamp(end)
        grid = pd.date_range(
            min(self.starts.min(), end), max(self.starts.max(), end), freq=self.freq
        )
        counts = grid.searchsorted(end, side="right") - grid.searchsorted(self.starts)
        return np.clip(counts, 0, self.lengths)

    def checksum(self):
        """A hex digest of the ids, dates and values (keys caches of baseline forecasts)."""
        import hashlib

        digest = hashlib.sha256()
        for part in (self.ids.astype(str), self.offsets, self.starts.asi8, self.values):
            digest.update(np.ascontiguousarray(part).tobytes())
        digest.update(self.freq.encode())
        return digest.hexdigest()


def _rows(labels):
    labels = list(labels)
    more = f" and {len(labels) - _SHOW} more" if len(labels) > _SHOW else ""
    return ", ".join(str(label) for label in labels[:_SHOW]) + more


def read_panel(
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
):
    """Reads and validates a long-format panel from a CSV or Parquet file, a folder of such
    files (shards, each holding whole series; see `kseq.data.read_panel_shards` to read them
    one at a time instead), or a `pandas.DataFrame`.

    Inside each series the rules of `read_series` hold: sorted dates (unsorted rows are
    sorted), no duplicate dates, no gaps, finite numbers, one frequency for the whole panel.
    A Parquet file (or shard) that holds each series as one run of rows in date order is
    checked on its Arrow columns, without a DataFrame (`kseq.data.parquet_panel`); any other
    input, or any problem, goes through pandas, whose errors name the series and rows.
    Errors are typed (`kseq.errors`) and name the series id and the rows (row numbers count
    data rows from 0).

    Args:
        source: a CSV path or a DataFrame.
        id_column, time_column, target_column: the columns of the long format.
        static_columns: per-series constant columns kept as `Panel.static`.
        min_length: the fewest points a series needs (``lookback + horizon`` and the splits).
        on_short: ``"raise"`` (the default: an error listing the ids) or ``"skip"`` (left
            out and listed in `Panel.skipped`).
        freq: the pandas frequency; inferred from the series when `None`.
        name: what errors call the source (the path, or "the DataFrame", by default).
        min_series: the fewest series left after skipping (0: an empty panel is no error,
            as for one shard of a folder whose series are all too short).

    Returns:
        A `Panel`.
    """
    if on_short not in ("raise", "skip"):
        raise ValueError(f"`on_short` must be 'raise' or 'skip'. Received: {on_short!r}")
    from kseq.data.panel_shards import is_panel_folder, read_panel_shards

    if is_panel_folder(source):
        shards = read_panel_shards(
            source,
            id_column,
            time_column,
            target_column,
            min_length=min_length,
            on_short=on_short,
            freq=freq,
        )
        # One shard in memory at a time, its values copied into one array sized up front.
        panel = concat_panels(
            (shards.read(i, min_series=0) for i in range(len(shards))),
            num_values=shards.num_values,
        )
        if not len(panel):
            raise SeriesTooShortError(f"{source}: no series has {min_length} points or more.")
        return panel
    if name is None:
        name = source if isinstance(source, (str, os.PathLike)) else "the DataFrame"
    static_columns = [static_columns] if isinstance(static_columns, str) else list(static_columns)
    if not static_columns and _is_parquet_file(source):
        from kseq.data.parquet_panel import read_sorted_parquet_panel

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
        raise MissingValueError(f"{name}: column {id_column!r} is empty in rows {_rows(rows)}.")
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
            f"{first[id_column]!r} (rows {_rows(frame.index[bad])}), e.g. {first[target_column]!r}."
        )
    frame[target_column] = numeric.astype("float64")
    _check_finite(frame, name, id_column, target_column)
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
            f"(rows {_rows(rows)}), e.g. {frame.loc[rows[0], time_column]!r}."
        )
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    frame[time_column] = times
    # Stable: the original order breaks ties, so duplicates are reported by their rows.
    frame = frame.sort_values([id_column, time_column], kind="stable")
    duplicated = frame.duplicated([id_column, time_column], keep=False)
    if duplicated.any():
        first = frame.loc[duplicated].iloc[0]
        rows = frame.loc[duplicated & (frame[id_column] == first[id_column]), "_row"]
        raise TimeIndexError(
            f"{name}: series {first[id_column]!r} has duplicate dates "
            f"({first[time_column]:%Y-%m-%d} in rows {_rows(rows)}); keep one row per series "
            "and date."
        )
    groups = frame.groupby(id_column, sort=False)
    freq = freq or _infer_freq(frame, name, id_column, time_column)
    offset = pd.tseries.frequencies.to_offset(freq)
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


def make_panel(
    ids, values, lengths, starts, freq, *, name, min_length, on_short, min_series, static_of=None
):
    """The `Panel` of validated series laid end to end (``values``: ``(sum(lengths),)``, the
    series in the order of `ids`), short ones raised or skipped as `read_panel` documents.

    `static_of(keep)` gives the static values of the kept series (``keep``: a mask over
    `ids`)."""
    ids, lengths = np.asarray(ids, dtype=object), np.asarray(lengths, dtype=np.int64)
    short = lengths < min_length
    skipped = {
        sid: f"{n} points, fewer than the {min_length} needed"
        for sid, n in zip(ids[short], lengths[short], strict=True)
    }
    if skipped and on_short == "raise":
        raise SeriesTooShortError(
            f"{name}: {len(skipped)} series have fewer than {min_length} points: "
            f"{_rows(skipped)}. Pass on_short='skip' (recipe: --set data.on_short=skip) to leave "
            "them out; the run card lists them."
        )
    keep = ~short
    if int(keep.sum()) < min_series:
        raise SeriesTooShortError(f"{name}: no series has {min_length} points or more.")
    if skipped:
        values = values[np.repeat(keep, lengths)]
    return Panel(
        ids=ids[keep],
        values=np.asarray(values, dtype=np.float32),
        offsets=np.concatenate([[0], np.cumsum(lengths[keep])]).astype(np.int64),
        starts=pd.DatetimeIndex(np.asarray(starts)[keep]),
        freq=freq,
        static={} if static_of is None else static_of(keep),
        skipped=skipped,
    )


def _read_static(kept, static_columns, name, id_column):
    static = {}
    for column in static_columns:
        per_series = kept.groupby(id_column, sort=False)[column]
        varying = per_series.nunique(dropna=False) > 1
        if varying.any():
            raise DataTypeError(
                f"{name}: static column {column!r} changes within series "
                f"{_rows(varying.index[varying])}; static values are one per series."
            )
        static[column] = per_series.first().to_numpy()
    return static


def concat_panels(panels, *, num_values=None):
    """One `Panel` of the series of `panels` (same frequency, no id twice), in order.

    `panels` may be an iterator; with `num_values` (an upper bound of their values, such as
    `PanelShards.num_values`) the values are copied into one array allocated up front, so
    only one input panel need be alive at a time.
    """
    values = None if num_values is None else np.empty(int(num_values), dtype=np.float32)
    parts, filled = [], 0
    for panel in panels:
        if values is not None:
            values[filled : filled + len(panel.values)] = panel.values
            filled += len(panel.values)
            # A fresh empty array: a view (`values[:0]`) would keep the shard's buffer alive.
            panel = replace(panel, values=np.empty(0, dtype=np.float32))
        parts.append(panel)
    if not parts:
        raise EmptyDataError("There is no panel to join.")
    freqs = {p.freq for p in parts}
    if len(freqs) > 1:
        raise TimeIndexError(f"The shards have different frequencies: {sorted(freqs)}.")
    ids = np.concatenate([p.ids for p in parts])
    if len(set(ids)) < len(ids):
        raise DataError("A series id is in two shards; keep each series in one file.")
    if values is None:
        values = np.concatenate([p.values for p in parts])
    elif filled < len(values):  # short series were skipped
        values.resize(filled, refcheck=False)
    lengths = np.concatenate([p.lengths for p in parts])
    return Panel(
        ids=ids,
        values=values,
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        starts=pd.DatetimeIndex(np.concatenate([p.starts.to_numpy() for p in parts])),
        freq=parts[0].freq,
        static={k: np.concatenate([p.static[k] for p in parts]) for k in parts[0].static},
        skipped={k: v for p in parts for k, v in p.skipped.items()},
    )


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
        from kseq.data.panel_shards import read_shard_frame

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


# Dates per series that frequency inference looks at (a year of monthly data; enough to tell
# "MS" from "QS" and business days from days).
_INFER_POINTS = 12


def _check_finite(frame, name, id_column, target_column):
    y = frame[target_column]
    for mask, error, what in (
        (y.isna(), MissingValueError, "missing values (NaN)"),
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
                f"{name}: series {sid!r} has {what} in column {target_column!r} (rows "
                f"{_rows(rows)}); fill or drop them before reading the panel."
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
                f"(row {group['_row'].iloc[where]}; expected {expected[where]:%Y-%m-%d} at "
                f"frequency {freq}); fill the missing dates or resample the series."
            )


def _infer_freq(frame, name, id_column, time_column):
    heads = frame.groupby(id_column, sort=False).head(_INFER_POINTS)
    return infer_panel_freq(heads[id_column].to_numpy(), heads[time_column].to_numpy(), name)


def infer_panel_freq(ids, stamps, name):
    """The panel's frequency, inferred on each series' first dates (`ids`, `stamps`: the
    first `_INFER_POINTS` rows of each series, one run of rows per series, datetime64);
    series that start with the same spacing are inferred once."""
    found, seen = {}, set()
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    for begin, end in zip(bounds[:-1], bounds[1:], strict=True):
        if end - begin < 3:
            continue
        dates = stamps[begin:end]
        # Month lengths make calendar spacings depend on the start: key by both.
        pattern = (tuple(np.diff(dates).astype("int64")), pd.Timestamp(dates[0]).month)
        if pattern in seen:
            continue
        seen.add(pattern)
        inferred = pd.DatetimeIndex(dates, freq="infer").freq
        found.setdefault(None if inferred is None else inferred.freqstr, ids[begin])
    found.pop(None, None)
    if not found:
        raise TimeIndexError(
            f"{name}: the frequency cannot be inferred: no series starts with "
            f"{_INFER_POINTS} evenly spaced dates (or 3 in a shorter series). Pass freq= "
            "(recipe: data.freq), and any gap is then reported with its series and date."
        )
    if len(found) > 1:
        shown = ", ".join(f"{f} (series {s!r})" for f, s in list(found.items())[:3])
        raise TimeIndexError(f"{name}: the series have different frequencies: {shown}.")
    return next(iter(found))
