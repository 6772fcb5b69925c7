"""Static values and a learned series embedding as inputs of the global model."""

import numpy as np
import pandas as pd
import pytest

from kseq.data import read_panel
from kseq.data.series_covariates import SeriesCovariates
from kseq.errors import DataError


def make_frame(with_static=True):
    rng = np.random.default_rng(0)
    parts = []
    for i, (n, size) in enumerate(((40, 2.0), (36, -1.0), (44, 5.0))):
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2001-01-01", periods=n, freq="MS"),
                    "y": 100.0 * (i + 1) + rng.normal(0, 3, n),
                    "size": size,
                    "kind": "abc"[i],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    return frame if with_static else frame.drop(columns=["size", "kind"])


def test_each_window_gets_its_series_static_values_and_code():
    offsets = np.array([0, 5, 8, 12])
    covariates = SeriesCovariates(
        offsets, codes=np.array([2, 0, 1]), static=np.array([[1.0], [2.0], [3.0]])
    )
    x = np.zeros((3, 4, 1), dtype="float32")
    inputs = covariates.make_inputs(x, np.array([0, 5, 8]))  # one window in each series
    assert inputs["history"].shape == (3, 4, 2)
    np.testing.assert_array_equal(inputs["history"][:, :, 1], [[1] * 4, [2] * 4, [3] * 4])
    np.testing.assert_array_equal(inputs["series"][:, 0], [2, 0, 1])
    only_static = SeriesCovariates(offsets, static=np.array([[1.0], [2.0], [3.0]]))
    assert only_static.make_inputs(x, np.array([1, 6, 11])).shape == (3, 4, 2)


def test_a_global_model_with_static_values_and_an_id_embedding_round_trips(tmp_path):
    import keras

    from kseq.global_forecaster import GlobalForecaster
    from kseq.models import build_forecaster
    from kseq.training_config import TrainingConfig

    panel = read_panel(make_frame(), static_columns=["size", "kind"])
    # 3 features: the value and the season's sine and cosine; 1 static column.
    model = build_forecaster(
        6, 3 + 1, horizon=4, units=[4], num_series=len(panel), series_embedding=2, seed=0
    )
    forecaster = GlobalForecaster(model, lookback=6, season_length=12, static_columns=["size"])
    assert forecaster.has_series_embedding
    forecaster.fit(panel, validation=4, training=TrainingConfig(epochs=2, batch_size=8, verbose=0))
    # Standardised over the training series.
    sizes = np.array([2.0, -1.0, 5.0])
    assert forecaster.static_stats_["size"] == pytest.approx((sizes.mean(), sizes.std()))
    frame = forecaster.predict(panel)
    assert len(frame) == 3 * 4 and np.isfinite(frame["kseq"]).all()
    forecaster.save(tmp_path / "global")
    loaded = GlobalForecaster.load(tmp_path / "global")
    assert loaded.series_ids_ == ["s0", "s1", "s2"] and loaded.static_columns == ["size"]
    np.testing.assert_allclose(loaded.predict(panel)["kseq"], frame["kseq"], rtol=1e-6)
    # The embedding knows the training series only; a static value must be numeric.
    stranger = read_panel(
        make_frame().assign(unique_id=lambda f: f["unique_id"].str.replace("s0", "new")),
        static_columns=["size"],
    )
    with pytest.raises(DataError, match="Series new were not among the series"):
        forecaster.predict(stranger)
    words = GlobalForecaster(model, lookback=6, season_length=12, static_columns=["kind"])
    with pytest.raises(DataError, match="Static column 'kind' is not numeric"):
        words.fit(panel, validation=4, training=TrainingConfig(epochs=1, verbose=0))
    keras.backend.clear_session()


@pytest.mark.slow
def test_a_panel_recipe_feeds_static_columns_and_the_id_embedding(tmp_path):
    pytest.importorskip("statsforecast")
    from kseq.config import load_recipe
    from kseq.pipeline.run import run_recipe

    make_frame().to_csv(tmp_path / "shops.csv", index=False)
    path = tmp_path / "shops.toml"
    path.write_text(
        f"[recipe]\nname = 'shops'\n[data]\nsource = 'panel'\npath = '{tmp_path / 'shops.csv'}'\n"
        "static_columns = ['size']\n[split]\ntest = 4\nvalidation = 4\n"
        "[windows]\nlookback = 12\nhorizon = 4\n[model]\nunits = [4]\nseries_embedding = 2\n"
        "[training]\nepochs = 2\nbatch_size = 16\n"
        "[evaluation]\nseason_length = 12\nbaselines = ['seasonal_naive', 'ets']\n"
    )
    card = run_recipe(load_recipe(path), run_dir=tmp_path / "run", verbose=0)
    assert card.metrics["kseq"]["mase"] > 0
    assert card.config["model"]["series_embedding"] == 2
    assert card.config["data"]["static_columns"] == ["size"]
    forecasts = pd.read_csv(tmp_path / "run" / "forecasts.csv")
    assert len(forecasts) == 3 * 4 and np.isfinite(forecasts["kseq"]).all()
