"""Per-series scaling of a panel, fitted on each series' training part, vectorised over series."""

import numpy as np
import pandas as pd

from kseq.errors import DataError, NotFittedError
from kseq.saving import plain_value

SCALERS = ("none", "standard", "robust", "mean_abs", "minmax")


class PanelScaler:
    """``(x - loc[series]) / scale[series]`` for every series of a panel at once.

    The statistics of global forecasting models (neuralforecast's scalers, DeepAR's mean
    scaling), each computed per series on its training part only:

    - ``"standard"``: mean and standard deviation;
    - ``"robust"``: median and interquartile range;
    - ``"mean_abs"``: no shift, mean absolute value;
    - ``"minmax"``: minimum and range (values of the training part land in [0, 1]);
    - ``"none"``: identity.

    A scale of 0 (a constant training part) is replaced by 1, so such a series is only shifted.
    The state is plain lists keyed by series id (JSON, no pickle).

    Args:
        method: one of `SCALERS`.
    """

    def __init__(self, method="none"):
        if method not in SCALERS:
            raise ValueError(f"`method` must be one of {', '.join(SCALERS)}. Received: {method!r}")
        self.method = method
        self.stats_ = None  # {series id: (loc, scale)}

    def fit(self, values, ids, lengths, train_lengths):
        """Fits each series' statistics on its first `train_lengths` values.

        Args:
            values: ``(total,)`` values of the panel, series after series.
            ids: ``(num_series,)`` series ids, in the order of `values`.
            lengths: ``(num_series,)`` points of each series.
            train_lengths: ``(num_series,)`` leading points of each series to fit on (>= 1).
        """
        if self.method == "none":
            self.stats_ = {}
            return self
        lengths = np.asarray(lengths, dtype="int64")
        train_lengths = np.asarray(train_lengths, dtype="int64")
        if (train_lengths < 1).any() or (train_lengths > lengths).any():
            bad = np.asarray(ids)[(train_lengths < 1) | (train_lengths > lengths)]
            raise DataError(
                f"PanelScaler: series {', '.join(map(str, bad[:5]))} have no training values "
                "to fit on."
            )
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        series = np.repeat(np.arange(len(lengths)), lengths)
        # Positions of the training parts only.
        within = np.arange(len(series)) - starts[series]
        in_train = within < train_lengths[series]
        train = pd.Series(np.asarray(values, dtype="float64")[in_train])
        keys = series[in_train]
        groups = train.groupby(keys, sort=True)
        if self.method == "standard":
            loc, scale = groups.mean(), groups.std(ddof=0)
        elif self.method == "robust":
            loc = groups.median()
            scale = groups.quantile(0.75) - groups.quantile(0.25)
        elif self.method == "mean_abs":
            scale = train.abs().groupby(keys, sort=True).mean()
            loc = scale * 0.0
        else:  # minmax
            loc = groups.min()
            scale = groups.max() - loc
        loc, scale = loc.to_numpy(), scale.to_numpy()
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.stats_ = {sid: (float(m), float(s)) for sid, m, s in zip(ids, loc, scale, strict=True)}
        return self

    def _lookup(self, ids):
        if self.stats_ is None:
            raise NotFittedError("The PanelScaler is not fitted yet; call `fit` first.")
        missing = [sid for sid in ids if sid not in self.stats_]
        if missing:
            raise DataError(
                f"Series {', '.join(map(str, missing[:5]))} were not in the panel the scaler "
                "was fitted on; refit on a panel that holds them."
            )
        stats = np.array([self.stats_[sid] for sid in ids], dtype="float64").reshape(-1, 2)
        return stats[:, 0], stats[:, 1]

    def stats_of(self, ids):
        """``(loc, scale)``, each ``(len(ids),)`` float64: what `transform` subtracts from and
        divides each series by; `None` when the method is ``"none"``."""
        if self.method == "none":
            return None
        return self._lookup(ids)

    def transform(self, values, ids, lengths):
        """Scales ``(total,)`` panel values, series after series (`ids`, `lengths`)."""
        values = np.asarray(values)
        # Keeps a float32 panel in float32 (a large panel's memory), anything else float64.
        dtype = values.dtype if values.dtype == np.float32 else np.dtype("float64")
        if self.method == "none":
            return values.astype(dtype, copy=False)
        loc, scale = self._lookup(ids)
        lengths = np.asarray(lengths, dtype="int64")
        scaled = values.astype(dtype)  # a copy: the caller's values stay as they are
        scaled -= np.repeat(loc.astype(dtype), lengths)
        scaled /= np.repeat(scale.astype(dtype), lengths)
        return scaled

    def inverse_transform(self, values, ids):
        """Unscales ``(num_series, ...)`` values, row ``i`` of series ``ids[i]``."""
        if self.method == "none":
            return np.asarray(values, dtype="float64")
        loc, scale = self._lookup(ids)
        values = np.asarray(values, dtype="float64")
        shape = (-1,) + (1,) * (values.ndim - 1)
        return values * scale.reshape(shape) + loc.reshape(shape)

    def get_state(self):
        if self.method == "none":
            return {"method": "none"}
        if self.stats_ is None:
            raise NotFittedError("The PanelScaler is not fitted yet; call `fit` first.")
        ids = list(self.stats_)
        return {
            "method": self.method,
            "ids": [plain_value(sid) for sid in ids],
            "loc": [self.stats_[sid][0] for sid in ids],
            "scale": [self.stats_[sid][1] for sid in ids],
        }

    @classmethod
    def from_state(cls, state):
        scaler = cls(state["method"])
        if scaler.method == "none":
            scaler.stats_ = {}
            return scaler
        if not len(state["ids"]) == len(state["loc"]) == len(state["scale"]):
            raise ValueError("A PanelScaler state needs as many loc and scale values as ids.")
        scaler.stats_ = {
            sid: (float(m), float(s))
            for sid, m, s in zip(state["ids"], state["loc"], state["scale"], strict=True)
        }
        return scaler
