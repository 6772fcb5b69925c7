"""`kseq.KSeq`: fit on a long DataFrame (or one series), predict a long DataFrame past the end."""

import numpy as np
import pandas as pd
import pytest

import kseq
from kseq.data import read_panel
from kseq.errors import ConfigError, DataError

# A small budget for a test; every other key is chosen from the data.
TINY = dict(
    model={"units": [8]},
    training={"epochs": 1, "steps_per_epoch": 2, "ensemble": 1},
    evaluation={"choice_origins": 1},
)


def make_panel(lengths=(40, 48, 56)):
    parts = []
    for i, n in enumerate(lengths):
        t = np.arange(n, dtype="float64")
        y = 50 + 5 * i + 0.5 * t + 4 * np.sin(2 * np.pi * t / 4)
        dates = pd.date_range("2000-01-01", periods=n, freq="QS")
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": y}))
    return pd.concat(parts, ignore_index=True)


def test_the_api_is_importable_from_kseq_without_importing_keras_first():
    assert kseq.KSeq.__name__ == "KSeq" and "KSeq" in kseq.__all__
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        kseq.nothing  # noqa: B018


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(h=0), "`h` must be a positive number"),
        (dict(h=4, data={"path": "x.csv"}), "Unknown recipe section 'data'"),
        (dict(h=4, level=[80, 120]), "percentages in \\(0, 100\\)"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kseq.KSeq(**kwargs)


def test_a_panel_is_fitted_and_forecast_past_each_series_end(tmp_path):
    pytest.importorskip("statsforecast")
    from kseq.pretrained.fine_tuning import fine_tune

    frame = make_panel()
    ks = kseq.KSeq(h=4, level=[80, 95], run_dir=tmp_path / "run", **TINY)
    with pytest.raises(ConfigError, match="not fitted"):
        ks.predict()
    assert ks.fit(frame) is ks
    # Held-out scores of the net, the classical models and the choice, in one table.
    assert {"kseq", "ets", "chosen"} <= set(ks.metrics)
    forecast = ks.predict()
    assert list(forecast.columns[:2]) == ["unique_id", "ds"]
    assert {"kseq", "chosen", "chosen-lo-80", "chosen-hi-80", "chosen-lo-95"} <= set(forecast)
    for sid, rows in forecast.groupby("unique_id"):
        last = frame.loc[frame.unique_id == sid, "ds"].max()
        assert list(rows["ds"]) == list(pd.date_range(last, periods=5, freq="QS")[1:])
    assert (forecast["chosen-lo-80"] <= forecast["chosen"]).all()
    assert (forecast["chosen-lo-95"] <= forecast["chosen-lo-80"]).all()
    if ks.chosen in forecast:
        np.testing.assert_allclose(forecast["chosen"], forecast[ks.chosen])
    # The shipped network, fine-tuned on each series before its held-out part, is a
    # candidate (alone and with ETS).
    assert {"pretrained", "pretrained+ets"} <= set(ks.metrics)
    assert any(note.startswith("pretrained network fine-tuned on") for note in ks.card.notes)
    held_out = pd.read_csv(tmp_path / "run" / "forecasts.csv", parse_dates=["ds"])
    before = read_panel(frame[frame.groupby("unique_id").cumcount(ascending=False) >= 4])
    network, _ = fine_tune(kseq.load_pretrained(), before, 4)
    expected = network.forecast(before, h=4, level=())
    merged = held_out.merge(expected, on=["unique_id", "ds"])
    assert len(merged) == 3 * 4
    np.testing.assert_allclose(merged["pretrained"], merged["kseq_y"], rtol=1e-3)
    np.testing.assert_allclose(
        merged["pretrained+ets"], (merged["pretrained"] + merged["ets"]) / 2, rtol=1e-6
    )
    # Fewer steps than fitted; more are refused.
    assert len(ks.predict(h=2)) == 3 * 2
    with pytest.raises(ValueError, match="from 1 to the fitted h \\(4\\)"):
        ks.predict(h=5)
    # The run's folder forecasts again, and is not written over by another fit.
    again = kseq.KSeq.load(tmp_path / "run")
    pd.testing.assert_frame_equal(again.predict(), forecast)
    with pytest.raises(ConfigError, match="already holds files"):
        kseq.KSeq(h=4, run_dir=tmp_path / "run").fit(frame)


def test_one_series_is_a_panel_of_one(tmp_path):
    pytest.importorskip("statsforecast")
    frame = make_panel((48,))
    series = pd.Series(frame["y"].to_numpy(), index=pd.DatetimeIndex(frame["ds"]))
    ks = kseq.KSeq(h=4, **TINY).fit(series)
    forecast = ks.predict()
    assert set(forecast["unique_id"]) == {"series"} and len(forecast) == 4
    assert forecast["ds"].iloc[0] == frame["ds"].iloc[-1] + pd.DateOffset(months=3)
    # Left out, the global net's budget is a panel of one's, as `kseq run` gives one series.
    recipe = kseq.KSeq(h=4).make_recipe(tmp_path / "data.csv", one_series=True)
    assert (recipe.training.ensemble, recipe.training.steps_per_epoch) == (1, 20)
    assert kseq.KSeq(h=4).make_recipe(tmp_path / "data.csv").training.ensemble == 3


def test_a_frame_without_the_long_columns_is_named():
    with pytest.raises(DataError, match="lacks \\['y'\\]"):
        kseq.KSeq(h=4).fit(pd.DataFrame({"ds": [1, 2], "value": [1, 2]}))
    with pytest.raises(DataError, match="needs dates as its index"):
        kseq.KSeq(h=4).fit(pd.Series([1.0, 2.0]))
