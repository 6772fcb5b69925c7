"""Classical panel baselines from statsforecast: forecasts from many origins, and the cache."""

import numpy as np
import pandas as pd
import pytest

from kseq.data import read_panel
from kseq.evaluation.panel_baselines import forecast_baselines_rolling

pytest.importorskip("statsforecast")

SEASON, STEPS, ORIGINS = 4, 3, 5


def make_panel():
    rng = np.random.default_rng(3)
    frames = []
    for sid, length in (("a", 40), ("b", 33)):
        t = np.arange(length)
        y = 20 + 0.3 * t + 3 * np.sin(2 * np.pi * t / SEASON) + rng.normal(size=length)
        ds = pd.date_range("2001-01-01", periods=length, freq="QS")
        frames.append(pd.DataFrame({"unique_id": sid, "ds": ds, "y": y}))
    return read_panel(pd.concat(frames, ignore_index=True))


def test_rolling_forecasts_are_one_fit_forwarded_from_each_origin(tmp_path):
    from statsforecast.models import AutoETS

    panel = make_panel()
    rolling = forecast_baselines_rolling(
        panel, STEPS, ORIGINS, SEASON, ["ets"], cache_dir=tmp_path, n_jobs=1
    )
    for i, sid in enumerate(panel.ids):
        y = panel.series(i).astype("float64")
        n = len(y)
        # The model is fitted once, on the series up to the first origin, and applied
        # unchanged from each origin: the last ORIGINS points before the end, the last one the
        # point before the end; only forecasts of points the series has are kept.
        first = n - ORIGINS
        model = AutoETS(season_length=SEASON).fit(y[:first])
        rows = rolling[rolling["unique_id"] == sid]
        expected_rows = 0
        for origin in range(first, n):
            forecast = model.forward(y=y[:origin], h=STEPS)["mean"]
            steps = min(STEPS, n - origin)
            expected_rows += steps
            cutoff = panel.dates(i)[origin - 1]
            got = rows[rows["cutoff"] == cutoff].sort_values("step")
            assert list(got["step"]) == list(range(1, steps + 1))
            assert list(got["ds"]) == list(panel.dates(i)[origin : origin + steps])
            np.testing.assert_allclose(got["ets"], forecast[:steps], rtol=1e-4)
        assert len(rows) == expected_rows
    # A second call at the same cutoff reads the cache: the same frame.
    assert list(tmp_path.iterdir())
    again = forecast_baselines_rolling(
        panel, STEPS, ORIGINS, SEASON, ["ets"], cache_dir=tmp_path, n_jobs=1
    )
    pd.testing.assert_frame_equal(again, rolling, check_dtype=False)
