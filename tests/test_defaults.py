"""Defaults chosen from the data for a CSV recipe that leaves keys out (kseq.pipeline.defaults)."""

import numpy as np
import pandas as pd
import pytest

from kseq.config import AUTO_KEYS, load_recipe
from kseq.pipeline.defaults import describe_frequency, infer_defaults, measure_seasonal_strength
from kseq.pipeline.load import load_series
from kseq.pipeline.preflight import check_inputs


@pytest.mark.parametrize(
    ("freq", "season", "horizon"),
    [
        ("MS", 12, 18),
        ("ME", 12, 18),
        ("QS", 4, 8),
        ("QE-DEC", 4, 8),
        ("W-SUN", 52, 13),
        ("D", 7, 14),
        ("B", 5, 14),
        ("h", 24, 48),
        ("YS", 1, 6),
        ("2MS", 1, 18),  # every two months: no calendar season of whole steps
        ("15min", 1, 8),
    ],
)
def test_season_and_horizon_follow_the_frequency(freq, season, horizon):
    index = pd.date_range("2020-01-01", periods=40, freq=freq)
    frequency = describe_frequency(index)
    assert (frequency.season_length, frequency.horizon) == (season, horizon)
    # The same from dates that carry no frequency (read from a CSV): inferred.
    bare = pd.DatetimeIndex(index.to_numpy())
    assert describe_frequency(bare).season_length == season


def test_irregular_dates_and_positions_have_no_season():
    dates = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-09"])
    assert describe_frequency(dates).season_length == 1
    assert describe_frequency(pd.RangeIndex(50)).season_length == 1


def test_seasonal_strength_separates_a_season_from_noise():
    rng = np.random.default_rng(0)
    t = np.arange(120)
    seasonal = 10 * np.sin(2 * np.pi * t / 12) + 0.05 * t + rng.normal(0, 0.5, 120)
    noise = rng.normal(0, 1, 120)
    # Strength is 1 - var(remainder) / var(seasonal + remainder): here about 50 / (50 + 0.25).
    assert measure_seasonal_strength(seasonal, 12) > 0.95
    assert measure_seasonal_strength(noise, 12) < 0.3
    assert measure_seasonal_strength(seasonal, 1) == 0.0
    assert measure_seasonal_strength(seasonal[:20], 12) == 0.0  # under two seasons


def _write(tmp_path, values, freq="MS", extra=""):
    dates = pd.date_range("2001-01-01", periods=len(values), freq=freq)
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d %H:%M"), "y": values}).to_csv(
        tmp_path / "data.csv", index=False
    )
    path = tmp_path / "r.toml"
    path.write_text(
        "[data]\nsource = 'csv'\npath = 'data.csv'\ntime_column = 'date'\n"
        f"target_columns = ['y']\n{extra}"
    )
    return load_recipe(path)


