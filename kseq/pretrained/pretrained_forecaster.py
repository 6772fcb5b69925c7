"""A network pretrained on many series that forecasts series it never saw."""

from pathlib import Path

import numpy as np
import pandas as pd

from kseq._keras import keras
from kseq.errors import DataError
from kseq.pretrained.inputs import KINDS, make_contexts, read_kind
from kseq.saving import read_saved_folder, write_saved_folder

STATE_FILE = "pretrained.json"
KIND = "pretrained_forecaster"
# Which forecast a frequency kind returns, learned on the corpus (see docs/pretrained.md).
RULES = ("kseq", "ets", "kseq+ets")


_SCHEMA = {
    "lookback": lambda v: None if isinstance(v, int) and v > 0 else "a positive integer",
    "horizon": lambda v: None if isinstance(v, int) and v > 0 else "a positive integer",
    "quantiles": lambda v: (
        None
        if isinstance(v, list) and v and all(isinstance(q, float) and 0 < q < 1 for q in v)
        else "a list of levels in (0, 1)"
    ),
    "rule": lambda v: (
        None
        if isinstance(v, dict) and set(v) <= set(KINDS) and set(v.values()) <= set(RULES)
        else f"a mapping of frequency kinds {list(KINDS)} to one of {list(RULES)}"
    ),
    "trained_on": lambda v: None if isinstance(v, list) else "a list of corpora",
}


class PretrainedForecaster:
    """Forecasts any series from its last `lookback` points with a pretrained network.

    Args:
        model: the Keras network (see `kseq.pretrained.network.build_network`).
        quantiles: the network's quantile levels, increasing, the median among them.
        rule: ``{kind: "kseq" | "ets" | "kseq+ets"}``, what `kseq.pretrained` returns per
            frequency kind by default (learned on the corpus).
        trained_on: the corpora the network saw (their training parts), for the model card.
    """

    def __init__(self, model, *, quantiles, rule=None, trained_on=()):
        self.model = model
        self.quantiles = [float(q) for q in quantiles]
        if 0.5 not in self.quantiles:
            raise ValueError(f"`quantiles` must include 0.5. Received: {self.quantiles!r}")
        self.rule = dict(rule or {})
        self.trained_on = list(trained_on)
        steps_shape = model.inputs[0].shape
        self.lookback, self.horizon = int(steps_shape[1]), int(model.outputs[0].shape[1])

    def predict_quantiles(self, series, kind, horizon):
        """``(num_series, horizon, num_quantiles)`` forecasts in original units, quantiles
        increasing, for the arrays in `series` (all of frequency kind `kind`)."""
        horizon = int(horizon)
        if not 1 <= horizon <= self.horizon:
            raise DataError(
                f"The pretrained network forecasts 1 to {self.horizon} steps; horizon "
                f"{horizon} is outside that. Forecast at most {self.horizon} steps."
            )
        for i, values in enumerate(series):
            if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
                raise DataError(
                    f"Series number {i} has missing or infinite values; fill them first."
                )
        contexts = make_contexts(series, kind, self.lookback)
        outputs = self.model.predict([contexts.steps, contexts.kinds], batch_size=2048, verbose=0)
        # Separately learned levels can cross: sorting them gives monotone quantiles.
        outputs = np.sort(np.asarray(outputs)[:, :horizon], axis=-1)
        return contexts.to_original_units(outputs)

    def forecast(self, df, h, level=(80, 95), freq=None):
        """Forecasts `h` steps after each series' end: a long DataFrame with ``unique_id``,
        ``ds``, ``kseq`` (the median) and ``kseq-lo-L`` / ``kseq-hi-L`` for each level.

        Args:
            df: a long DataFrame (``unique_id``, ``ds``, ``y``), or a `kseq.data.Panel`.
            h: steps to forecast (1 to `horizon`).
            level: interval levels in percent, each one the network was trained for.
            freq: the pandas frequency (default: inferred from the dates).
        """
        from kseq.data.panel import Panel

        panel = df if isinstance(df, Panel) else _to_panel(df, freq)
        series = [panel.series(i) for i in range(len(panel))]
        quantiles = self.predict_quantiles(series, read_kind(panel.freq), h)
        offset = pd.tseries.frequencies.to_offset(panel.freq)
        ends = panel.end_dates()
        out = {
            "unique_id": np.repeat(panel.ids.astype(str), h),
            "ds": np.concatenate([pd.date_range(e + offset, periods=h, freq=offset) for e in ends]),
            "kseq": quantiles[..., self.quantiles.index(0.5)].reshape(-1),
        }
        for value in level:
            lo, hi = self.quantile_band(value)
            out[f"kseq-lo-{value:g}"] = quantiles[..., lo].reshape(-1)
            out[f"kseq-hi-{value:g}"] = quantiles[..., hi].reshape(-1)
        return pd.DataFrame(out)

    def quantile_band(self, level):
        """The indices of the quantiles bounding a central `level` % interval."""
        lo, hi = round(0.5 - level / 200, 6), round(0.5 + level / 200, 6)
        found = [i for q in (lo, hi) for i, v in enumerate(self.quantiles) if abs(v - q) < 1e-9]
        if len(found) != 2:
            raise ValueError(
                f"The pretrained network has the levels {self.quantiles}; a {level} % interval "
                f"needs {lo} and {hi}. Received: level={level!r}"
            )
        return found

    def save(self, directory):
        """Saves the network and its state to `directory` (hashed; see `kseq.saving`)."""
        state = {
            "lookback": self.lookback,
            "horizon": self.horizon,
            "quantiles": self.quantiles,
            "rule": self.rule,
            "trained_on": self.trained_on,
        }
        return write_saved_folder(
            directory,
            kind=KIND,
            state_file=STATE_FILE,
            state=state,
            write_files=lambda staging: self.model.save(staging / "model.keras"),
        )

    @classmethod
    def load(cls, directory):
        """Loads a saved pretrained forecaster; every file's sha256 is checked first."""
        state = read_saved_folder(directory, kind=KIND, state_file=STATE_FILE, schema=_SCHEMA)
        model = keras.saving.load_model(
            Path(directory) / "model.keras", compile=False, safe_mode=True
        )
        return cls(
            model, quantiles=state["quantiles"], rule=state["rule"], trained_on=state["trained_on"]
        )


def _to_panel(df, freq):
    from kseq.data.read_panel import read_panel

    return read_panel(df, freq=freq, name="the forecast input")
