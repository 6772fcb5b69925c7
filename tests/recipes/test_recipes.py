"""Runs of the bundled recipes (few epochs) on the active backend, and the run's outputs."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from kseq.config import load_recipe, recipe_path
from kseq.data import load_airpassengers
from kseq.errors import DataError, LeakageWarning
from kseq.forecaster import Forecaster
from kseq.pipeline.forecast import forecast_saved_run
from kseq.pipeline.run import run_recipe
from kseq.pipeline.run_card import RunCard

FORECAST_FILES = {
    "run_card.json",
    "run_card.md",
    "forecast.png",
    "loss.png",
    "forecaster",
    "metrics.json",
    "metrics.csv",
    "forecasts.csv",
    "one_step.csv",
}
CLI = [sys.executable, "-m", "kseq.cli"]


def run(name, tmp_path, overrides=()):
    recipe = load_recipe(recipe_path(name), overrides)
    return run_recipe(recipe, run_dir=tmp_path / name, verbose=0), tmp_path / name


def write_csv_recipe(tmp_path, frame, extra=""):
    frame.to_csv(tmp_path / "sales.csv", index=False)
    recipe = tmp_path / "sales.toml"
    recipe.write_text(
        "[recipe]\nname = 'sales'\n[data]\nsource = 'csv'\n"
        f"path = '{tmp_path / 'sales.csv'}'\ntime_column = 'date'\ntarget_columns = 'sales'\n"
        "[split]\ntest = 10\nvalidation = 10\n[windows]\nlookback = 7\n[model]\nunits = [4]\n"
        + extra
    )
    return recipe


@pytest.mark.slow
def test_airpassengers_run_directory_and_reload(tmp_path, backend, few_epochs):
    card, run_dir = run(
        "airpassengers", tmp_path, [("model", "units", [8]), ("training", "ensemble", 2)]
    )
    assert card.ensemble == 2 and len(card.epochs_run_per_member) == 2
    assert card.validation is not None and card.validation.one_step["mape"] > 0
    assert FORECAST_FILES <= {p.name for p in run_dir.iterdir()}
    assert card.backend == backend and card.leakage == []
    passengers = load_airpassengers().to_numpy()
    # Seasonal naive repeats 1958 twice over the test years: its score follows from the data.
    naive = np.tile(passengers[108:120], 2)
    expected = 100 * np.mean(np.abs(passengers[120:] - naive) / passengers[120:])
    assert card.metrics["seasonal_naive (24-step)"]["mape"] == pytest.approx(expected)
    assert {"kseq (recursive, 24-step)", "kseq (one-step)", "naive (one-step)"} <= set(card.metrics)
    saved = RunCard.from_json((run_dir / "run_card.json").read_text())
    assert saved == card
    assert "| kseq (one-step) |" in (run_dir / "run_card.md").read_text()
    # The saved forecaster reproduces the run's forecasts, and the CSVs hold the same numbers
    # in a panel run's columns.
    forecaster = Forecaster.load(run_dir / "forecaster")
    multi_step = forecaster.predict(passengers[:120], 24)[:, 0]
    table = pd.read_csv(run_dir / "forecasts.csv")
    assert set(table["unique_id"]) == {"passengers"}
    assert table["ds"].iloc[0] == "1959-01-01" and table["ds"].iloc[-1] == "1960-12-01"
    np.testing.assert_allclose(table["kseq"], multi_step, rtol=1e-6)
    np.testing.assert_array_equal(table["truth"], passengers[120:])
    one_step = forecaster.predict_one_step(passengers, 120)[:, 0]
    rolling = pd.read_csv(run_dir / "one_step.csv")
    assert list(rolling.columns) == list(table.columns)
    np.testing.assert_allclose(rolling["kseq"], one_step, rtol=1e-6)
    # The one-step metric is the MAPE of those forecasts, computed here independently.
    mape = 100 * np.mean(np.abs(passengers[120:] - one_step) / passengers[120:])
    assert card.metrics["kseq (one-step)"]["mape"] == pytest.approx(mape, rel=1e-6)
    # metrics.json as a panel run writes it; MASE's scale is the history before the test part.
    scale = np.mean(np.abs(passengers[12:120] - passengers[:108]))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    chosen = card.validation.chosen
    assert (
        {"kseq", "naive", "seasonal_naive", "sarima", "kseq+sarima", "chosen"}
        == set(metrics["mase"])
        == set(metrics["smape"])
    )
    for method in ("kseq", "seasonal_naive", "chosen"):
        error = np.abs(table[method] - passengers[120:]).mean()
        assert metrics["mase"][method] == pytest.approx(error / scale, rel=1e-6)
    np.testing.assert_allclose(table["chosen"], table[chosen])
    assert metrics["mase"]["kseq"] == pytest.approx(
        card.metrics["kseq (recursive, 24-step)"]["mase"], rel=1e-6
    )
    # Conformal 80 % and 95 % intervals: nested around both forecasts, wider further ahead,
    # and the card's coverage is the share of the truth inside them.
    model = card.intervals["kseq"]
    assert model["levels"] == [0.8, 0.95] and model["multiplicative"]
    assert model["num_residuals"] == 12 * 24  # 12 validation months x 24 steps
    # The validation-chosen candidate gets its own, calibrated on its own residuals.
    assert ("chosen" in card.intervals) == (chosen != "kseq")
    sources = [("kseq", "")] + [("chosen", "chosen ")] * (chosen != "kseq")
    for source, label_prefix in sources:
        for kind, frame in (("one-step", rolling), ("24-step", table)):
            forecast = frame[source]
            lo80, hi80 = frame[f"{source}-lo-80"], frame[f"{source}-hi-80"]
            lo95, hi95 = frame[f"{source}-lo-95"], frame[f"{source}-hi-95"]
            assert (lo95 <= lo80).all() and (lo80 < forecast).all() and (forecast < hi80).all()
            assert (hi80 <= hi95).all()
            for level, low, high in (("80", lo80, hi80), ("95", lo95, hi95)):
                inside = ((frame["truth"] >= low) & (frame["truth"] <= high)).mean()
                assert card.interval_coverage[label_prefix + kind][level] == pytest.approx(inside)
                if kind == "24-step":
                    assert metrics["coverage"][source][level] == pytest.approx(inside)
    relative = (table["kseq-hi-80"] / table["kseq"]).to_numpy()
    assert (np.diff(relative) >= -1e-12).all()  # never narrower further ahead
    np.testing.assert_allclose(rolling["kseq-hi-80"] / rolling["kseq"], relative[0])


@pytest.mark.slow
def test_tutorial_run_card_flags_its_leak(tmp_path, few_epochs):
    with pytest.warns(LeakageWarning, match="whole series"):
        card, run_dir = run("airpassengers-tutorial", tmp_path)
    assert len(card.leakage) == 2
    assert "LEAKAGE" in (run_dir / "run_card.md").read_text()
    state = json.loads((run_dir / "forecaster" / "forecaster.json").read_text())
    scaler_max = state["state"]["transforms"]["steps"][0]["state"]["data_max_"][0]
    assert scaler_max == load_airpassengers().max()  # the test period's maximum: the leak
    # The card records the model the tutorial builder really built.
    assert card.config["model"]["units"] == [50, 50, 50, 50]
    assert card.config["model"]["dropout"] == 0.2
    body = Forecaster.load(run_dir / "forecaster").model.get_layer("body")
    assert body.units == [50, 50, 50, 50] and body.dropout == 0.2


@pytest.mark.slow
def test_sines_forecast_past_the_end_is_dated_and_written(tmp_path, few_epochs):
    card, run_dir = run("sines", tmp_path, [("data", "family", "x_sin")])
    assert FORECAST_FILES <= {p.name for p in run_dir.iterdir()}
    assert "kseq (recursive, 30-step)" in card.metrics
    # 100 points on [0, 20]: the future continues the same x step past 20.
    step = 20 / 99
    np.testing.assert_allclose([float(d) for d in card.future.ds], 20 + step * np.arange(1, 31))
    table = pd.read_csv(run_dir / "future_forecast.csv")
    assert set(table["unique_id"]) == {"x_sin"}  # the series, named after its family
    np.testing.assert_allclose(table["kseq"], card.future.values)
    forecaster = Forecaster.load(run_dir / "forecaster")
    from kseq.data import make_sine

    series = make_sine("x_sin", num_points=100, end=20.0, seed=0).to_numpy()
    np.testing.assert_allclose(forecaster.predict(series, 30)[:, 0], card.future.values, rtol=1e-6)


@pytest.mark.slow
def test_ar1_reports_both_lag_weights(tmp_path, few_epochs):
    card, run_dir = run("ar1", tmp_path, [("data", "test_paths", 64)])
    assert set(card.metrics) == {"w=0", "w=0.1"}
    for tag in ("w0", "w0.1"):
        model = keras.saving.load_model(run_dir / f"model_{tag}.keras", safe_mode=True)
        recorded = np.load(run_dir / f"predictions_{tag}.npz")
        np.testing.assert_allclose(
            model.predict(recorded["x"], verbose=0), recorded["prediction"], rtol=1e-5, atol=1e-6
        )
        # For w = 0 the target is x_t² exactly: the no-lag baseline is perfect.
        if tag == "w0":
            assert card.metrics["w=0"]["no_lag_term_mse"] < 1e-10
    assert {"scatter.png", "loss.png", "run_card.md"} <= {p.name for p in run_dir.iterdir()}


@pytest.mark.slow
def test_mixture_interval_is_decoded_by_the_head(tmp_path, few_epochs):
    card, run_dir = run(
        "airpassengers",
        tmp_path,
        [
            ("model", "units", [4]),
            ("model", "head", "mixture"),
            ("model", "num_components", 2),
            ("training", "ensemble", 1),
            ("evaluation", "baselines", ["naive"]),
        ],
    )
    assert (card.interval.lower, card.interval.upper) == (0.1, 0.9)
    table = pd.read_csv(run_dir / "one_step.csv")
    # In passengers, around the point forecast (the mixture mean need not sit between two
    # quantiles, but a 10 %-90 % band of passenger counts is positive and ordered); the
    # head's own interval is the net's, as in a panel run (no conformal one beside it).
    assert "kseq" not in card.intervals
    low, high = table["kseq-lo-80"], table["kseq-hi-80"]
    assert (low < high).all() and (low > 0).all()
    inside = (table["truth"] >= low) & (table["truth"] <= high)
    assert card.interval.one_step_coverage == pytest.approx(inside.mean())
    forecaster = Forecaster.load(run_dir / "forecaster")
    passengers = load_airpassengers().to_numpy()
    _, quantiles = forecaster.predict_one_step(passengers, 120, levels=(0.1, 0.9))
    np.testing.assert_allclose(table[["kseq-lo-80", "kseq-hi-80"]], quantiles[:, 0], rtol=1e-6)


@pytest.mark.slow
def test_csv_recipe_and_forecast_command(tmp_path, backend):
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=80, freq="D"),
            "sales": 10 + np.sin(np.arange(80) / 3) + np.arange(80) * 0.05,
        }
    )
    recipe = write_csv_recipe(tmp_path, frame, "[evaluation]\nseason_length = 7\n")
    env = dict(os.environ, KERAS_MAX_EPOCHS="1")
    result = subprocess.run(
        CLI + ["run", str(recipe), "--out", str(tmp_path / "run"), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "| kseq (one-step) |" in result.stdout and f"on backend {backend}" in result.stderr
    forecast = CLI + ["forecast", str(tmp_path / "run"), "--horizon", "5"]
    result = subprocess.run(
        forecast + ["--csv", str(tmp_path / "sales.csv")], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    # The recipe leaves its baselines out: naive, seasonal naive and ETS, and the choice on one
    # series' validation part keeps ETS, which the forecast gives beside the net.
    assert lines[0].startswith("unique_id,ds,kseq,chosen,") and "chosen-lo-80" in lines[0]
    assert lines[1].startswith("sales,2020-03-21,") and len(lines) == 6
    # The same numbers dated weekly: the net's lookback counts days, so it is refused; and a
    # file shorter than what one forecast reads is named.
    weekly = frame.assign(date=pd.date_range("2020-01-05", periods=80, freq="W"))
    weekly.to_csv(tmp_path / "weekly.csv", index=False)
    frame.iloc[:5].to_csv(tmp_path / "short.csv", index=False)
    for name, message in [
        ("weekly.csv", "is on frequency 'W-SUN'; the run was trained on 'D' data"),
        ("short.csv", "short.csv: it has 5 points; forecasting needs"),
    ]:
        result = subprocess.run(
            forecast + ["--csv", str(tmp_path / name)], capture_output=True, text=True, env=env
        )
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_seasonally_adjusted_run_forecasts_a_newer_csv_by_its_dates(tmp_path, few_epochs):
    days = np.arange(90)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=90, freq="D"),
            "sales": 50 + 0.1 * days + 5 * np.array([3, -1, 2, 0, -4, 1, -1])[days % 7],
        }
    )
    recipe = write_csv_recipe(
        tmp_path,
        frame,
        "[transforms]\nseasonal_adjust = 7\ndifference = [1]\n"
        "[evaluation]\nseason_length = 7\nbaselines = ['naive']\nchoose = false\n",
    )
    run_recipe(load_recipe(recipe), run_dir=tmp_path / "run", verbose=0)
    forecaster = Forecaster.load(tmp_path / "run" / "forecaster")
    assert forecaster.saved_state_["extra"]["start"] == "2020-01-01"
    whole = forecast_saved_run(tmp_path / "run", 3, csv=tmp_path / "sales.csv")
    # The same history from day 11 on: its seasons are read from its dates.
    frame.iloc[10:].to_csv(tmp_path / "later.csv", index=False)
    later = forecast_saved_run(tmp_path / "run", 3, csv=tmp_path / "later.csv")
    np.testing.assert_allclose(later["kseq"], whole["kseq"], rtol=1e-6)
    expected = forecaster.predict(frame[["sales"]].to_numpy(), 3)[:, 0]
    np.testing.assert_allclose(whole["kseq"], expected, rtol=1e-6)
    # Dates between the run's days cannot be placed in its seasons.
    frame.assign(date=frame["date"] + pd.Timedelta(hours=12)).to_csv(
        tmp_path / "noon.csv", index=False
    )
    with pytest.raises(DataError, match="noon.csv: .* is not a whole number of 'D' steps"):
        forecast_saved_run(tmp_path / "run", 3, csv=tmp_path / "noon.csv")


@pytest.mark.slow
def test_a_feature_column_runs_end_to_end_in_the_target_s_units(tmp_path, few_epochs):
    # A feature after the target: the forecasts, intervals, plots and the saved run's
    # forecast are of the target alone, in its units (they were in no units: the inverse
    # transforms expected every column and stopped with a traceback).
    days = np.arange(80)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=80, freq="D"),
            "sales": 100 + 10 * np.sin(days / 3),
            "price": 5 + np.cos(days / 5),
        }
    )
    recipe = write_csv_recipe(
        tmp_path, frame, "[evaluation]\ntest_steps = 10\nforecast_steps = 10\n"
    ).read_text()
    recipe = recipe.replace("lookback = 7", "lookback = 7\nhorizon = 10").replace(
        "target_columns = 'sales'", "target_columns = 'sales'\nfeature_columns = ['price']"
    )
    (tmp_path / "sales.toml").write_text(recipe)
    card = run_recipe(load_recipe(tmp_path / "sales.toml"), run_dir=tmp_path / "run", verbose=0)
    table = pd.read_csv(tmp_path / "run" / "one_step.csv")
    assert np.isfinite(table["kseq"]).all() and len(table) == 10
    # Sales, not prices or scaled units: within 30 % of the truth after two short epochs.
    assert (np.abs(table["kseq"] / table["truth"] - 1) < 0.3).all()
    assert card.metrics["kseq (direct, 10-step)"]["mape"] < 30
    future = forecast_saved_run(tmp_path / "run", 10)
    assert set(future.index.get_level_values("unique_id")) == {"sales"} and len(future) == 10
    # The same forecasts as the run wrote past the end, in the same columns.
    written = pd.read_csv(tmp_path / "run" / "future_forecast.csv").set_index(["unique_id", "ds"])
    pd.testing.assert_frame_equal(future, written, rtol=1e-6)


@pytest.mark.slow
def test_monthly_future_dates_follow_the_calendar(tmp_path):
    # Month starts: a fixed Timedelta after 1960-12-01 drifts to 1960-12-31, 1961-01-30, ...
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2015-01-01", periods=60, freq="MS").strftime("%Y-%m-%d"),
            "sales": 100 + 10 * np.sin(np.arange(60) * np.pi / 6),
        }
    )
    recipe = write_csv_recipe(tmp_path, frame, "[evaluation]\nforecast_steps = 3\n")
    env = dict(os.environ, KERAS_MAX_EPOCHS="1")
    run_dir = tmp_path / "run"
    result = subprocess.run(
        CLI + ["run", str(recipe), "--out", str(run_dir), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    card = RunCard.from_json((run_dir / "run_card.json").read_text())
    assert card.future.ds == ["2020-01-01", "2020-02-01", "2020-03-01"]
    table = pd.read_csv(run_dir / "future_forecast.csv")
    assert list(table["ds"]) == card.future.ds
    result = subprocess.run(
        CLI + ["forecast", str(run_dir), "--horizon", "2"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert [line.split(",")[1] for line in result.stdout.splitlines()[1:]] == [
        "2020-01-01",
        "2020-02-01",
    ]


@pytest.mark.slow
def test_recipe_module_entry_point(tmp_path):
    env = dict(os.environ, KERAS_MAX_EPOCHS="1")
    result = subprocess.run(
        [sys.executable, "-m", "kseq.recipes.airpassengers", "--out", str(tmp_path / "r")]
        + ["--quiet", "--set", "model.units=[4]", "--set", "training.ensemble=1"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    card = RunCard.from_json((tmp_path / "r" / "run_card.json").read_text())
    row = card.metrics["seasonal_naive (24-step)"]
    assert f"| seasonal_naive (24-step) | {row['mae']:.4g} | {row['rmse']:.4g} |" in result.stdout


@pytest.mark.slow
def test_the_choice_is_made_on_validation_and_reported_on_test(tmp_path, few_epochs):
    card, _ = run("airpassengers", tmp_path)
    choice = card.validation.choice
    assert set(choice) == {"kseq", "naive", "seasonal_naive", "sarima", "kseq+sarima"}
    assert card.validation.chosen == min(choice, key=choice.get)
    rows = {
        "kseq": ("kseq (recursive, 24-step)", "kseq (one-step)"),
        **{b: (f"{b} (24-step)", f"{b} (one-step)") for b in ("naive", "seasonal_naive", "sarima")},
    }
    chosen = card.validation.chosen
    if chosen in rows:
        multi, one = rows[chosen]
        assert card.metrics["chosen (24-step)"] == card.metrics[multi]
        assert card.metrics["chosen (one-step)"] == card.metrics[one]
    else:  # the mean of the model and SARIMA: between the two on MAE at worst
        worst = max(
            card.metrics[r]["mae"] for r in ("kseq (recursive, 24-step)", "sarima (24-step)")
        )
        assert card.metrics["chosen (24-step)"]["mae"] <= worst
