import keras
import numpy as np
import pytest

from kseq.models import (
    build_airpassengers_tutorial,
    build_ar1_model,
    build_ensemble,
    build_forecaster,
    build_seq2seq,
    build_sine_study_model,
    head_of,
)


def test_tutorial_preset_is_the_tutorial_architecture():
    model = build_airpassengers_tutorial()
    body = model.get_layer("body")
    assert [r.units for r in body.rnn_layers] == [50, 50, 50, 50]
    assert body.dropout == 0.2 and model.input_shape == (None, 60, 1)
    # 4*(50*(1+50)+50) + 3*4*(50*100+50) + 51: the tutorial's Keras summary total.
    assert model.count_params() == 71051
    assert model.output_shape == (None, 1, 1)
    assert not model.compiled


def test_sine_study_preset():
    model = build_sine_study_model()
    body = model.get_layer("body")
    assert [r.units for r in body.rnn_layers] == [128, 128] and body.dropout == pytest.approx(0.2)
    assert body.forget_bias == 1.0 and model.count_params() == 198273
    deep = build_sine_study_model(num_layers=5, forget_bias=0.1)
    assert len(deep.get_layer("body").rnn_layers) == 5


def test_ar1_preset_is_per_step():
    model = build_ar1_model()
    assert model.output_shape == (None, None, 1)
    body, head = model.get_layer("body"), model.get_layer("head")
    assert body.cell == "simple_rnn" and body.units == [10] and head.dense_units == [20]
    assert model.count_params() == (10 * 11 + 10) + (10 * 20 + 20) + 21
    out = model(np.zeros((2, 13, 1), "float32"))
    assert tuple(out.shape) == (2, 13, 1)


@pytest.mark.parametrize("head, tail", [("point", ()), ("quantile", (3,)), ("mixture", (6,))])
def test_forecaster_heads_train_save_and_load(head, tail, tmp_path):
    model = build_forecaster(8, 2, horizon=3, num_targets=2, units=[6], head=head, num_components=2)
    assert model.output_shape == (None, 3, 2) + tail
    model.compile(keras.optimizers.Adam(0.01), head_of(model).default_loss())
    x = np.random.default_rng(0).normal(size=(32, 8, 2)).astype("float32")
    y = x[:, -3:, :] * 0.5
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert head_of(model).point_forecast(model.predict(x, verbose=0)).shape == (32, 3, 2)


def test_seq2seq_builder_and_bad_head():
    model = build_seq2seq(3, 2, lookback=5, cell="gru", units=[4, 4], dense_units=[])
    assert model.output_shape == (None, 5, 2)
    with pytest.raises(ValueError, match="Received: head='gaussian'"):
        build_forecaster(8, head="gaussian")


def test_ensemble_averages_members_and_round_trips(tmp_path):
    members = [build_forecaster(6, units=[4], head="quantile", name=f"m{i}") for i in range(3)]
    ensemble = build_ensemble(members)
    x = np.random.default_rng(0).normal(size=(5, 6, 1)).astype("float32")
    expected = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict(x, verbose=0), expected, atol=1e-6)
    assert head_of(ensemble).default_loss().quantiles == [0.1, 0.5, 0.9]
    ensemble.save(tmp_path / "e.keras")
    loaded = keras.saving.load_model(tmp_path / "e.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
    with pytest.raises(ValueError, match="distinct names"):
        build_ensemble([build_forecaster(6, units=[2]), build_forecaster(6, units=[2])])
