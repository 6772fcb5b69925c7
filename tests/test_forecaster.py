import json
import warnings

import keras
import numpy as np
import pytest

from kseq.data import load_airpassengers
from kseq.errors import DataError, NotFittedError, SavedStateError
from kseq.forecaster import Forecaster
from kseq.models import build_forecaster
from kseq.training_config import TrainingConfig
from kseq.transforms import (
    Difference,
    LogTransform,
    MinMaxScale,
    SeasonalAdjust,
    TransformPipeline,
)


@pytest.fixture
def series():
    return load_airpassengers().to_numpy()


def make(horizon=1, head="point"):
    transforms = TransformPipeline([LogTransform(), Difference(12), MinMaxScale((-1, 1))])
    model = build_forecaster(12, horizon=horizon, units=[8], head=head)
    return Forecaster(model, lookback=12, transforms=transforms)


def test_fit_uses_only_training_values_and_one_step_matches_predict(series):
    forecaster = make()
    forecaster.fit(
        series[:108],
        series[108:120],
        training=TrainingConfig(epochs=2, batch_size=16, seed=0, verbose=0),
    )
    scaler = forecaster.transforms.steps[-1].scaler_
    log_growth = np.log(series[12:108]) - np.log(series[:96])
    assert scaler.data_max_[0] == pytest.approx(log_growth.max())
    one_step = forecaster.predict_one_step(series, 120)
    assert one_step.shape == (24, 1)
    # Each one-step forecast equals a 1-step forecast from the true history before it.
    for t in (120, 131, 143):
        np.testing.assert_allclose(
            one_step[t - 120], forecaster.predict(series[:t], 1)[0], rtol=1e-6
        )
    assert "val_loss" in forecaster.history_.history


def test_recursive_forecast_feeds_predictions_back(series):
    forecaster = make()
    forecaster.fit(series[:120], training=TrainingConfig(epochs=1, verbose=0))
    multi = forecaster.predict(series[:120], 3)
    first = forecaster.predict(series[:120], 1)
    extended = np.concatenate([series[:120], first[:, 0]])
    second = forecaster.predict(extended, 1)
    np.testing.assert_allclose(multi[:2, 0], [first[0, 0], second[0, 0]], rtol=1e-5)


def test_forecasts_from_many_origins_match_one_at_a_time(series):
    forecaster = make(horizon=3)
    forecaster.fit(series[:120], training=TrainingConfig(epochs=1, verbose=0))
    origins = [24, 77, 120, 144]
    paths = forecaster.predict_origins(series, origins, 8)  # past the horizon: fed back
    assert paths.shape == (4, 8, 1)
    for path, origin in zip(paths, origins, strict=True):
        np.testing.assert_allclose(path, forecaster.predict(series[:origin], 8), rtol=1e-5)
    # A forecast from an origin sees nothing after it.
    changed = series.copy()
    changed[77:] *= 2
    np.testing.assert_allclose(forecaster.predict_origins(changed, [77], 8)[0], paths[1])
    with pytest.raises(DataError, match=r"Origins must lie in \[24, 144\]"):
        forecaster.predict_origins(series, [23], 2)


def test_a_seasonal_adjustment_reads_each_forecasts_position(series):
    transforms = TransformPipeline(
        [LogTransform(), SeasonalAdjust(12), Difference(1), MinMaxScale((-1, 1))]
    )
    model = build_forecaster(12, horizon=3, units=[8])
    forecaster = Forecaster(model, lookback=12, transforms=transforms)
    forecaster.fit(
        series[:108], series[108:120], training=TrainingConfig(epochs=1, seed=0, verbose=0)
    )
    # A history that starts later in the series, with its position, forecasts the same.
    whole = forecaster.predict(series[:120], 5)
    np.testing.assert_allclose(forecaster.predict(series[31:120], 5, position=31), whole)
    paths = forecaster.predict_origins(series[7:], [50, 113], 5, position=7)
    for path, origin in zip(paths, [57, 120], strict=True):
        np.testing.assert_allclose(path, forecaster.predict(series[:origin], 5), rtol=1e-6)
    one_step = forecaster.predict_one_step(series[20:], 100, position=20)
    for t in (120, 131, 143):
        np.testing.assert_allclose(
            one_step[t - 120], forecaster.predict(series[:t], 1)[0], rtol=1e-6
        )
    # Read at the wrong phase, the forecast lands in another month's season.
    shifted = forecaster.predict(series[31:120], 5, position=32)
    assert np.abs(shifted - whole).max() > 5


