"""Related series of a single-series run (``[data] related``): loaded once with the series,
cut for each fit where that fit's training part ends. Keras-free.

A recurrent net fitted to one short series has a few dozen windows to learn from; trained
across many related series (the global models of ES-RNN, N-BEATS and DeepAR) it has thousands.
The related series only add training windows: validation, the choice and every score stay on
the run's own series, and nothing dated after the training part's last date is read, so the
test period reaches no fitted weight through them.
"""

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kseq.data import load_us_employment, read_panel
from kseq.errors import ConfigError, DataError


@dataclass(frozen=True)
class RelatedCut:
    """The related series up to one date: what one fit trains on beside the run's series.

    Attributes:
        values: one ``(time, 1)`` float64 array per series used, original units.
        ids: their ids.
        end: the last date kept (the training part's).
        left_out: ``{id: why}`` for the series with too few points up to `end`.
    """

    values: list
    ids: list
    end: str
    left_out: dict = field(default_factory=dict)

    def describe(self, source):
        """What the run card records: source, series used and left out, points."""
        return {
            "source": source,
            "until": self.end,
            "series_used": len(self.ids),
            "points": int(sum(len(v) for v in self.values)),
            "left_out": dict(self.left_out),
        }


def load_related(data, series):
    """The panel `data.related` names (`None` when unset), checked against the run's series:
    dated, on the same frequency."""
    if data.related is None:
        return None
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ConfigError(
            "[data] related needs a dated series, to cut the related series where its training "
            "part ends; this series has no dates (set [data] time_column)."
        )
    if data.related == "us_employment":
        panel = load_us_employment()
    elif not os.path.isfile(data.related):
        what = "is a directory" if os.path.isdir(data.related) else "does not exist"
        raise FileNotFoundError(
            f"[data] related = {data.related!r}: the file {what}; name a long CSV or Parquet "
            "file (unique_id, ds, y) or the bundled 'us_employment'."
        )
    else:
        panel = read_panel(data.related, name=f"[data] related = {data.related!r}")
    freq = series.index.freqstr or pd.infer_freq(series.index)
    offset = pd.tseries.frequencies.to_offset
    if freq is None or offset(freq) != offset(panel.freq):
        raise DataError(
            f"[data] related = {data.related!r} is on frequency {panel.freq!r}; the series is on "
            f"{freq!r}. Related series must share the series' frequency."
        )
    return panel


def cut_related(panel, end, min_length, *, positive=False):
    """Each series of `panel` up to `end` (a date, inclusive) as a `RelatedCut`.

    A series with fewer than `min_length` points there (a window's lookback, lags and horizon)
    is left out and listed with why. With `positive` (the run takes logs), a series with a
    value <= 0 before `end` is an error naming it.
    """
    end = pd.Timestamp(end)
    counts = panel.count_until(end)
    values, ids, left_out = [], [], {}
    for i, count in enumerate(counts):
        name = str(panel.ids[i])
        if count < min_length:
            left_out[name] = f"{int(count)} points up to {end.date()}; a window needs {min_length}"
            continue
        kept = np.asarray(panel.series(i)[:count], dtype="float64")
        if positive and (kept <= 0).any():
            row = int(np.flatnonzero(kept <= 0)[0])
            raise DataError(
                f"[data] related series {name!r} has a value <= 0 on {panel.dates(i)[row].date()} "
                f"(row {row} of the series); [transforms] log = true needs positive values. "
                "Leave the series out of the related file, or turn the log off."
            )
        values.append(kept[:, None])
        ids.append(name)
    return RelatedCut(values, ids, str(end.date()), left_out)
