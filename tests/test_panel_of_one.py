"""A recipe for one column of a CSV that sets only its [data], its split sizes and the keys of
what is scored runs as a panel of one: the panel run's files, the pretrained network among the
candidates and the corpus-learned rule as the choice's starting point."""

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


def test_a_recipe_that_sets_no_net_of_its_own_is_a_panel_of_one(tmp_path):
    from kseq.pipeline.load import explain_run_as_written, make_panel_of_one

    path, _ = write_series(tmp_path)
    assert is_panel_of_one(load_recipe(path))
    # Its parts and what is scored mean the same for a panel of one, and are carried over.
    given, _ = write_series(
        tmp_path, "[split]\ntest = 9\n[evaluation]\nforecast_steps = 4\nintervals = [0.9]\n"
    )
    recipe = load_recipe(given)
    assert is_panel_of_one(recipe)
    panel = make_panel_of_one(recipe, tmp_path / "one")
    assert panel.split.test == 9 and "split.test" not in panel.auto
    assert panel.evaluation.forecast_steps == 4 and list(panel.evaluation.intervals) == [0.9]
    # Left out, the rest comes from the data, as for any panel recipe (the horizon from the
    # test part when the run starts).
    assert list(panel.evaluation.baselines) == list(PANEL_BASELINES)
    assert {"split.validation", "windows.horizon", "windows.lookback"} <= panel.auto
    # Any key of the net, its windows, training or transforms, or an override of one, keeps
    # the recipe as written, and the run card says why.
    trained = load_recipe(path, [("training", "epochs", 3)])
    assert not is_panel_of_one(trained)
    assert explain_run_as_written(trained) == (
        "it sets training.epochs, which a panel of one does not take"
    )
    other, _ = write_series(tmp_path, "[windows]\nlookback = 12\n")
    assert not is_panel_of_one(load_recipe(other))
    # So do values a panel does not take: a fraction of the series, a validation part
    # shorter than the test part that the choice would score on, a baseline it lacks.
    for extra in (
        "[split]\ntest = 0.2\n",
        "[split]\ntest = 12\nvalidation = 6\n",
        "[evaluation]\nbaselines = ['naive', 'ets']\n",
    ):
        written, _ = write_series(tmp_path, extra)
        recipe = load_recipe(written)
        assert not is_panel_of_one(recipe), extra
        assert "[split]" in explain_run_as_written(recipe) or "baselines" in (
            explain_run_as_written(recipe)
        )


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