def test_direct_head_forecasts_its_horizon_in_one_call(series):
    forecaster = make(horizon=6)
    forecaster.fit(series[:120], training=TrainingConfig(epochs=1, verbose=0))
    assert forecaster.predict(series[:120]).shape == (6, 1)
    assert forecaster.predict(series[:120], 14).shape == (14, 1)  # hybrid: chunks of 6


def test_a_feature_column_is_read_and_only_the_target_forecast(series):
    # Column 0 the target, column 1 a feature (a positive trend): forecasts in passengers.
    series = np.ravel(series)
    both = np.stack([series, np.arange(1.0, len(series) + 1)], axis=1)
    transforms = TransformPipeline([LogTransform(), Difference(12), MinMaxScale((-1, 1))])
    model = build_forecaster(12, horizon=3, units=[8], num_features=2)
    forecaster = Forecaster(model, lookback=12, transforms=transforms, num_targets=1)
    forecaster.fit(both[:120], training=TrainingConfig(epochs=1, verbose=0))
    assert forecaster.predict(both[:120]).shape == (3, 1)
    one_step = forecaster.predict_one_step(both, 120)
    assert one_step.shape == (24, 1)
    # Each one-step forecast is the first step of the direct forecast from the history before.
    for t in (120, 143):
        np.testing.assert_allclose(one_step[t - 120], forecaster.predict(both[:t], 1)[0], rtol=1e-6)
    # Within 40 % of the truth: passengers, not scaled units or the feature's scale.
    assert np.all(np.abs(one_step[:, 0] / series[120:] - 1) < 0.4)
    with pytest.raises(ValueError, match="needs every input column to be a target"):
        forecaster.predict(both[:120], 4)


def test_quantile_one_step_levels_in_original_units(series):
    forecaster = make(head="quantile")
    forecaster.fit(series[:120], training=TrainingConfig(epochs=1, verbose=0))
    point, levels = forecaster.predict_one_step(series, 132, levels=(0.1, 0.5, 0.9))
    assert levels.shape == (12, 1, 3)
    np.testing.assert_allclose(point[:, 0], levels[:, 0, 1])
    with pytest.raises(ValueError, match="0.25 is not one of them"):
        forecaster.predict_one_step(series, 132, levels=(0.25,))


