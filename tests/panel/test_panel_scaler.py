"""Per-series scalers of a panel (`kseq.transforms.panel_scaler`), fitted on training parts."""

import json

import numpy as np
import pandas as pd
import pytest

from kseq.data import read_panel
from kseq.errors import DataError
from kseq.transforms.panel_scaler import PanelScaler


def make_ragged(seed=0):
    rng = np.random.default_rng(seed)
    lengths = np.array([30, 12, 21])
    values = np.concatenate([rng.normal(10 * (i + 1), i + 1, n) for i, n in enumerate(lengths)])
    return values, np.array(["a", "b", "c"]), lengths


def expected_stats(method, part):
    """Each scaler's (loc, scale) of one training part, written out with numpy."""
    if method == "standard":
        return part.mean(), part.std()
    if method == "robust":
        q1, median, q3 = np.percentile(part, [25, 50, 75])
        return median, q3 - q1
    if method == "mean_abs":
        return 0.0, np.abs(part).mean()
    return part.min(), part.max() - part.min()


@pytest.mark.parametrize("method", ["standard", "robust", "mean_abs", "minmax"])
def test_each_series_is_scaled_by_its_own_training_part(method):
    values, ids, lengths = make_ragged()
    validation = 5
    scaler = PanelScaler(method).fit(values, ids, lengths, lengths - validation)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    for sid, start, n in zip(ids, starts, lengths, strict=True):
        loc, scale = expected_stats(method, values[start : start + n - validation])
        np.testing.assert_allclose(scaler.stats_[sid], (loc, scale), rtol=1e-12)
    # The validation tails are never looked at.
    changed = values.copy()
    for start, n in zip(starts, lengths, strict=True):
        changed[start + n - validation : start + n] = 1e6
    again = PanelScaler(method).fit(changed, ids, lengths, lengths - validation)
    assert again.stats_ == scaler.stats_
    # Round trip through the scaled values and through JSON.
    scaled = scaler.transform(values, ids, lengths)
    per_series = np.split(scaled, starts[1:])
    restored = PanelScaler.from_state(json.loads(json.dumps(scaler.get_state())))
    for i, part in enumerate(per_series):
        np.testing.assert_allclose(
            restored.inverse_transform(part[None], ids[i : i + 1])[0],
            values[starts[i] : starts[i] + lengths[i]],
        )


def test_constant_series_are_shifted_only_and_unknown_ids_are_named():
    values = np.concatenate([np.full(8, 5.0), np.arange(8.0)])
    ids, lengths = np.array([1, 2]), np.array([8, 8])
    scaler = PanelScaler("standard").fit(values, ids, lengths, lengths)
    assert scaler.stats_[1] == (5.0, 1.0)
    with pytest.raises(DataError, match="Series 3 were not in the panel"):
        scaler.inverse_transform(np.zeros((1, 2)), [3])
    with pytest.raises(DataError, match="series 2 have no training values"):
        PanelScaler("robust").fit(values, ids, lengths, np.array([8, 0]))
    with pytest.raises(ValueError, match="standard, robust"):
        PanelScaler("zscore")


@pytest.mark.parametrize("method", ["robust", "standard"])
def test_global_forecaster_with_a_series_scaler_round_trips(tmp_path, method):
    import keras

    from kseq.global_forecaster import GlobalForecaster
    from kseq.models import build_forecaster
    from kseq.training_config import TrainingConfig

    rng = np.random.default_rng(1)
    frames = [
        pd.DataFrame(
            {
                "unique_id": sid,
                "ds": pd.date_range("2000-01-01", periods=n, freq="MS"),
                "y": level + rng.normal(0, abs(level) / 20, n),
            }
        )
        for sid, n, level in (("up", 40, 100.0), ("neg", 36, -50.0), ("big", 30, 1e5))
    ]
    panel = read_panel(pd.concat(frames, ignore_index=True))
    model = build_forecaster(6, 3, horizon=4, units=[4], seed=0)
    forecaster = GlobalForecaster(model, lookback=6, season_length=12, scaler=method)
    forecaster.fit(panel, validation=4, training=TrainingConfig(epochs=2, batch_size=8, verbose=0))
    assert forecaster.log_ids_ == {"up", "big"}
    # The negative series is scaled on its raw values, the others on their logs.
    neg = panel.series(list(panel.ids).index("neg"))[:-4].astype("float64")
    np.testing.assert_allclose(forecaster.scaler.stats_["neg"], expected_stats(method, neg))
    big = np.log(panel.series(list(panel.ids).index("big"))[:-4].astype("float64"))
    # The forecaster takes logs in float32, like the panel's values (memory): float32 precision.
    np.testing.assert_allclose(
        forecaster.scaler.stats_["big"], expected_stats(method, big), rtol=1e-5
    )
    frame = forecaster.predict(panel)
    # Each series' forecasts come back in its own units (levels from -50 to 100,000).
    level = {sid: panel.series(i)[-8:].mean() for i, sid in enumerate(panel.ids)}
    ratio = frame["kseq"] / frame["unique_id"].map(level)
    assert ratio.between(0.2, 5.0).all(), frame
    forecaster.save(tmp_path / "global")
    loaded = GlobalForecaster.load(tmp_path / "global")
    assert loaded.scaler.stats_ == forecaster.scaler.stats_
    np.testing.assert_allclose(loaded.predict(panel)["kseq"], frame["kseq"], rtol=1e-6)
    keras.backend.clear_session()


@pytest.mark.parametrize("method", ["none", "standard", "robust", "minmax", "mean_abs"])
def test_prepared_values_are_the_transformed_panel_value_by_value(method):
    # What the forecaster's windows read (computed per batch) equals the transformed copy of
    # the whole panel: float32 logs of the positive series, then the series' scaler.
    from kseq.global_forecaster import GlobalForecaster
    from kseq.models import build_forecaster

    rng = np.random.default_rng(3)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": pd.date_range("2000-01-01", periods=n, freq="MS") + pd.DateOffset(months=i),
                "y": level + rng.normal(0, abs(level) / 10 + 1, n),
            }
        )
        for i, (n, level) in enumerate([(40, 100.0), (36, -50.0), (50, 1e5), (30, 3.0)])
    ]
    panel = read_panel(pd.concat(frames, ignore_index=True))
    model = build_forecaster(6, 3, horizon=4, units=[4], seed=0)
    forecaster = GlobalForecaster(model, lookback=6, season_length=12, scaler=method)
    forecaster.fit_transforms(panel, validation=4)
    values, scaled, phases = forecaster._prepare(panel)
    on_log = np.repeat([sid in forecaster.log_ids_ for sid in panel.ids], panel.lengths)
    expected = panel.values.copy()
    expected[on_log] = np.log(expected[on_log])
    if method != "none":
        stats = np.array([forecaster.scaler.stats_[sid] for sid in panel.ids], "float32")
        expected = (expected - np.repeat(stats[:, 0], panel.lengths)) / np.repeat(
            stats[:, 1], panel.lengths
        )
    positions = np.arange(len(panel.values))
    np.testing.assert_allclose(values[positions], expected, rtol=1e-6)
    np.testing.assert_array_equal(scaled[positions], ~on_log if method == "none" else False)
    np.testing.assert_array_equal(phases[positions], panel.phases(12))
    # Any shape of positions, as a batch of windows reads them.
    rows = positions[:30].reshape(5, 6)
    np.testing.assert_array_equal(values[rows], values[positions][rows])
