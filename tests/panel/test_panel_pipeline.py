"""The panel pipeline end to end on a tiny ragged panel (a long CSV), on every backend."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from kseq.cli import main
from kseq.config import load_recipe
from kseq.data import read_panel
from kseq.global_forecaster import GlobalForecaster
from kseq.pipeline.forecast import forecast_saved_run
from kseq.pipeline.global_fit import load_global_fit, save_global_fit
from kseq.pipeline.run import run_recipe
from kseq.pipeline.run_card import RunCard

pytest.importorskip("statsforecast")
pytestmark = pytest.mark.slow

TEST, VALIDATION, SEASON = 6, 6, 12


def make_panel_frame(seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for i, n in enumerate((96, 80, 110, 72, 90)):
        t = np.arange(n)
        y = (50 + 10 * i) * (1 + 0.002 * t) * (1 + 0.1 * np.sin(2 * np.pi * t / SEASON))
        start = pd.Timestamp("2005-01-01") + pd.DateOffset(months=3 * i)
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"id{i}",
                    "ds": pd.date_range(start, periods=n, freq="MS"),
                    "y": y * (1 + 0.01 * rng.normal(size=n)),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def write_recipe(tmp_path, frame, name):
    frame.to_csv(tmp_path / f"{name}.csv", index=False)
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f"[recipe]\nname = '{name}'\n[data]\nsource = 'panel'\npath = '{tmp_path / name}.csv'\n"
        f"[split]\ntest = {TEST}\nvalidation = {VALIDATION}\n"
        f"[windows]\nlookback = 12\nhorizon = {TEST}\n[model]\nunits = [8]\n"
        "[training]\nepochs = 2\nsteps_per_epoch = 5\nbatch_size = 32\n"
        f"[evaluation]\nseason_length = {SEASON}\nbaselines = ['seasonal_naive', 'ets']\n"
        "choice_origins = 1\n"
    )
    return load_recipe(path)


def test_panel_run_scores_every_method_from_its_forecasts(tmp_path):
    frame = make_panel_frame()
    card = run_recipe(write_recipe(tmp_path, frame, "tiny"), run_dir=tmp_path / "run", verbose=0)
    run_dir = tmp_path / "run"
    assert RunCard.from_json((run_dir / "run_card.json").read_text()) == card
    # The choice keeps ETS unless a candidate is lower on evidence: 5 pairs (one validation
    # window of 5 series) cannot get there — the smallest exact one-sided signed-rank p-value
    # of 5 pairs is 1 / 2 ** 5, above 0.05 / 2 comparisons.
    assert card.panel.num_series == 5 and card.panel.incumbent == "ets"
    assert set(card.panel.p_values) == {"kseq", "kseq+ets"}
    assert min(card.panel.p_values.values()) >= 1 / 2**5 - 1e-12
    assert card.panel.chosen == "ets" and "kept ets" in card.panel.reason
    forecasts = pd.read_csv(run_dir / "forecasts.csv", parse_dates=["ds"])
    assert len(forecasts) == 5 * TEST and (forecasts["kseq"] > 0).all()  # original units
    # Seasonal naive repeats each series' last season before the test part.
    mase, smape = {}, {}
    for sid, rows in forecasts.groupby("unique_id"):
        y = frame.loc[frame["unique_id"] == sid, "y"].to_numpy()
        history, truth = y[:-TEST], y[-TEST:]
        np.testing.assert_allclose(rows["truth"], truth)
        np.testing.assert_allclose(rows["seasonal_naive"], history[-SEASON:][:TEST], rtol=1e-6)
        scale = np.mean(np.abs(history[SEASON:] - history[:-SEASON]))
        for method in ("kseq", "ets", "kseq+ets", "chosen"):
            error = np.abs(rows[method].to_numpy() - truth)
            mase.setdefault(method, []).append(error.mean() / scale)
            smape.setdefault(method, []).append(
                np.mean(200 * error / (np.abs(truth) + np.abs(rows[method].to_numpy())))
            )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for method in mase:
        assert metrics["mase"][method] == pytest.approx(np.mean(mase[method]), rel=1e-6)
        assert metrics["smape"][method] == pytest.approx(np.mean(smape[method]), rel=1e-6)
    np.testing.assert_allclose(forecasts["chosen"], forecasts[card.panel.chosen])
    per_series = pd.read_csv(run_dir / "metrics.csv")
    assert len(per_series) == 5 * 5  # series × (kseq, two baselines, combination, chosen)
    assert (run_dir / "forecast.png").is_file()


def test_nothing_is_fitted_on_the_test_part(tmp_path):
    clean = make_panel_frame()
    poisoned = clean.copy()
    last = poisoned.groupby("unique_id").cumcount(ascending=False) < TEST
    poisoned.loc[last, "y"] *= 1000.0  # the test part only
    cards, tables = [], []
    for name, frame in (("clean", clean), ("poisoned", poisoned)):
        recipe = write_recipe(tmp_path, frame, name)
        cards.append(run_recipe(recipe, run_dir=tmp_path / name, verbose=0))
        tables.append(pd.read_csv(tmp_path / name / "forecasts.csv"))
    # The same forecasts, validation scores and choice: the test part reached nothing fitted.
    for method in ("kseq", "ets", "seasonal_naive"):
        np.testing.assert_allclose(tables[0][method], tables[1][method], rtol=1e-6)
    for metric, means in cards[0].panel.validation.items():
        assert cards[1].panel.validation[metric] == pytest.approx(means, rel=1e-9)
    assert cards[0].panel.chosen == cards[1].panel.chosen
    np.testing.assert_allclose(tables[1]["truth"], tables[0]["truth"] * 1000.0)


def test_panel_backtest_scores_each_series_after_each_origin(tmp_path):
    from kseq.errors import ConfigError
    from kseq.pipeline.backtest import backtest_recipe

    frame = make_panel_frame()
    recipe = write_recipe(tmp_path, frame, "bt")
    origins = ["2010-07", "2011-01"]
    summary = backtest_recipe(recipe, origins, length=TEST, run_dir=tmp_path / "bt")
    assert summary.origins == origins and summary.length == TEST
    for origin, run in zip(origins, summary.runs, strict=True):
        forecasts = pd.read_csv(tmp_path / "bt" / origin / "forecasts.csv", parse_dates=["ds"])
        dates = pd.date_range(origin, periods=TEST, freq="MS")
        assert forecasts["unique_id"].nunique() == 5
        for sid, rows in forecasts.groupby("unique_id"):
            # Every series is scored on the same months after the origin, from the data.
            assert list(rows["ds"]) == list(dates)
            truth = frame[(frame["unique_id"] == sid) & frame["ds"].isin(dates)]["y"]
            np.testing.assert_allclose(rows["truth"], truth.to_numpy())
        assert set(run.metrics) >= {"kseq", "ets", "seasonal_naive", "chosen"}
    for method, means in summary.mean.items():
        expected = np.mean([run.metrics[method]["mase"] for run in summary.runs])
        assert means["mase"] == pytest.approx(expected)
    assert "| kseq |" in (tmp_path / "bt" / "backtest.md").read_text()
    # The conformal intervals' coverage per origin, from the bounds each run wrote.
    shares = []
    for origin in origins:
        written = pd.read_csv(tmp_path / "bt" / origin / "forecasts.csv")
        inside = (written["truth"] >= written["chosen-lo-95"]) & (
            written["truth"] <= written["chosen-hi-95"]
        )
        shares.append(inside.mean())
    assert summary.mean_coverage["chosen"]["95"] == pytest.approx(np.mean(shares))
    assert "| chosen, 95 % |" in (tmp_path / "bt" / "backtest.md").read_text()
    # id1 ends in 2011-11 and id3 in 2011-09: an origin whose test months pass their ends
    # names them, or leaves them out and says so.
    with pytest.raises(ConfigError, match=r"id1: ends on 2011-11-01.*id3: ends on 2011-09-01"):
        backtest_recipe(recipe, ["2011-07"], length=TEST, run_dir=tmp_path / "late")
    skip = dataclasses.replace(recipe, data=dataclasses.replace(recipe.data, on_short="skip"))
    late = backtest_recipe(skip, ["2011-07"], length=TEST, run_dir=tmp_path / "late")
    card = RunCard.from_json((tmp_path / "late" / "2011-07" / "run_card.json").read_text())
    assert card.panel.num_series == 3 and set(card.panel.skipped) == {"id1", "id3"}
    assert any("2 series skipped" in note for note in card.notes)
    assert late.runs[0].metrics["kseq"]["mase"] > 0


def test_a_quantile_head_forecasts_intervals_for_every_series(tmp_path):
    frame = make_panel_frame()
    recipe = write_recipe(tmp_path, frame, "quantiles")
    recipe = dataclasses.replace(
        recipe,
        model=dataclasses.replace(recipe.model, head="quantile", quantiles=[0.1, 0.5, 0.9]),
        training=dataclasses.replace(recipe.training, ensemble=2),
    )
    card = run_recipe(recipe, run_dir=tmp_path / "run", verbose=0)
    forecasts = pd.read_csv(tmp_path / "run" / "forecasts.csv")
    low, high = forecasts["kseq-lo-80"], forecasts["kseq-hi-80"]
    # Quantiles of positive series on the log scale: ordered and positive.
    assert (
        (0 < low).all() and (low <= forecasts["kseq"]).all() and (forecasts["kseq"] <= high).all()
    )
    inside = ((forecasts["truth"] >= low) & (forecasts["truth"] <= high)).mean()
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["coverage"]["kseq"]["80"] == pytest.approx(inside)
    assert card.panel.coverage["test"]["kseq"]["80"] == pytest.approx(inside)
    assert set(card.panel.coverage["validation"]["kseq"]) == {"80"}
    # The head's quantiles stand for kseq; the chosen forecast gets conformal intervals.
    assert set(card.panel.coverage["test"]) == {"kseq", "chosen"}
    assert set(card.panel.coverage["test"]["chosen"]) == {"80", "95"}
    # Bounds are not methods: no score rows for them.
    assert set(pd.read_csv(tmp_path / "run" / "metrics.csv")["method"]) == {
        "kseq",
        "seasonal_naive",
        "ets",
        "kseq+ets",
        "chosen",
    }


def test_a_saved_panel_run_forecasts_every_series_past_its_end(tmp_path, capsys, monkeypatch):

    frame = make_panel_frame()
    recipe = write_recipe(tmp_path, frame, "saved")
    recipe = dataclasses.replace(
        recipe,
        training=dataclasses.replace(recipe.training, ensemble=2),
        evaluation=dataclasses.replace(recipe.evaluation, forecast_steps=4),
    )
    card = run_recipe(recipe, run_dir=tmp_path / "run", verbose=0)
    out = tmp_path / "future.csv"
    assert main(["forecast", str(tmp_path / "run"), "--horizon", "4", "--out", str(out)]) == 0
    future = pd.read_csv(out, parse_dates=["ds"])
    # The run wrote the same forecasts past the end, as a run of one series does.
    written = pd.read_csv(tmp_path / "run" / "future_forecast.csv", parse_dates=["ds"])
    assert "future_forecast.csv" in card.outputs
    pd.testing.assert_frame_equal(written, future)

    # The members' mean, each member loaded on its own, from every series' whole history.
    members = [
        GlobalForecaster.load(tmp_path / "run" / "forecaster" / f"member_{k}") for k in (0, 1)
    ]
    panel = read_panel(frame)
    expected = np.mean([m.predict(panel, 4)["kseq"].to_numpy() for m in members], axis=0)
    np.testing.assert_allclose(future["kseq"], expected, rtol=1e-5)
    for sid, rows in future.groupby("unique_id"):
        last = frame.loc[frame["unique_id"] == sid, "ds"].max()
        assert list(rows["ds"]) == list(pd.date_range(last, periods=5, freq="MS")[1:])
    assert set(future["unique_id"]) == {f"id{i}" for i in range(5)}
    if card.panel.chosen == "kseq":
        np.testing.assert_allclose(future["chosen"], future["kseq"])
    # The run's conformal intervals around both, scaled by each series' whole history.
    for method in ("kseq", "chosen"):
        for level in ("80", "95"):
            low, high = future[f"{method}-lo-{level}"], future[f"{method}-hi-{level}"]
            assert (low < future[method]).all() and (future[method] < high).all()
        assert (future[f"{method}-lo-95"] <= future[f"{method}-lo-80"]).all()

    # A run that chose the net's mean with ETS forecasts that mean, ETS refitted on the
    # whole history of each series.
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    fit, extra = load_global_fit(tmp_path / "run" / "forecaster")
    save_global_fit(fit, tmp_path / "combined" / "forecaster", {**extra, "chosen": "kseq+ets"})
    combined = forecast_saved_run(tmp_path / "combined", 4).reset_index()
    # kseq stores a panel's values as float32; ETS's fit is sensitive to the last digits.
    stored = frame.assign(y=frame["y"].astype("float32").astype("float64"))
    ets = StatsForecast(models=[AutoETS(season_length=SEASON)], freq="MS").forecast(df=stored, h=4)
    merged = combined.merge(ets, on=["unique_id", "ds"])
    assert len(merged) == 5 * 4
    np.testing.assert_allclose(merged["ets"], merged["AutoETS"], rtol=1e-5)
    np.testing.assert_allclose(merged["kseq"], expected, rtol=1e-5)
    np.testing.assert_allclose(
        merged["chosen"], (merged["AutoETS"] + merged["kseq"]) / 2, rtol=1e-5
    )
    # A run whose validation part weighed the net 3/4 in that combination forecasts so.
    weighed = {**extra, "chosen": "kseq+ets", "weights": {"kseq+ets": 0.75}}
    save_global_fit(fit, tmp_path / "weighed" / "forecaster", weighed)
    weighed = forecast_saved_run(tmp_path / "weighed", 4).reset_index()
    np.testing.assert_allclose(
        weighed["chosen"], 0.25 * combined["ets"] + 0.75 * combined["kseq"], rtol=1e-6
    )
    # ETS's forecasts are cached next to the run: a second forecast refits nothing.
    import kseq.evaluation.panel_baselines as panel_baselines

    assert len(list((tmp_path / ".kseq-baseline-cache").glob("ets-*-h4-*.csv"))) == 1
    # A run that chose the classical models' mean forecasts that mean, each refitted.
    save_global_fit(fit, tmp_path / "classical" / "forecaster", {**extra, "chosen": "ets+theta"})
    mean = forecast_saved_run(tmp_path / "classical", 4).reset_index()
    np.testing.assert_allclose(mean["ets"], combined["ets"], rtol=1e-6)
    assert (mean["theta"] != mean["ets"]).all()
    np.testing.assert_allclose(mean["chosen"], (mean["ets"] + mean["theta"]) / 2, rtol=1e-6)

    def refit(*args):
        raise AssertionError("refitted instead of read from the cache")

    monkeypatch.setattr(panel_baselines, "_forecast_one", refit)
    again = forecast_saved_run(tmp_path / "combined", 4).reset_index()
    pd.testing.assert_frame_equal(again, combined, rtol=1e-12)

    # Beyond the net's horizon: one line naming the option, exit code 2.
    capsys.readouterr()
    assert main(["forecast", str(tmp_path / "run"), "--horizon", str(TEST + 1)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--horizon" in err[0]
    # A newer panel on another frequency: refused (the net's lookback counts months).
    quarterly = frame.assign(
        ds=frame.groupby("unique_id")
        .cumcount()
        .map(lambda k: pd.Timestamp("2001-01-01") + pd.DateOffset(months=3 * k))
    )
    quarterly.to_csv(tmp_path / "quarterly.csv", index=False)
    argv = ["forecast", str(tmp_path / "run"), "--horizon", "4", "--csv"]
    assert main([*argv, str(tmp_path / "quarterly.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the run was trained on 'MS' data" in err[0]


def test_a_refit_run_chooses_with_the_members_trained_before_the_validation_part(
    tmp_path, monkeypatch
):
    import kseq.pipeline.panel as panel_pipeline

    calls = []
    original = panel_pipeline.forecast_all

    def recording(fit, history, steps, recipe, cache_dir, weights=None):
        calls.append((fit, history.lengths.copy()))
        return original(fit, history, steps, recipe, cache_dir, weights)

    monkeypatch.setattr(panel_pipeline, "forecast_all", recording)
    frame = make_panel_frame()
    recipe = write_recipe(tmp_path, frame, "refit")
    recipe = dataclasses.replace(recipe, training=dataclasses.replace(recipe.training, refit=True))
    card = run_recipe(recipe, run_dir=tmp_path / "run", verbose=0)
    assert card.refit_epochs_per_member is not None
    (validation_fit, validation_lengths), (test_fit, test_lengths) = calls
    np.testing.assert_array_equal(validation_lengths, test_lengths - VALIDATION)
    # The validation part is forecast by the member trained before it, the test part by the
    # member retrained on it.
    assert validation_fit.members != test_fit.members
    assert validation_fit.members == test_fit.validated
    refit_weights = test_fit.members[0].model.get_weights()
    first_weights = validation_fit.members[0].model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(refit_weights, first_weights, strict=True))


def test_the_choice_is_scored_on_earlier_origins_too(tmp_path):
    frame = make_panel_frame()
    recipe = write_recipe(tmp_path, frame, "origins")
    recipe = dataclasses.replace(
        # choice_alpha = 1: the lowest mean over both origins wins (no test).
        recipe,
        evaluation=dataclasses.replace(
            recipe.evaluation,
            choice_origins=2,
            choice_alpha=1.0,
        ),
    )
    card = run_recipe(recipe, run_dir=tmp_path / "run", verbose=0)
    # Seasonal naive, computed here: every series at the validation part's origin and at the
    # window of VALIDATION points before it (each series has room for both).
    scores = []
    for _, rows in frame.groupby("unique_id"):
        y = rows["y"].to_numpy()
        for back in (TEST + VALIDATION, TEST + 2 * VALIDATION):
            history, truth = y[:-back], y[-back:][:TEST]
            forecast = history[-SEASON:][:TEST]
            scale = np.mean(np.abs(history[SEASON:] - history[:-SEASON]))
            scores.append(np.mean(np.abs(forecast - truth)) / scale)
    assert len(scores) == 10
    mase = card.panel.validation["mase"]
    assert mase["seasonal_naive"] == pytest.approx(np.mean(scores), rel=1e-5)
    assert "2 origins" in card.panel.reason and card.timings["choice_origins_s"] > 0
    # The conformal intervals come from the validation part's residuals: its k-th point of
    # each of the 5 series forecast from the k origins of the part before it (at most TEST
    # steps ahead).
    assert set(card.intervals) == {"kseq", "chosen"}
    residuals = 5 * sum(min(k, TEST) for k in range(1, VALIDATION + 1))
    for calibrated in card.intervals.values():
        assert calibrated["num_residuals"] == residuals
    candidates = ("kseq", "ets", "kseq+ets")
    assert card.panel.chosen == min(candidates, key=lambda m: mase[m])
    # A combination is the mean of its members.
    assert card.panel.weights["kseq+ets"] == 0.5
    forecasts = pd.read_csv(tmp_path / "run" / "forecasts.csv")
    np.testing.assert_allclose(forecasts["kseq+ets"], (forecasts["kseq"] + forecasts["ets"]) / 2)
    # The earlier origin's checkpoints went with the run's own.
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_forecast_past_the_panel_net_s_horizon_is_refused_before_training(tmp_path):
    from kseq.errors import ConfigError

    recipe = write_recipe(tmp_path, make_panel_frame(), "far")
    evaluation = dataclasses.replace(recipe.evaluation, forecast_steps=TEST + 1)
    with pytest.raises(
        ConfigError, match=rf"forecast_steps = {TEST + 1} is past .* \({TEST} steps"
    ):
        run_recipe(dataclasses.replace(recipe, evaluation=evaluation), run_dir=tmp_path / "run")
    assert not (tmp_path / "run" / "checkpoints").exists()  # nothing was trained
