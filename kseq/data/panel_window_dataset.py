"""Training windows across the series of a panel, indexed by start position, never crossing a
series boundary; normalised per window."""

import math

import numpy as np

from kseq._keras import keras
from kseq.data.window_starts import WindowStarts
from kseq.data.windows import count_served_windows

# Windows per step when window starts are computed (bounds the temporaries).
_CHUNK = 1 << 22
# An epoch of steps_per_epoch batches drawing at most 1/16 of the windows samples them
# directly instead of shuffling them all.
_SAMPLE_FRACTION = 16


def make_panel_starts(offsets, ends, window):
    """``(num_windows,)`` absolute start positions, ascending, of every window of `window`
    points that lies inside ``[offsets[i], ends[i])`` of one series (O(windows) memory, no
    copies): int32 while the panel's positions fit in it (4 bytes a window), else int64.
    `WindowStarts` holds the same starts in O(series) memory."""
    index = WindowStarts.of(offsets, ends, window)
    ends = np.asarray(ends, dtype=np.int64)
    dtype = np.int32 if len(ends) == 0 or ends.max() < np.iinfo(np.int32).max else np.int64
    starts = np.empty(len(index), dtype=dtype)
    # Filled in chunks: no (num_windows,) int64 temporaries.
    for begin in range(0, len(starts), _CHUNK):
        stop = min(begin + _CHUNK, len(starts))
        starts[begin:stop] = index[np.arange(begin, stop)]
    return starts


def make_window_features(values, scaled, phases, starts, lookback, season_length):
    """Inputs ``(batch, lookback, 1 or 3)`` of windows starting at `starts`, and their
    ``(loc, scale)`` (each ``(batch, 1)``): the window minus its last value (over the window's
    mean absolute value where the series is not on a log scale), then the sine and cosine of
    each step's position in the season when `phases` is given."""
    positions = starts[:, None] + np.arange(lookback)
    x = values[positions]
    loc = x[:, -1:]
    scale = np.where(scaled[starts][:, None], np.abs(x).mean(axis=1, keepdims=True) + 1e-8, 1.0)
    features = [(x - loc) / scale]
    if phases is not None:
        angle = (2 * np.pi / season_length) * phases[positions]
        features += [np.sin(angle), np.cos(angle)]
    return np.stack(features, axis=-1).astype("float32"), loc, scale