def test_many_windows_are_forecast_in_chunks_of_the_same_values(series, monkeypatch):
    # Forecasts call the model in chunks of PREDICT_BATCH windows; the chunks' outputs,
    # joined, are the one call's (a point and a quantile head).
    import kseq.forecaster

    for head, levels in (("point", None), ("quantile", (0.1, 0.9))):
        forecaster = make(head=head)
        forecaster.fit(series[:120], training=TrainingConfig(epochs=1, verbose=0))
        whole = forecaster.predict_one_step(series, 110, levels=levels)
        monkeypatch.setattr(kseq.forecaster, "PREDICT_BATCH", 7)  # 34 windows: 5 chunks
        chunked = forecaster.predict_one_step(series, 110, levels=levels)
        monkeypatch.undo()
        if levels is None:
            whole, chunked = (whole,), (chunked,)
        assert whole[0].shape == (34, 1)
        for got, want in zip(chunked, whole, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_save_load_round_trip_and_tamper_check(series, tmp_path):
    forecaster = make()
    forecaster.fit(series[:120], training=TrainingConfig(epochs=1, verbose=0))
    forecaster.save(tmp_path / "run")
    forecaster.save(tmp_path / "run")  # replacing an existing save
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    loaded = Forecaster.load(tmp_path / "run")
    np.testing.assert_allclose(
        loaded.predict(series[:120], 12), forecaster.predict(series[:120], 12)
    )
    state = json.loads((tmp_path / "run" / "forecaster.json").read_text())
    assert state["state"]["backend"] == keras.backend.backend()
    assert len(state["files"]["model.keras"]) == len(state["sha256"]) == 64
    with open(tmp_path / "run" / "model.keras", "ab") as f:
        f.write(b"x")
    with pytest.raises(DataError, match="does not match the sha256"):
        Forecaster.load(tmp_path / "run")


def test_errors(series):
    forecaster = make()
    with pytest.raises(NotFittedError):
        forecaster.predict(series)
    forecaster.fit(series[:60], training=TrainingConfig(epochs=1, verbose=0))
    with pytest.raises(DataError, match="needs 24 \\(lookback 12 \\+ transform lags 12\\)"):
        forecaster.predict(series[:20])


def test_fit_keeps_the_window_order_it_was_asked_for(series, monkeypatch):
    # Keras's `fit(shuffle=True)` default would reorder a PyDataset's batches on top of (or
    # against) the WindowDataset's own order; on TF it warns that it ignores it.
    from kseq.data import WindowDataset

    visited = []
    getitem = WindowDataset.__getitem__

    def recording(self, index):
        visited.append(index)
        return getitem(self, index)

    monkeypatch.setattr(WindowDataset, "__getitem__", recording)
    forecaster = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        forecaster.fit(
            series[:120], training=TrainingConfig(epochs=2, batch_size=16, shuffle=False, verbose=0)
        )
    if keras.backend.backend() != "tensorflow":  # TF reads the windows through tf.data
        # 120 - 12 - 12 (difference) = 96 windows -> 6 batches, in order, both epochs (Keras
        # may read batch 0 once more beforehand, to build the model).
        assert visited[-12:] == list(range(6)) * 2


@pytest.fixture
def saved(series, tmp_path):
    forecaster = make()
    forecaster.fit(series[:120], training=TrainingConfig(epochs=1, verbose=0))
    return forecaster.save(tmp_path / "run")


def _edit_state(folder, edit):
    path = folder / "forecaster.json"
    body = json.loads(path.read_text())
    edit(body)
    path.write_text(json.dumps(body, indent=2))


@pytest.mark.parametrize(
    "edit",
    [
        lambda body: body["state"].update(lookback=body["state"]["lookback"] + 1),
        # A scaler statistic deep inside the transforms' state.
        lambda body: body["state"].update(
            transforms=_bump_first_number(body["state"]["transforms"])
        ),
        lambda body: body["files"].update({"model.keras": "0" * 64}),
    ],
    ids=["lookback", "scaler", "file digest"],
)
def test_an_edited_state_is_refused(saved, edit):
    _edit_state(saved, edit)
    with pytest.raises(SavedStateError, match="was changed after it was saved"):
        Forecaster.load(saved)


def _bump_first_number(value):
    # Changes the first float found (depth first) by 1 %: a "small" hand edit.
    text = json.dumps(value)
    parsed = json.loads(text)
    stack = [parsed]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in items:
            if isinstance(item, float):
                node[key] = item * 1.01 + 1e-3
                assert parsed != json.loads(text)
                return parsed
            if isinstance(item, dict | list):
                stack.append(item)
    raise AssertionError("no float in the transforms' state")


def test_an_old_format_and_a_schema_error_are_refused(saved, tmp_path):
    from kseq.saving import write_saved_folder

    _edit_state(saved, lambda body: body.update(format_version=1))
    with pytest.raises(SavedStateError, match="format version 1; this kseq reads version 2"):
        Forecaster.load(saved)
    # Correctly signed, but a state this kseq cannot use.
    model_bytes = (saved / "model.keras").read_bytes()
    state = json.loads((saved / "forecaster.json").read_text())["state"]
    write_saved_folder(
        tmp_path / "bad",
        kind="forecaster",
        state_file="forecaster.json",
        state={**state, "lookback": 0},
        write_files=lambda staging: (staging / "model.keras").write_bytes(model_bytes),
    )
    with pytest.raises(
        SavedStateError,
        match="does not match its schema: lookback: expected a positive integer, found 0.$",
    ):
        Forecaster.load(tmp_path / "bad")
    (tmp_path / "bad" / "forecaster.json").write_text("{not json")
    with pytest.raises(SavedStateError, match="is not valid JSON"):
        Forecaster.load(tmp_path / "bad")


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_files_respect_the_umask(series, tmp_path, umask):
    import os
    import stat

    forecaster = make()
    forecaster.fit(series[:120], training=TrainingConfig(epochs=1, verbose=0))
    old = os.umask(umask)
    try:
        folder = forecaster.save(tmp_path / "run")
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask
    for name in ("model.keras", "forecaster.json"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o666 & ~umask, name
