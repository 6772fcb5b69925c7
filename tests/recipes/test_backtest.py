"""Rolling-origin backtests, series cut at an origin, and refitting on train + validation."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from kseq.cli import main as cli_main
from kseq.config import load_recipe, recipe_path
from kseq.data import load_airpassengers
from kseq.errors import ConfigError, DataError
from kseq.pipeline.backtest import backtest_recipe, default_length
from kseq.pipeline.fit import best_epoch, fit_member
from kseq.pipeline.run import run_recipe
from kseq.pipeline.split import cut_series

TINY = [("model", "units", [4]), ("training", "ensemble", 1), ("training", "patience", 1)]


def test_cut_series_by_count_and_by_date():
    index = pd.date_range("2000-01-01", periods=10, freq="MS")
    values = np.arange(10.0)[:, None]
    cut_index, cut_values = cut_series(index, values, 4)
    assert len(cut_index) == 4 and cut_values[-1, 0] == 3.0
    cut_index, cut_values = cut_series(index, values, "2000-06")
    assert cut_index[-1] == pd.Timestamp("2000-06-01") and cut_values[-1, 0] == 5.0
    assert cut_series(index, values, None)[1] is values


@pytest.mark.parametrize(
    ("end", "message"),
    [(0, "between 1 and the series length 10"), (11, "between 1"), ("1999-01", "before the first")],
)
def test_cut_series_rejects_ends_outside_the_series(end, message):
    index = pd.date_range("2000-01-01", periods=10, freq="MS")
    with pytest.raises(ConfigError, match=message):
        cut_series(index, np.zeros((10, 1)), end)


def test_cut_series_date_needs_dates():
    with pytest.raises(ConfigError, match="has no dates"):
        cut_series(pd.RangeIndex(10), np.zeros((10, 1)), "2000-01")


@pytest.mark.slow
def test_backtest_runs_each_origin_on_the_months_after_it(tmp_path, few_epochs):
    config = load_recipe(recipe_path("airpassengers"), TINY)
    summary = backtest_recipe(config, ["1957-01", "1958-01"], length=12, run_dir=tmp_path)
    passengers = load_airpassengers()
    for run, year in zip(summary.runs, (1957, 1958), strict=True):
        # Each run's test part is exactly the 12 months after its origin; nothing after it.
        rolling = pd.read_csv(tmp_path / f"{year}-01" / "one_step.csv")
        truth = rolling["truth"].to_numpy()
        np.testing.assert_allclose(truth, passengers[str(year)].to_numpy())
        card = json.loads((tmp_path / f"{year}-01" / "run_card.json").read_text())
        assert card["config"]["split"]["end"] == len(passengers[: str(year)])
        # The model's one-step MAPE is that of its forecasts of those 12 months.
        one_step = rolling["kseq"].to_numpy()
        expected = 100 * np.mean(np.abs(truth - one_step) / truth)
        assert run.metrics["kseq (one-step)"]["mape"] == pytest.approx(expected, rel=1e-9)
        # Seasonal naive repeats the previous year: its MAPE follows from the data alone.
        expected = np.mean(
            np.abs(passengers[str(year)].to_numpy() - passengers[str(year - 1)].to_numpy())
            / passengers[str(year)].to_numpy()
        )
        assert run.metrics["seasonal_naive (12-step)"]["mape"] == pytest.approx(
            100 * expected, rel=1e-6
        )
    for row, mean in summary.mean.items():
        assert mean["mape"] == pytest.approx(
            np.mean([r.metrics[row]["mape"] for r in summary.runs])
        )
    assert "kseq (one-step)" in summary.mean
    assert "| kseq (one-step) |" in (tmp_path / "backtest.md").read_text()
    # The intervals' coverage after each origin, read here from the forecasts each run wrote.
    shares = []
    for year in (1957, 1958):
        written = pd.read_csv(tmp_path / f"{year}-01" / "one_step.csv")
        inside = (written["truth"] >= written["kseq-lo-80"]) & (
            written["truth"] <= written["kseq-hi-80"]
        )
        shares.append(inside.mean())
    assert [run.coverage["one-step"]["80"] for run in summary.runs] == pytest.approx(shares)
    assert summary.mean_coverage["one-step"]["80"] == pytest.approx(np.mean(shares))
    assert "| one-step, 80 % |" in (tmp_path / "backtest.md").read_text()
    assert json.loads((tmp_path / "backtest.json").read_text())["mean_coverage"] == (
        summary.mean_coverage
    )


def test_backtest_rejects_an_origin_without_room(tmp_path):
    config = load_recipe(recipe_path("airpassengers"), TINY)
    with pytest.raises(ConfigError, match="leaves no room"):
        backtest_recipe(config, ["1960-06"], length=12, run_dir=tmp_path)


def write_data_only_recipe(folder, frame, source="csv", columns=""):
    frame.to_csv(folder / "data.csv", index=False)
    path = folder / "r.toml"
    path.write_text(
        f"[recipe]\nname = 'r'\n[data]\nsource = '{source}'\npath = 'data.csv'\n{columns}"
    )
    return load_recipe(path)


def test_a_data_only_recipe_is_backtested_over_the_test_part_its_data_choose(tmp_path):
    # 120 months: the M4 monthly horizon 18 (at most a sixth of the series: 20) is the test
    # part a run of this recipe would choose; a backtest scores as many points per origin.
    dates = pd.date_range("2010-01-01", periods=120, freq="MS")
    single = pd.DataFrame({"ds": dates, "y": 100 + np.sin(np.arange(120.0))})
    recipe = write_data_only_recipe(
        tmp_path, single, columns="time_column = 'ds'\ntarget_columns = ['y']\n"
    )
    assert default_length(recipe) == 18
    # Short quarterly series: the panel's horizon is M4's 8 quarters, at most a quarter of the
    # shortest series (24 points: 6).
    quarters = pd.date_range("2000-01-01", periods=24, freq="QS")
    panel = pd.concat(
        pd.DataFrame({"unique_id": i, "ds": quarters, "y": 10.0 + i + np.arange(24.0)})
        for i in range(3)
    )
    assert default_length(write_data_only_recipe(tmp_path, panel, "panel")) == 6
    # What the recipe sets wins.
    assert default_length(load_recipe(recipe_path("airpassengers"))) == 24


def test_an_origin_s_data_error_names_the_origin(tmp_path):
    config = load_recipe(recipe_path("airpassengers"), TINY)
    with pytest.raises(DataError, match=r"Origin '1950-01': .*too few"):
        backtest_recipe(config, ["1950-01"], length=12, run_dir=tmp_path)


@pytest.mark.slow
def test_backtest_command(tmp_path, few_epochs, capsys):
    status = cli_main(
        ["backtest", "airpassengers", "--origins", "1958-01", "--length", "12", "--out"]
        + [str(tmp_path), "--set", "model.units=[4]", "--set", "training.ensemble=1"]
    )
    assert status == 0
    assert "| kseq (one-step) |" in capsys.readouterr().out
    assert json.loads((tmp_path / "backtest.json").read_text())["origins"] == ["1958-01"]


@pytest.mark.slow
def test_refit_retrains_on_validation_for_the_best_epochs(tmp_path, few_epochs):
    config = load_recipe(
        recipe_path("airpassengers"),
        TINY + [("training", "ensemble", 2), ("training", "refit", True)],
    )
    card = run_recipe(config, run_dir=tmp_path, verbose=0)
    # Each member is retrained for exactly the epochs that were best on validation.
    assert card.refit_epochs_per_member == card.best_epoch_per_member
    for best, run in zip(card.best_epoch_per_member, card.epochs_run_per_member, strict=True):
        assert 1 <= best <= run
    assert np.isfinite(card.metrics["kseq (one-step)"]["mape"])


def test_refit_needs_a_validation_part():
    with pytest.raises(ConfigError, match="needs a validation part"):
        load_recipe(
            recipe_path("airpassengers"), [("split", "validation", 0), ("training", "refit", True)]
        )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (("split", "end"), 50, r"\[split\] does not apply to source = 'ar1'"),
        (("training", "refit"), True, r"\[training\] refit does not apply to source = 'ar1'"),
    ],
)
def test_ar1_rejects_keys_it_would_ignore(key, value, message):
    with pytest.raises(ConfigError, match=message):
        load_recipe(recipe_path("ar1"), [(*key, value)])


def test_best_epoch_skips_the_epochs_before_monitoring_starts():
    val_loss = [0.1, 0.5, 0.4, 0.3, 0.35]
    assert best_epoch(val_loss, 0) == 1
    # Keras's EarlyStopping ignores epochs 0 and 1 (0-based) here, so the best it keeps is the
    # 4th epoch, not the 1st.
    assert best_epoch(val_loss, 2) == 4
    # Stopped (TerminateOnNaN) before monitoring began: the last weights are what is kept.
    assert best_epoch(val_loss[:2], 3) == 2


def test_start_from_epoch_reaches_early_stopping(tmp_path):
    config = load_recipe(recipe_path("airpassengers"), [("training", "start_from_epoch", 25)])
    callbacks = []
    fit_member(
        None,
        lambda initial_epoch, listed: callbacks.extend(listed),
        config.training,
        directory=tmp_path / "checkpoints",
        resume=False,
        monitor="val_loss",
        label="member 0",
    )
    (stopper,) = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)]
    assert stopper.start_from_epoch == 25 and stopper.restore_best_weights


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            [("training", "early_stopping", False), ("training", "start_from_epoch", 5)],
            "only delays",
        ),
        (
            [("training", "epochs", 300), ("training", "start_from_epoch", 300)],
            r"between 0 and epochs - 1 \(299\); received 300",
        ),
    ],
)
def test_start_from_epoch_is_checked(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_recipe(recipe_path("airpassengers"), overrides)


def test_steps_per_execution_reaches_compile_and_keeps_the_numbers(tmp_path, monkeypatch):
    keras.config.set_max_epochs(2)  # reset by the conftest fixture
    backend = keras.backend.backend()
    if backend == "torch":
        # Keras's torch trainer allows only 1; the recipe says so before building anything.
        with pytest.raises(ConfigError, match="PyTorch backend runs one step per call"):
            load_recipe(
                recipe_path("airpassengers"),
                [("training", "steps_per_execution", 3)],
                backend=backend,
            )
        return
    seen = []
    compile_ = keras.Model.compile

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("steps_per_execution"))
        return compile_(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "compile", spy)
    cards = []
    for steps in (1, 3):
        overrides = TINY + [
            ("evaluation", "baselines", ["naive"]),
            ("training", "steps_per_execution", steps),
        ]
        config = load_recipe(recipe_path("airpassengers"), overrides, backend=backend)
        cards.append(run_recipe(config, run_dir=tmp_path / str(steps), verbose=0))
    assert seen == [1, 3]
    # Three steps per compiled call are the same six steps an epoch, in the same order.
    one, three = (c.validation.one_step["mape"] for c in cards)
    assert one == pytest.approx(three, rel=1e-4)
    assert cards[0].final_loss == pytest.approx(cards[1].final_loss, rel=1e-4)


def test_steps_per_execution_is_checked():
    with pytest.raises(ConfigError, match=r"steps_per_execution must be >= 1; received 0"):
        load_recipe(recipe_path("airpassengers"), [("training", "steps_per_execution", 0)])
    with pytest.raises(ConfigError, match=r"positive integer or \"auto\"; received 'fast'"):
        load_recipe(recipe_path("airpassengers"), [("training", "steps_per_execution", "fast")])


def test_steps_per_execution_defaults_to_the_devices_choice():
    config = load_recipe(recipe_path("airpassengers"), backend=keras.backend.backend())
    assert config.training.steps_per_execution == "auto"  # `choose_steps_per_execution`


@pytest.mark.slow
def test_a_resumed_backtest_reads_finished_origins_back(tmp_path, few_epochs, monkeypatch):
    import dataclasses

    import kseq.pipeline.backtest as backtest

    config = load_recipe(recipe_path("airpassengers"), TINY)
    origins = ["1957-01", "1958-01"]
    first = backtest_recipe(config, origins, length=12, run_dir=tmp_path)
    calls = []

    def recording(run, *, run_dir, resume, verbose):
        calls.append((run_dir.name, resume))
        return run_recipe(run, run_dir=run_dir, resume=resume, verbose=verbose)

    monkeypatch.setattr(backtest, "run_recipe", recording)
    # Both origins finished with this recipe: nothing runs, the same summary comes back.
    again = backtest_recipe(config, origins, length=12, run_dir=tmp_path, resume=True)
    assert calls == [] and again == first
    # An origin killed before its card was written runs again, from its checkpoints when it
    # left some (here a fresh start: the folder has none).
    (tmp_path / "1958-01" / "run_card.json").unlink()
    resumed = backtest_recipe(config, origins, length=12, run_dir=tmp_path, resume=True)
    assert calls == [("1958-01", False)]
    assert resumed.runs[0] == first.runs[0]
    (tmp_path / "1958-01" / "run_card.json").unlink()
    (tmp_path / "1958-01" / "checkpoints").mkdir()
    calls.clear()
    latest = backtest_recipe(config, origins, length=12, run_dir=tmp_path, resume=True)
    assert calls == [("1958-01", True)]
    # Origins recorded before a key existed (its default then implied), or holding a removed
    # key at the value that does what kseq does now, are the same recipe: read back as they
    # are (compared with the last summary: 1958-01 was trained again above, and a retrained
    # TensorFlow model need not repeat the first one to the last digit).
    calls.clear()
    for origin in origins:
        recorded = json.loads((tmp_path / origin / "backtest_recipe.json").read_text())
        del recorded["transforms"]["scaler"]
        recorded["evaluation"]["combination_weights"] = "equal"
        (tmp_path / origin / "backtest_recipe.json").write_text(json.dumps(recorded))
    assert backtest_recipe(config, origins, length=12, run_dir=tmp_path, resume=True) == latest
    assert calls == []
    # Another recipe in the same folder is not mixed in.
    other = dataclasses.replace(config, recipe=dataclasses.replace(config.recipe, seed=7))
    with pytest.raises(ConfigError, match=r"Origin '1957-01': .* another recipe"):
        backtest_recipe(other, origins, length=12, run_dir=tmp_path, resume=True)
    with pytest.raises(ConfigError, match=r"Origin '1957-01': .* another recipe or length"):
        backtest_recipe(config, origins, length=6, run_dir=tmp_path, resume=True)


def test_left_out_settings_are_chosen_once_for_every_origin(tmp_path, few_epochs):
    # 150 months. Chosen per origin, the lookback would be two seasons (24) where the data
    # allow it and less at the first origin (at most half of its training part after one
    # horizon): each origin a different net. Chosen once, from the data up to the earliest
    # origin's end, every origin trains the same one and has the same rows.
    dates = pd.date_range("2000-01-01", periods=150, freq="MS")
    y = 100 + 10 * np.sin(np.arange(150.0) * 2 * np.pi / 12) + np.arange(150.0)
    frame = pd.DataFrame({"ds": dates, "y": y})
    frame.to_csv(tmp_path / "data.csv", index=False)
    path = tmp_path / "r.toml"
    path.write_text(
        "[recipe]\nname = 'r'\n[data]\nsource = 'csv'\npath = 'data.csv'\n"
        "time_column = 'ds'\ntarget_columns = ['y']\n"
    )
    recipe = load_recipe(path, TINY)
    origins = ["2004-07", "2011-01"]  # 54 and 132 points before them
    summary = backtest_recipe(recipe, origins, length=6, run_dir=tmp_path / "bt")
    cards = [json.loads((tmp_path / "bt" / o / "run_card.json").read_text()) for o in origins]
    for key in ("windows", "evaluation"):
        assert cards[0]["config"][key] == cards[1]["config"][key]
    # The earliest origin's data: 54 + 6 points; horizon 6 (the test part); the lookback at
    # most half of the training part after one horizon.
    config = cards[1]["config"]
    horizon, validation = config["windows"]["horizon"], config["split"]["validation"]
    lookback = (60 - 6 - validation - horizon) // 2
    assert horizon == 6 and config["windows"]["lookback"] == lookback < 24
    assert set(summary.runs[0].metrics) == set(summary.runs[1].metrics) == set(summary.mean)
    assert summary.partial == {}
    assert "windows.lookback" in summary.settings
    text = (tmp_path / "bt" / "backtest.md").read_text()
    assert "once for every origin" in text and f"`windows.lookback` = {lookback}" in text


def test_rows_some_origins_lack_are_named_not_dropped():
    from kseq.evaluation.tables import format_backtest
    from kseq.pipeline.backtest import BacktestRun, BacktestSummary, average_over_origins

    first = {"model": {"mape": 2.0, "rmse": 1.0}, "seasonal naive": {"mape": 4.0, "rmse": 3.0}}
    second = {"model": {"mape": 6.0, "rmse": 5.0}}
    runs = [BacktestRun("a", first), BacktestRun("b", second)]
    mean = average_over_origins([first, second])
    assert mean == {"model": {"mape": 4.0, "rmse": 3.0}}
    summary = BacktestSummary("r", 12, runs, mean, partial={"seasonal naive": 1})
    text = format_backtest(summary)
    assert "seasonal naive (1 of 2 origins)" in text and "backtest.json" in text
