"""Smoke runs of the bundled recipes (few epochs) on the active backend."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from kseq.errors import LeakageWarning
from kseq.forecaster import Forecaster
from kseq.recipes.config import load_recipe, recipe_path
from kseq.recipes.runner import run_recipe

pytestmark = pytest.mark.slow

FORECAST_FILES = {
    "run_card.json",
    "run_card.md",
    "forecast.png",
    "loss.png",
    "forecaster",
    "forecasts.npz",
}


@pytest.fixture(autouse=True)
def few_epochs():
    keras.config.set_max_epochs(2)
    keras.config.set_max_steps_per_epoch(5)
    yield
    keras.config.set_max_epochs(None)
    keras.config.set_max_steps_per_epoch(None)


def run(name, tmp_path, overrides=()):
    config = load_recipe(recipe_path(name), overrides)
    return run_recipe(config, run_dir=tmp_path / name, verbose=0), tmp_path / name


def test_airpassengers_run_directory_and_reload(tmp_path, backend):
    card, run_dir = run(
        "airpassengers", tmp_path, [("model", "units", [8]), ("training", "ensemble", 2)]
    )
    assert card["ensemble"] == 2 and len(card["epochs_run_per_member"]) == 2
    assert set(card["validation_metrics"]) == {"best_val_loss", "one_step", "recursive"}
    assert FORECAST_FILES <= {p.name for p in run_dir.iterdir()}
    assert card["backend"] == backend and card["leakage"] == []
    metrics = card["metrics"]
    assert {
        "model (recursive, 24-step)",
        "model (one-step)",
        "seasonal_naive (24-step)",
        "naive (one-step)",
    } <= set(metrics)
    assert metrics["seasonal_naive (24-step)"]["mape"] == pytest.approx(15.52, abs=0.01)
    assert all(np.isfinite(v["rmse"]) for v in metrics.values())
    saved = json.loads((run_dir / "run_card.json").read_text())
    assert saved["metrics"] == metrics and saved["versions"]["keras"]
    assert "| model (one-step) |" in (run_dir / "run_card.md").read_text()
    # The saved forecaster reproduces the run's forecasts.
    forecaster = Forecaster.load(run_dir / "forecaster")
    series = pd.read_csv(
        os.path.join(os.path.dirname(__file__), "..", "..", "data", "AirPassengers.csv")
    )["#Passengers"].to_numpy(float)
    recorded = np.load(run_dir / "forecasts.npz")
    np.testing.assert_allclose(
        forecaster.predict(series[:120], 24), recorded["multi_step"], rtol=1e-6
    )
    np.testing.assert_allclose(
        forecaster.predict_one_step(series, 120), recorded["one_step"], rtol=1e-6
    )


def test_tutorial_run_card_flags_its_leak(tmp_path):
    with pytest.warns(LeakageWarning, match="whole series"):
        card, run_dir = run("airpassengers-tutorial", tmp_path)
    assert len(card["leakage"]) == 2
    assert "LEAKAGE" in (run_dir / "run_card.md").read_text()
    state = json.loads((run_dir / "forecaster" / "forecaster.json").read_text())
    scaler_max = state["transforms"]["steps"][0]["state"]["data_max_"][0]
    assert scaler_max == 622  # the test period's maximum: exactly the leak being flagged


def test_sines_forecasts_past_the_end(tmp_path):
    card, run_dir = run("sines", tmp_path, [("data", "family", "x_sin")])
    assert FORECAST_FILES <= {p.name for p in run_dir.iterdir()}
    assert len(card["future_forecast"]) == 30
    assert "model (recursive, 30-step)" in card["metrics"]


def test_ar1_reports_both_lag_weights(tmp_path):
    card, run_dir = run("ar1", tmp_path, [("data", "test_paths", 64)])
    assert set(card["metrics"]) == {"w=0", "w=0.1"}
    for tag in ("w0", "w0.1"):
        model = keras.saving.load_model(run_dir / f"model_{tag}.keras", safe_mode=True)
        recorded = np.load(run_dir / f"predictions_{tag}.npz")
        np.testing.assert_allclose(
            model.predict(recorded["x"], verbose=0), recorded["prediction"], rtol=1e-5, atol=1e-6
        )
    assert {"scatter.png", "loss.png", "run_card.md"} <= {p.name for p in run_dir.iterdir()}
    for values in card["metrics"].values():
        assert values["test_mse"] > 0 and values["mean_baseline_mse"] > 0


def test_csv_recipe_and_forecast_command(tmp_path, backend):
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=80, freq="D"),
            "sales": 10 + np.sin(np.arange(80) / 3) + np.arange(80) * 0.05,
        }
    )
    frame.to_csv(tmp_path / "sales.csv", index=False)
    recipe = tmp_path / "sales.toml"
    recipe.write_text(
        "[recipe]\nname = 'sales'\n[data]\nsource = 'csv'\n"
        f"path = '{tmp_path / 'sales.csv'}'\ntime_column = 'date'\ntarget_columns = 'sales'\n"
        "[split]\ntest = 10\nvalidation = 10\n[windows]\nlookback = 7\n[model]\nunits = [4]\n"
        "[evaluation]\nseason_length = 7\n"
    )
    env = dict(os.environ, KERAS_MAX_EPOCHS="1")
    cli = [sys.executable, "-m", "kseq.cli"]
    result = subprocess.run(
        cli + ["run", str(recipe), "--out", str(tmp_path / "run"), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "| model (one-step) |" in result.stdout and f"on backend {backend}" in result.stderr
    result = subprocess.run(
        cli
        + [
            "forecast",
            str(tmp_path / "run"),
            "--horizon",
            "5",
            "--csv",
            str(tmp_path / "sales.csv"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "date,sales" and lines[1].startswith("2020-03-21,") and len(lines) == 6


def test_recipe_module_entry_point(tmp_path):
    env = dict(os.environ, KERAS_MAX_EPOCHS="1")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kseq.recipes.airpassengers",
            "--out",
            str(tmp_path / "r"),
            "--quiet",
            "--set",
            "model.units=[4]",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "seasonal_naive (24-step) | 71.25 | 76.99 | 15.52" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "kseq.recipes.airpassengers", "--set", "windows.lookbak=3"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2
    assert "unknown key 'lookbak' in [windows]" in bad.stderr and "Traceback" not in bad.stderr