class PanelWindowDataset(keras.utils.PyDataset):
    """Batches of ``(lookback → horizon)`` windows from many series, for `model.fit`.

    Windows are addressed by their absolute start in the panel's contiguous values and never
    cross a series boundary; only the served batch is gathered. Targets are expressed like the
    inputs (minus the window's last value, over its scale).

    Args:
        values: ``(total,)`` float32 values of the panel, already transformed (log, ...).
        scaled: ``(total,)`` bool, True where windows are divided by their scale (series not
            on a log scale).
        phases: ``(total,)`` position in the season of each value, or `None` for no calendar
            features.
        starts: ``(num_windows,)`` window starts (`make_panel_starts`), or a `WindowStarts`
            (the same starts computed per batch: O(series) memory).
        lookback, horizon, season_length: window sizes and the season of the phases.
        batch_size: windows per batch.
        sampling: ``"windows"`` (each window once per epoch, shuffled) or ``"series"`` (each
            draw picks a series uniformly, then one of its windows).
        offsets: ``(num_series + 1,)`` the panel's series offsets (for ``"series"``).
        steps_per_epoch: batches per epoch; one pass over the windows by default.
        seed: seed of the order.
        initial_epoch: the first epoch served (a resumed fit's `initial_epoch`).
        batch_multiple: batches hold a multiple of this many windows (`count_served_windows`).
        covariates: a `SeriesCovariates` (static values, id embedding codes) or `None`.
    """

    def __init__(
        self,
        values,
        scaled,
        phases,
        starts,
        *,
        lookback,
        horizon,
        season_length=1,
        batch_size=256,
        sampling="windows",
        offsets=None,
        shuffle=True,
        steps_per_epoch=None,
        seed=None,
        initial_epoch=0,
        batch_multiple=1,
        covariates=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.covariates = covariates
        if sampling not in ("windows", "series"):
            raise ValueError(f"`sampling` must be 'windows' or 'series'. Received: {sampling!r}")
        if not len(starts):
            raise ValueError("The panel holds no window of lookback + horizon points.")
        self.values, self.scaled, self.phases = values, scaled, phases
        if not isinstance(starts, WindowStarts):
            starts = np.asarray(starts)  # int32 or int64 (`make_panel_starts`)
            if starts.dtype.kind not in "iu":
                raise ValueError(f"`starts` must be integers. Received dtype {starts.dtype}")
        self.starts = starts
        self.lookback, self.horizon, self.season_length = lookback, horizon, season_length
        self.batch_size = int(batch_size)
        self.sampling, self.shuffle, self.seed = sampling, shuffle, seed
        self.steps_per_epoch = steps_per_epoch
        self._served = count_served_windows(len(self.starts), self.batch_size, batch_multiple)
        self._steps = steps_per_epoch or math.ceil(self._served / self.batch_size)
        if sampling == "series":
            if offsets is None:
                raise ValueError("`sampling='series'` needs the panel's `offsets`.")
            # Each series' windows as one run of the sorted starts (O(series), no per-window
            # series index): draw a series with windows, then a window inside its run.
            self._order_by_series = None
            if isinstance(self.starts, WindowStarts):
                first, count = self.starts.run_starts, self.starts.counts
            else:
                ordered = self.starts
                if (ordered[1:] < ordered[:-1]).any():  # not from `make_panel_starts`
                    self._order_by_series = np.argsort(self.starts, kind="stable")
                    ordered = self.starts[self._order_by_series]
                first = np.searchsorted(ordered, np.asarray(offsets[:-1]))
                count = np.searchsorted(ordered, np.asarray(offsets[1:])) - first
            self._first, self._count = first[count > 0], count[count > 0]
        # The order of epoch e depends on (seed, e) only: a resumed fit gets the same batches.
        # It is made when first served: Keras also calls `on_epoch_end` as a fit starts, and a
        # large panel's order costs seconds.
        self._epoch = int(initial_epoch)
        self._order = None

    def _make_order(self):
        rng = np.random.default_rng(None if self.seed is None else (self.seed, self._epoch))
        draws = self._steps * self.batch_size
        if self.sampling == "series":
            series = rng.integers(0, len(self._count), size=draws)
            inside = (rng.random(draws) * self._count[series]).astype(np.int64)
            rows = self._first[series] + inside
            return rows if self._order_by_series is None else self._order_by_series[rows]
        count = len(self.starts)
        if self.steps_per_epoch and draws <= count:
            if not self.shuffle:
                return np.arange(draws)
            if draws * _SAMPLE_FRACTION <= count:
                # A few of many windows (a large panel): drawn without replacement in
                # O(draws), not a shuffled copy of every window (4 bytes and ~0.1 µs each).
                return rng.choice(count, size=draws, replace=False)
        # int32 while it fits: the one (num_windows,) array made per epoch.
        dtype = np.int32 if count < np.iinfo(np.int32).max else np.int64
        order = np.arange(count, dtype=dtype)
        if self.shuffle:
            rng.shuffle(order)
        if not self.steps_per_epoch:
            order = order[: self._served]
        repeats = math.ceil(draws / len(order)) if self.steps_per_epoch else 1
        return np.tile(order, repeats) if repeats > 1 else order

    def __len__(self):
        return self._steps

    @property
    def full_batch_size(self):
        """`batch_size` when every batch of an epoch holds exactly that many windows (series
        sampling, a set `steps_per_epoch`, or one pass that divides evenly), else `None`. A native
        pipeline then gives the batch axis a static size, which some kernels choose by."""
        full = (
            self.sampling == "series"  # steps x batch_size draws
            or bool(self.steps_per_epoch)
            or self._served % self.batch_size == 0
        )
        return self.batch_size if full else None

    @property
    def order(self):
        """Rows of `starts` served this epoch, in order (batch i is ``order[i*b:(i+1)*b]``)."""
        if self._order is None:
            self._order = self._make_order()
        return self._order

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        starts = self.starts[rows]
        x, loc, scale = make_window_features(
            self.values, self.scaled, self.phases, starts, self.lookback, self.season_length
        )
        targets = self.values[starts[:, None] + self.lookback + np.arange(self.horizon)]
        y = ((targets - loc) / scale).astype("float32")
        if self.covariates is not None:
            x = self.covariates.make_inputs(x, starts)
        return x, y[..., None]  # (batch, horizon, 1)

    def on_epoch_end(self):
        self._epoch += 1
        if self.shuffle or self.sampling == "series":
            self._order = None  # made anew when the next epoch is first served