def test_a_recipe_with_only_data_gets_every_key_from_the_data(tmp_path):
    t = np.arange(144)
    values = 100 * np.exp(0.01 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    recipe = _write(tmp_path, values)
    assert recipe.auto == frozenset(AUTO_KEYS)
    assert "auto" not in recipe.to_dict()
    resolved, inferred = infer_defaults(recipe, load_series(recipe.data))
    assert set(inferred) == set(AUTO_KEYS)
    assert resolved.evaluation.season_length == 12
    assert resolved.windows.horizon == 18 and resolved.split.test == resolved.split.validation == 18
    # Twice the horizon; the training part (108 points) leaves room for it.
    assert resolved.windows.lookback == 36
    assert resolved.transforms.log is True
    assert resolved.transforms.difference == [12]
    assert "seasonal strength" in inferred["transforms.difference"]
    assert not resolved.auto


def test_a_recipe_that_adjusts_the_season_gets_a_first_difference(tmp_path):
    t = np.arange(144)
    values = 100 * np.exp(0.01 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    recipe = _write(tmp_path, values, extra="[transforms]\nseasonal_adjust = 12\n")
    resolved, inferred = infer_defaults(recipe, load_series(recipe.data))
    # A seasonal difference after the seasonal indices would cancel them.
    assert resolved.transforms.difference == [1]
    assert "seasonal_adjust = 12 removes the season" in inferred["transforms.difference"]


def test_log_is_skipped_for_non_positive_data_and_set_keys_are_kept(tmp_path):
    rng = np.random.default_rng(1)
    values = np.cumsum(rng.normal(0, 1, 100))  # a random walk through zero, no season
    values[3] = -1.0
    recipe = _write(tmp_path, values, extra="[windows]\nlookback = 5\n")
    assert "windows.lookback" not in recipe.auto
    resolved, inferred = infer_defaults(recipe, load_series(recipe.data))
    assert resolved.transforms.log is False
    assert "values <= 0" in inferred["transforms.log"]
    assert resolved.windows.lookback == 5
    assert resolved.transforms.difference == []  # no seasonal strength in a random walk


def test_a_short_series_gets_a_short_horizon_and_no_season(tmp_path):
    values = 50 + np.arange(30, dtype=float)  # 30 months: fewer than three seasons
    recipe = _write(tmp_path, values)
    resolved, inferred = infer_defaults(recipe, load_series(recipe.data))
    assert resolved.evaluation.season_length == 1
    assert "fewer than three seasons" in inferred["evaluation.season_length"]
    assert resolved.windows.horizon == 5  # a sixth of 30
    train = 30 - 2 * 5
    assert resolved.windows.lookback <= (train - 5) // 2
    check_inputs(recipe)  # the split and transforms it leads to are valid


def test_hourly_data_gets_a_daily_season(tmp_path):
    t = np.arange(24 * 30)
    values = 10 + np.sin(2 * np.pi * t / 24) + 0.01 * np.random.default_rng(2).normal(size=len(t))
    resolved, _ = infer_defaults(
        recipe := _write(tmp_path, values, freq="h"), load_series(recipe.data)
    )
    assert resolved.evaluation.season_length == 24
    assert resolved.windows.horizon == 48
    assert resolved.transforms.difference == [24]


def test_log_is_off_when_a_later_part_reaches_zero(tmp_path):
    # Positive through the training part, negative in the test part: the model reads the test
    # values as inputs of its one-step forecasts, so the series cannot be put on log scale.
    values = 20 + np.sin(np.arange(60))
    values[-3:] = -1.0
    recipe = _write(tmp_path, values)
    resolved, inferred = infer_defaults(recipe, load_series(recipe.data))
    assert resolved.transforms.log is False
    assert "validation or test part has values <= 0" in inferred["transforms.log"]
    check_inputs(resolved)


def test_log_is_off_when_a_feature_column_is_not_positive(tmp_path):
    # The log applies to every column the net reads: a positive target with a feature
    # through zero stays on its own scale, and the reason names the feature.
    values = 20 + np.sin(np.arange(60))
    _write(tmp_path, values)
    frame = pd.read_csv(tmp_path / "data.csv").assign(x=np.arange(60) % 5)
    frame.to_csv(tmp_path / "data.csv", index=False)
    path = tmp_path / "r.toml"
    path.write_text(path.read_text() + "feature_columns = ['x']\n")
    recipe = load_recipe(path)
    resolved, inferred = infer_defaults(recipe, load_series(recipe.data))
    assert resolved.transforms.log is False
    assert "column 'x' has values <= 0" in inferred["transforms.log"]
    check_inputs(resolved)


@pytest.mark.slow
def test_a_csv_run_of_its_own_net_keeps_ets_and_forecasts_it_past_the_end(tmp_path, few_epochs):
    pytest.importorskip("statsforecast")
    from statsforecast.models import AutoETS

    from kseq.pipeline.forecast import forecast_saved_run
    from kseq.pipeline.run import run_recipe

    rng = np.random.default_rng(3)
    t = np.arange(64)
    values = 50 + 0.3 * t + 5 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 1, 64)
    # A recipe that sizes its own net is run as written, with ETS among its baselines.
    extra = "[evaluation]\nforecast_steps = 4\n[model]\nunits = [8]\n"
    recipe = _write(tmp_path, values, freq="QS", extra=extra)
    card = run_recipe(recipe, run_dir=tmp_path / "run", verbose=0)
    assert "run as written, not as a panel of one: it sets model.units" in card.notes[0]
    assert card.config["evaluation"]["baselines"] == ["naive", "seasonal_naive", "ets"]
    # One validation window of one series is one pair: ETS stays, whatever the scores.
    assert card.validation.chosen == "ets" and "kept ets" in card.validation.reason
    assert "ets (8-step)" in card.metrics and "chosen (8-step)" in card.metrics
    assert card.metrics["chosen (8-step)"] == card.metrics["ets (8-step)"]
    # Past the end: AutoETS fitted here on the whole series.
    expected = AutoETS(season_length=4).fit(values).predict(h=4)["mean"]
    np.testing.assert_allclose(card.future.chosen_values, expected, rtol=1e-6)
    future = pd.read_csv(tmp_path / "run" / "future_forecast.csv")
    np.testing.assert_allclose(future["chosen"], expected, rtol=1e-6)
    assert (future["chosen-lo-80"] < future["chosen"]).all()
    frame = forecast_saved_run(tmp_path / "run", 4)
    np.testing.assert_allclose(frame["chosen"], expected, rtol=1e-6)
    assert list(frame.columns[:2]) == ["kseq", "chosen"]
    # The run's conformal intervals around both, as in future_forecast.csv.
    written = pd.read_csv(tmp_path / "run" / "future_forecast.csv").set_index(["unique_id", "ds"])
    pd.testing.assert_frame_equal(frame, written, rtol=1e-6)
    # The card lists each forecast's interval coverage once, under its own intervals.
    text = (tmp_path / "run" / "run_card.md").read_text()
    assert set(card.interval_coverage) == {"8-step", "one-step", "chosen 8-step", "chosen one-step"}
    assert text.count("empirical coverage on the test part") == 4


@pytest.mark.slow
def test_a_chosen_combination_is_the_mean_of_its_members_past_the_end(
    tmp_path, few_epochs, monkeypatch
):
    pytest.importorskip("statsforecast")
    from statsforecast.models import AutoETS

    import kseq.pipeline.evaluate as evaluate
    from kseq.evaluation.choice import Choice
    from kseq.pipeline.forecast import forecast_saved_run
    from kseq.pipeline.run import run_recipe

    # One series' choice keeps ETS; here it is made to take the net's combination with ETS,
    # to follow the combination's weight through the run.
    monkeypatch.setattr(
        evaluate, "choose_candidate", lambda *args: Choice("kseq+ets", "forced by the test")
    )
    rng = np.random.default_rng(3)
    t = np.arange(64)
    values = 50 + 0.3 * t + 5 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 1, 64)
    extra = "[evaluation]\nforecast_steps = 4\n[model]\nunits = [8]\n"
    recipe = _write(tmp_path, values, freq="QS", extra=extra)
    card = run_recipe(recipe, run_dir=tmp_path / "run", verbose=0)
    assert card.validation.chosen == "kseq+ets"
    # A combination is the mean of its members, recorded for `kseq forecast`.
    weight = 0.5
    assert card.validation.weights == {"kseq+ets": weight}
    # Past the end: the net's forecast weighed so with ETS refitted on the whole series.
    ets_ahead = AutoETS(season_length=4).fit(values).predict(h=4)["mean"]
    expected = weight * np.asarray(card.future.values) + (1 - weight) * ets_ahead
    np.testing.assert_allclose(card.future.chosen_values, expected, rtol=1e-5)
    frame = forecast_saved_run(tmp_path / "run", 4)
    np.testing.assert_allclose(frame["chosen"], expected, rtol=1e-5)
