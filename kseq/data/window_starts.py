"""The windows of a panel, addressed by number, their starts computed when asked for."""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class WindowStarts:
    """The start positions of every window of ``window`` points inside ``[offsets[i],
    ends[i])`` of each series, in the order of `make_panel_starts` (series after series),
    computed for the window numbers asked for: ``starts[rows]`` equals
    ``make_panel_starts(offsets, ends, window)[rows]``, and the whole index costs O(series)
    instead of 4–8 bytes a window.

    Attributes:
        first: ``(num_series,)`` int64, the first window's start in each series.
        counts: ``(num_series,)`` int64, the windows of each series (0 when too short).
    """

    first: np.ndarray
    counts: np.ndarray
    # One past each series' last window number (cumulative counts), for the lookups.
    _run_ends: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_run_ends", np.cumsum(self.counts))

    @classmethod
    def of(cls, offsets, ends, window):
        """The windows of `window` points inside ``[offsets[i], ends[i])``."""
        first = np.asarray(offsets[: len(ends)], dtype=np.int64)
        counts = np.maximum(np.asarray(ends, dtype=np.int64) - first - window + 1, 0)
        return cls(first, counts)

    @property
    def run_starts(self):
        """``(num_series,)`` the number of each series' first window."""
        return self._run_ends - self.counts

    def __len__(self):
        return int(self._run_ends[-1]) if len(self.counts) else 0

    def __getitem__(self, rows):
        rows = np.asarray(rows)
        series = np.searchsorted(self._run_ends, rows, side="right")
        return self.first[series] + (rows - (self._run_ends - self.counts)[series])
