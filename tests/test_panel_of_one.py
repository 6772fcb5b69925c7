"""A recipe that sets only its [data] for one column of a CSV runs as a panel of one: the
panel run's files, the pretrained network among the candidates and the corpus-learned rule
as the choice's starting point."""

import json

import numpy as np
import pandas as pd
import pytest

from kseq.config import PANEL_BASELINES, load_recipe
from kseq.pipeline.load import is_panel_of_one

N = 72  # six years of months


def write_series(tmp_path, extra=""):
    t = np.arange(N, dtype="float64")
    sales = 200 + t + 30 * np.sin(2 * np.pi * t / 12)
    months = pd.date_range("2010-01-01", periods=N, freq="MS").strftime("%Y-%m")
    pd.DataFrame({"month": months, "sales": sales}).to_csv(tmp_path / "sales.csv", index=False)
    path = tmp_path / "sales.toml"
    path.write_text(
        "[recipe]\nname = 'sales'\n[data]\nsource = 'csv'\npath = 'sales.csv'\n"
        f"time_column = 'month'\ntarget_columns = 'sales'\n{extra}"
    )
    return path, sales


def test_only_a_data_only_recipe_of_one_column_is_a_panel_of_one(tmp_path):
    path, _ = write_series(tmp_path)
    assert is_panel_of_one(load_recipe(path))
    # Any other section, or an override of one, keeps the recipe as written.
    assert not is_panel_of_one(load_recipe(path, [("training", "epochs", 3)]))
    other, _ = write_series(tmp_path, "[windows]\nlookback = 12\n")
    assert not is_panel_of_one(load_recipe(other))


def test_the_rule_of_the_pretrained_network_is_the_choices_starting_point():
    from kseq.pipeline.candidates import load_shipped_network, name_incumbent

    # What the shipped network's card says it learned for monthly series, in the panel's names.
    ruled = load_shipped_network().rule["monthly"].replace("kseq", "pretrained")
    incumbent, why = name_incumbent(list(PANEL_BASELINES), "MS")
    assert incumbent == ruled and "rule for monthly series" in why
    # Without the pretrained network the first classical model is kept, as before.
    assert name_incumbent(["seasonal_naive", "theta", "ets"], "MS") == ("ets", "")
    assert name_incumbent(["seasonal_naive"], "MS") == (None, "")


def test_one_series_writes_a_panel_runs_files_and_forecasts_a_newer_csv(tmp_path, few_epochs):
    pytest.importorskip("statsforecast")
    from kseq.pipeline.forecast import forecast_saved_run
    from kseq.pipeline.run import run_recipe

    path, sales = write_series(tmp_path)
    run_dir = tmp_path / "run"
    card = run_recipe(load_recipe(path), run_dir=run_dir, verbose=0)
    assert card.panel is not None and "run as a panel of one" in card.notes[0]
    # A global net's budget sized for one series' few windows, not a panel's.
    assert card.config["training"]["ensemble"] == 1
    assert card.config["training"]["steps_per_epoch"] == 20
    assert {"metrics.json", "metrics.csv", "forecasts.csv", "forecast.png"} <= {
        p.name for p in run_dir.iterdir()
    }
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"kseq", "ets", "pretrained", "chosen"} <= set(metrics["mase"])
    assert set(metrics["smape"]) == set(metrics["mase"])
    forecasts = pd.read_csv(run_dir / "forecasts.csv")
    test = card.config["split"]["test"]
    # The held-out part is the series' last points, in original units.
    np.testing.assert_allclose(forecasts["truth"], sales[-test:], rtol=1e-6)
    assert {"chosen-lo-80", "chosen-hi-80"} <= set(forecasts.columns)

    # A newer file of the same series (its own columns, no id) is forecast from its end.
    months = pd.date_range("2010-01-01", periods=N - 6, freq="MS")
    older = pd.DataFrame({"month": months.strftime("%Y-%m"), "sales": sales[: N - 6]})
    older.to_csv(tmp_path / "older.csv", index=False)
    frame = forecast_saved_run(run_dir, 3, csv=tmp_path / "older.csv").reset_index()
    expected = pd.date_range(months[-1], periods=4, freq="MS")[1:]
    assert list(frame["ds"]) == list(expected)
    assert set(frame["unique_id"]) == {"sales"} and np.isfinite(frame["chosen"]).all()
