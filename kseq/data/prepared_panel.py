"""A panel's values as a global model sees them, computed only where they are read."""

from dataclasses import dataclass

import numpy as np


class _Lookup:
    """Indexable like the ``(total,)`` array it stands for: ``lookup[positions]``."""

    def __init__(self, compute, length):
        self._compute, self._length = compute, length

    def __getitem__(self, positions):
        return self._compute(np.asarray(positions))

    def __len__(self):
        return self._length


@dataclass(frozen=True)
class PreparedPanel:
    """The transformed values, "scaled" flags and calendar phases of a panel, each computed
    for the positions a batch reads (``prepared.values[positions]``) from the panel's own
    float32 values and a few numbers per series.

    A panel of N values in S series costs O(S) here, not the O(N) of transformed copies
    (4 bytes a value for the values, one each for flags and phases). The arithmetic is the one
    a transformed copy would hold, value by value, in float32.

    Attributes:
        raw: ``(total,)`` float32 values of the panel (not copied).
        offsets: ``(S + 1,)`` series offsets.
        on_log: ``(S,)`` bool, series modelled on log scale.
        loc, scale: ``(S,)`` float32 statistics of a per-series scaler (applied after the
            log), or `None` for none.
        scaled: ``(S,)`` bool, series whose windows are divided by their mean absolute value.
        phase_shift: ``(S,)`` int64: value ``p`` of series ``i`` sits at phase
            ``(phase_shift[i] + p) % season_length``; `None` for no calendar features.
        season_length: the season of the phases.
    """

    raw: np.ndarray
    offsets: np.ndarray
    on_log: np.ndarray
    loc: np.ndarray | None
    scale: np.ndarray | None
    scaled: np.ndarray
    phase_shift: np.ndarray | None
    season_length: int = 1

    @classmethod
    def of(cls, panel, on_log, *, loc=None, scale=None, season_length=1, calendar=True):
        """The prepared values of `panel` (a `kseq.data.Panel`): the series flagged `on_log`
        on log scale, then scaled by `loc` and `scale` when given. Windows of series off the
        log scale are divided by their mean absolute value unless a scaler has already set
        every series' scale."""
        return cls(
            raw=panel.values,
            offsets=panel.offsets,
            on_log=on_log,
            loc=loc,
            scale=scale,
            scaled=~on_log if loc is None else np.zeros_like(on_log),
            phase_shift=panel.phase_shifts(season_length) if calendar else None,
            season_length=season_length,
        )

    def series_of(self, positions):
        """The series index of each absolute position."""
        return np.searchsorted(self.offsets, positions, side="right") - 1

    def values_at(self, positions):
        """float32 transformed values at `positions` (any shape)."""
        series = self.series_of(positions)
        x = self.raw[positions]  # a copy: the panel's values stay as they are
        np.log(x, out=x, where=self.on_log[series])
        if self.loc is not None:
            x -= self.loc[series]
            x /= self.scale[series]
        return x

    def scaled_at(self, positions):
        return self.scaled[self.series_of(positions)]

    def phases_at(self, positions):
        return (self.phase_shift[self.series_of(positions)] + positions) % self.season_length

    def arrays(self):
        """``(values, scaled, phases)``, each indexable by positions like a ``(total,)`` array
        (what `make_window_features` and the window datasets read); phases `None` without
        calendar features."""
        total = len(self.raw)
        phases = None if self.phase_shift is None else _Lookup(self.phases_at, total)
        return _Lookup(self.values_at, total), _Lookup(self.scaled_at, total), phases
