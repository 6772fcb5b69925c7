"""Panels: many series in long format (``unique_id``, ``ds``, ``y``), stored contiguously.

A `Panel` keeps every value in one float32 array with per-series offsets, and each series'
first date and the panel's frequency, so 10 million values cost about 40 MB plus a few bytes
per series (no DataFrame per series). Series may start and end at different dates (ragged).
"""

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from kseq.errors import DataError, EmptyDataError, SeriesTooShortError, TimeIndexError

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


def list_rows(labels):
    labels = list(labels)
    more = f" and {len(labels) - _SHOW} more" if len(labels) > _SHOW else ""
    return ", ".join(str(label) for label in labels[:_SHOW]) + more


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
            f"{list_rows(skipped)}. Pass on_short='skip' (recipe: --set data.on_short=skip) to "
            "leave them out; the run card lists them."
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


# Dates per series that frequency inference looks at (a year of monthly data; enough to tell
# "MS" from "QS" and business days from days).
INFER_POINTS = 12


def infer_panel_freq(ids, stamps, name):
    """The panel's frequency, inferred on each series' first dates (`ids`, `stamps`: the
    first `INFER_POINTS` rows of each series, one run of rows per series, datetime64);
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
            f"{INFER_POINTS} evenly spaced dates (or 3 in a shorter series). Pass freq= "
            "(recipe: data.freq), and any gap is then reported with its series and date."
        )
    if len(found) > 1:
        shown = ", ".join(f"{f} (series {s!r})" for f, s in list(found.items())[:3])
        raise TimeIndexError(f"{name}: the series have different frequencies: {shown}.")
    return next(iter(found))
