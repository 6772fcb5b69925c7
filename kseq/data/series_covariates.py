"""What a global model knows of each series besides its values: its index and static values."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SeriesCovariates:
    """Per-series model inputs of a panel, looked up per window by the window's series.

    Attributes:
        offsets: ``(num_series + 1,)`` the panel's offsets (a window's series is found from
            its start).
        codes: ``(num_series,)`` int, each series' row of the model's id embedding; `None`
            when the model has none.
        static: ``(num_series, num_static)`` float32 static values (standardised over the
            training series); `None` when there are none.
    """

    offsets: np.ndarray
    codes: np.ndarray | None = None
    static: np.ndarray | None = None

    @property
    def num_static(self):
        return 0 if self.static is None else self.static.shape[1]

    def make_inputs(self, x, starts):
        """The model inputs of windows `x` ``(batch, lookback, features)`` starting at
        `starts`: the static values appended to every step as features, and with an id
        embedding a ``{"history", "series"}`` dict."""
        series = np.searchsorted(self.offsets, starts, side="right") - 1
        if self.static is not None:
            static = self.static[series][:, None, :]
            x = np.concatenate(
                [x, np.broadcast_to(static, (len(x), x.shape[1], static.shape[-1]))], axis=-1
            ).astype("float32")
        if self.codes is None:
            return x
        return {"history": x, "series": self.codes[series][:, None].astype("int32")}
