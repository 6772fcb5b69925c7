"""Related series ([data] related): windows of other series scaled by their own statistics,
cut where the training part ends, reported in the run card."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from kseq.config import load_recipe, recipe_path
from kseq.data import load_airpassengers, read_panel
from kseq.errors import ConfigError, DataError
from kseq.forecaster import Forecaster
from kseq.models import build_forecaster
from kseq.pipeline.related import cut_related
from kseq.pipeline.run import run_recipe
from kseq.training_config import TrainingConfig
from kseq.transforms import Difference, LogTransform, MinMaxScale, TransformPipeline


@pytest.fixture
def series():
    return load_airpassengers().to_numpy()


def fit_weights(train, related=()):
    keras.utils.set_random_seed(0)
    transforms = TransformPipeline([LogTransform(), Difference(12), MinMaxScale((-1, 1))])
    model = build_forecaster(12, units=[4], dropout=0.0)
    forecaster = Forecaster(model, lookback=12, transforms=transforms)
    # One batch an epoch holding every window: the gradient is the mean over all of them.
    forecaster.fit(
        train, related=related, training=TrainingConfig(epochs=3, batch_size=1000, verbose=0)
    )
    return [w.copy() for w in model.get_weights()], forecaster


def test_related_windows_are_scaled_by_their_own_series(series):
    train = series[:108]
    alone, forecaster = fit_weights(train)
    # The target squared has twice its log growth, so after its own log, differencing and
    # MinMax exactly the target's windows: the mean loss over both copies is the target's,
    # and training ends at the same weights. Scaled with the target's statistics instead, its
    # windows would span twice the range and pull the weights away. (A multiple of the target
    # would not tell: the log difference removes the factor.)
    twin, joined = fit_weights(train, related=[train**2])
    for a, b in zip(alone, twin, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)
    # The target's own transforms stay fitted on the target.
    np.testing.assert_allclose(
        joined.transforms.steps[-1].scaler_.data_max_,
        forecaster.transforms.steps[-1].scaler_.data_max_,
    )
    # A related series of another shape does change the weights: its windows are used.
    other, _ = fit_weights(train, related=[train[::-1].copy()])
    assert max(np.abs(a - b).max() for a, b in zip(alone, other, strict=True)) > 1e-4


def test_related_series_that_cannot_give_a_window_are_errors(series):
    with pytest.raises(ValueError, match=r"`related\[0\]` has 20 points; a window needs 25"):
        fit_weights(series[:108], related=[series[:20]])
    with pytest.raises(ValueError, match=r"`related\[1\]` has 2 columns"):
        fit_weights(series[:108], related=[series[:50], np.ones((50, 2))])


def make_panel(frame):
    return read_panel(frame)


def long_frame(ids_and_values, start="1949-01-01"):
    rows = []
    for name, values in ids_and_values.items():
        dates = pd.date_range(start, periods=len(values), freq="MS")
        rows.append(pd.DataFrame({"unique_id": name, "ds": dates, "y": values}))
    return pd.concat(rows, ignore_index=True)


def test_cut_related_keeps_only_points_up_to_the_end_and_reports_short_series():
    frame = long_frame(
        {
            "long": np.arange(1.0, 121.0),
            # Starts in 1956: 24 points up to 1957-12, too few for a window of 37.
            "late": np.arange(1.0, 49.0),
        }
    )
    frame.loc[frame.unique_id == "late", "ds"] = pd.date_range("1956-01-01", periods=48, freq="MS")
    cut = cut_related(make_panel(frame), "1957-12-01", 37)
    assert cut.ids == ["long"] and cut.end == "1957-12-01"
    # 1949-01 ... 1957-12: 108 points, the values 1 ... 108.
    np.testing.assert_array_equal(cut.values[0][:, 0], np.arange(1.0, 109.0))
    assert cut.left_out == {"late": "24 points up to 1957-12-01; a window needs 37"}
    assert cut.describe("file.csv") == {
        "source": "file.csv",
        "until": "1957-12-01",
        "series_used": 1,
        "points": 108,
        "left_out": {"late": "24 points up to 1957-12-01; a window needs 37"},
    }
    # A value <= 0 before the end, where logs are taken, names the series and the date.
    frame.loc[(frame.unique_id == "long") & (frame.ds == "1950-03-01"), "y"] = 0.0
    with pytest.raises(DataError, match=r"related series 'long' has a value <= 0 on 1950-03-01"):
        cut_related(make_panel(frame), "1957-12-01", 37, positive=True)
    # ... but not after it: those points are never read.
    frame.loc[frame.unique_id == "long", "y"] = np.r_[np.arange(1.0, 109.0), np.zeros(12)]
    assert cut_related(make_panel(frame), "1957-12-01", 37, positive=True).ids == ["long"]


def run_with_related(path, frame, run_dir):
    frame.to_csv(path, index=False)
    recipe = load_recipe(
        recipe_path("airpassengers"),
        [
            ("data", "related", str(path)),
            ("model", "units", [4]),
            ("training", "ensemble", 1),
            ("training", "epochs", 2),
            ("training", "batch_size", 64),
            ("evaluation", "baselines", ["naive"]),
            ("evaluation", "intervals", []),
        ],
    )
    return run_recipe(recipe, run_dir=run_dir, verbose=0)


def test_a_run_trains_on_related_series_up_to_its_training_part_only(tmp_path):
    passengers = load_airpassengers().to_numpy()
    rng = np.random.default_rng(0)
    related = {
        "twice": 2 * passengers,
        "noisy": passengers * np.exp(rng.normal(0, 0.05, len(passengers))),
    }
    card = run_with_related(tmp_path / "related.csv", long_frame(related), tmp_path / "clean")
    assert card.related == {
        "source": str(tmp_path / "related.csv"),
        "until": "1957-12-01",
        "series_used": 2,
        "points": 2 * 108,
        "left_out": {},
    }
    # Every value after the training part (1958-1960: validation and test dates) poisoned: the
    # run's scores do not move, so nothing later than the training part reached the weights.
    poisoned = long_frame({name: np.r_[v[:108], v[108:] * 50] for name, v in related.items()})
    again = run_with_related(tmp_path / "poisoned.csv", poisoned, tmp_path / "poisoned")
    for row in ("kseq (recursive, 24-step)", "kseq (one-step)"):
        assert again.metrics[row]["mape"] == pytest.approx(card.metrics[row]["mape"], rel=1e-5)
    saved = json.loads((tmp_path / "clean" / "run_card.json").read_text())
    assert saved["related"]["series_used"] == 2
    assert "also trained on: 2 related series" in (tmp_path / "clean" / "run_card.md").read_text()


def test_related_series_on_another_frequency_or_without_dates_are_refused(tmp_path):
    quarterly = pd.DataFrame(
        {"unique_id": "q", "ds": pd.date_range("1949-01-01", periods=60, freq="QS"), "y": 1.0}
    )
    with pytest.raises(DataError, match=r"is on frequency 'QS-[A-Z]+'; the series is on 'MS'"):
        run_with_related(tmp_path / "q.csv", quarterly, tmp_path / "q")
    with pytest.raises(ConfigError, match=r"\[data\] related needs dated series"):
        load_recipe(recipe_path("sines"), [("data", "related", "us_employment")])
    with pytest.raises(ConfigError, match=r"a panel recipe trains one global model"):
        load_recipe(recipe_path("us_employment"), [("data", "related", "us_employment")])
