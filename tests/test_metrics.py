import numpy as np
import pytest

from kseq.data import load_airpassengers
from kseq.evaluation.baselines import (
    naive_baselines,
    sarima_airline,
    sarima_available,
    statsforecast_available,
)
from kseq.evaluation.metrics import (
    mae,
    mape,
    mase,
    msis,
    rmse,
    seasonal_naive_forecast,
    smape,
)


def test_metric_values():
    y, p = np.array([100.0, 200.0]), np.array([110.0, 180.0])
    assert mae(y, p) == 15.0
    assert rmse(y, p) == pytest.approx(np.sqrt((100 + 400) / 2))
    assert mape(y, p) == pytest.approx(10.0)
    assert smape(y, p) == pytest.approx(100 * (20 / 210 + 40 / 380) / 2)
    assert mase(y, p, np.array([0.0, 10.0, 20.0])) == pytest.approx(1.5)


def test_seasonal_naive_on_airpassengers_matches_the_reference():
    series = load_airpassengers().to_numpy()
    forecast = seasonal_naive_forecast(series[:120], 24, 12)[:, 0]
    np.testing.assert_array_equal(forecast[:12], series[108:120])
    np.testing.assert_array_equal(forecast[12:], series[108:120])
    # Seasonal naive repeats 1958 twice: its errors follow from the data alone.
    errors = series[120:] - np.tile(series[108:120], 2)
    assert mape(series[120:], forecast) == pytest.approx(
        100 * np.mean(np.abs(errors) / series[120:])
    )
    assert rmse(series[120:], forecast) == pytest.approx(np.sqrt(np.mean(errors**2)))
    one_step = naive_baselines(series[:120], series[120:], 12)["seasonal_naive"]["one_step"]
    np.testing.assert_array_equal(one_step, series[108:132])


@pytest.mark.skipif(not sarima_available(), reason="statsmodels not installed")
def test_sarima_airline_matches_the_reference():
    series = load_airpassengers().to_numpy()
    result = sarima_airline(series[:120], series[120:], 12)
    # The same airline model through statsmodels' other estimator (ARIMA, not SARIMAX), fitted
    # on the log training months only: the forecasts agree within estimation tolerance.
    import warnings

    from statsmodels.tsa.arima.model import ARIMA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ARIMA(np.log(series[:120]), order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit()
        multi = np.exp(fitted.forecast(24))
        one = np.exp(fitted.append(np.log(series[120:])).predict(start=120, end=143))
    np.testing.assert_allclose(result["multi_step"], multi, rtol=2e-3)
    np.testing.assert_allclose(result["one_step"], one, rtol=2e-3)
    # The airline model beats seasonal naive on both horizons here (a sanity floor).
    naive = np.tile(series[108:120], 2)
    assert mape(series[120:], result["multi_step"]) < mape(series[120:], naive)


def test_undefined_metrics_are_nan_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(mape(np.array([0.0, 2.0]), np.array([1.0, 2.0])))
        # 0/0 terms of sMAPE are perfect forecasts; the other term is 200 |1-3| / 4 = 100.
        assert smape(np.array([0.0, 1.0]), np.array([0.0, 3.0])) == pytest.approx(50.0)
        assert np.isnan(mase(np.ones(3), np.ones(3), np.full(24, 5.0), 12))
        assert np.isnan(mase(np.ones(3), np.ones(3), np.arange(12.0), 12))


@pytest.mark.skipif(not sarima_available(), reason="statsmodels is not installed")
@pytest.mark.parametrize(
    ("history", "season", "note"),
    [
        (np.r_[0.0, np.arange(1.0, 48.0)], 12, "values <= 0"),
        (np.arange(1.0, 200.0), 52, "seasonal period of 52 (over 24)"),
        (np.arange(1.0, 20.0), 12, "needs two seasons (26 points)"),
    ],
)
def test_sarima_is_skipped_with_a_note_where_it_cannot_work(history, season, note):
    from kseq.config import EvaluationSection
    from kseq.pipeline.evaluate import compute_baselines

    evaluation = EvaluationSection(season_length=season, baselines=["naive", "sarima"])
    forecasts, notes = compute_baselines(history, np.arange(1.0, 7.0), evaluation)
    assert sorted(forecasts) == ["naive"]
    assert len(notes) == 1 and note in notes[0], notes


def test_the_choice_scores_every_candidate_on_the_validation_part():
    from kseq.config import EvaluationSection
    from kseq.pipeline.evaluate import list_candidates, score_candidates

    t = np.arange(60, dtype=float)
    y = 0.1 * t + np.sin(2 * np.pi * t / 12)
    history, truth = y[:48], y[48:]
    evaluation = EvaluationSection(season_length=12, baselines=["naive", "seasonal_naive"])
    # In-sample scale: the seasonal naive's error, 0.1 * 12 = 1.2 at every step; the seasonal
    # naive forecast of the next season is off by the same 1.2 (MASE 1); a model off by 0.6
    # scores 0.5.
    scores = score_candidates(truth + 0.6, truth - 0.3, history, truth, evaluation)
    choice, one_step, forecasts = scores.multi_step, scores.one_step, scores.forecasts
    assert scores.weights == {}  # no classical model to combine with
    np.testing.assert_allclose(forecasts["kseq"], truth + 0.6)
    assert set(choice) == set(one_step) == {"kseq", "naive", "seasonal_naive"}
    assert choice["kseq"] == pytest.approx(0.5)
    assert choice["seasonal_naive"] == pytest.approx(1.0)
    naive = np.abs(truth - history[-1]).mean() / 1.2
    assert choice["naive"] == pytest.approx(naive)
    # One step ahead: the seasonal naive is still off by 1.2; the naive by the last change.
    assert one_step["kseq"] == pytest.approx(0.25)
    assert one_step["seasonal_naive"] == pytest.approx(1.0)
    assert one_step["naive"] == pytest.approx(np.abs(np.diff(y[47:])).mean() / 1.2)
    combined = list_candidates(np.ones(3), {"sarima": np.full(3, 3.0), "naive": np.zeros(3)})
    np.testing.assert_allclose(combined["kseq+sarima"], 2.0)
    assert "kseq+naive" not in combined  # only the classical model is averaged in


@pytest.mark.skipif(not sarima_available(), reason="statsmodels is not installed")
def test_baseline_paths_forecast_from_every_origin():
    from kseq.config import EvaluationSection
    from kseq.data import load_airpassengers
    from kseq.evaluation.baselines import sarima_airline
    from kseq.pipeline.evaluate import make_baseline_paths

    series = load_airpassengers().to_numpy()[:120]
    evaluation = EvaluationSection(
        season_length=12, baselines=["naive", "seasonal_naive", "sarima"]
    )
    origins = np.array([100, 108, 115])
    paths = make_baseline_paths(series, 108, origins, 24, evaluation)
    assert {name: p.shape for name, p in paths.items()} == {
        "naive": (3, 24),
        "seasonal_naive": (3, 24),
        "sarima": (3, 24),
    }
    np.testing.assert_array_equal(paths["naive"][1], np.full(24, series[107]))
    np.testing.assert_array_equal(paths["seasonal_naive"][2], np.tile(series[103:115], 2))
    # From the end of the fitted history, the path is the baseline's own multi-step forecast.
    fitted = sarima_airline(series[:108], series[108:120], 12)["multi_step"]
    np.testing.assert_allclose(paths["sarima"][1, :12], fitted, rtol=1e-6)


def _trend_and_season(n, season=4):
    # A noiseless trend plus season: its continuation is exact under additive ETS.
    t = np.arange(n, dtype=float)
    return 100 + t + 10 * np.sin(2 * np.pi * t / season)


@pytest.mark.skipif(not statsforecast_available(), reason="statsforecast is not installed")
def test_ets_baseline_continues_a_noiseless_trend_and_season():
    from kseq.config import EvaluationSection
    from kseq.evaluation.baselines import forecast_statsforecast
    from kseq.pipeline.evaluate import make_baseline_paths

    y = _trend_and_season(60)
    forecast = forecast_statsforecast("ets", y[:48], y[48:56], 4)
    np.testing.assert_allclose(forecast["multi_step"], y[48:56], rtol=1e-4)
    np.testing.assert_allclose(forecast["one_step"], y[48:56], rtol=1e-4)
    evaluation = EvaluationSection(season_length=4, baselines=["ets"])
    paths = make_baseline_paths(y, 48, np.array([48, 51]), 5, evaluation)
    assert paths["ets"].shape == (2, 5)
    np.testing.assert_allclose(paths["ets"][1], y[51:56], rtol=1e-4)


@pytest.mark.skipif(not statsforecast_available(), reason="statsforecast is not installed")
def test_one_series_keeps_ets_on_one_window():
    from kseq.config import EvaluationSection
    from kseq.pipeline.evaluate import choose_candidate, compute_baselines, list_candidates

    rng = np.random.default_rng(0)
    y = _trend_and_season(72) + rng.normal(0, 2, 72)
    history, truth = y[:54], y[54:]
    evaluation = EvaluationSection(season_length=4, baselines=["naive", "seasonal_naive", "ets"])
    baselines, notes = compute_baselines(history, truth, evaluation)
    assert set(baselines) == {"naive", "seasonal_naive", "ets"} and not notes
    # The choice reads forecasts only: ETS off by 1 + a little at each of 18 steps, a model
    # closer to the truth at every step.
    off = 1 + 0.01 * np.arange(18)
    multi = {"naive": truth + 5, "seasonal_naive": truth - 4, "ets": truth + off}
    candidates = list_candidates(truth - off / 10, multi)
    # One window of one series is one pair: the smallest one-sided p-value of one pair is 1/2,
    # above 0.05 over 4 comparisons, so ETS stays.
    choice = choose_candidate(candidates, truth, history, evaluation)
    assert choice.chosen == "ets" and choice.incumbent == "ets"
    assert choice.p_values["kseq"] == pytest.approx(0.5)
    assert choice.p_values["naive"] == pytest.approx(1.0)
    # alpha = 1: the lowest validation MASE, no test.
    evaluation = EvaluationSection(
        season_length=4, baselines=["naive", "seasonal_naive", "ets"], choice_alpha=1.0
    )
    assert choose_candidate(candidates, truth, history, evaluation).chosen == "kseq"
    # Without ETS among the baselines, the lowest MASE (the bundled recipes' rule).
    evaluation = EvaluationSection(season_length=4, baselines=["naive", "seasonal_naive"])
    plain = list_candidates(truth + 6 * off, {n: multi[n] for n in ("naive", "seasonal_naive")})
    choice = choose_candidate(plain, truth, history, evaluation)
    assert choice.chosen == "seasonal_naive" and choice.incumbent is None


@pytest.mark.skipif(not statsforecast_available(), reason="statsforecast is not installed")
def test_theta_baseline_reads_only_the_past():
    from kseq.config import EvaluationSection
    from kseq.evaluation.baselines import forecast_ahead, forecast_statsforecast
    from kseq.pipeline.evaluate import list_candidates, make_baseline_paths

    rng = np.random.default_rng(1)
    y = _trend_and_season(64) + rng.normal(0, 1, 64)
    forecast = forecast_statsforecast("theta", y[:48], y[48:60], 4)
    assert forecast["multi_step"].shape == forecast["one_step"].shape == (12,)
    # Poison the test part from point 48 + k on: the multi-step forecast and the one-step
    # forecasts of points up to 48 + k are unchanged (each reads only the points before it).
    k = 5
    poisoned = y[48:60].copy()
    poisoned[k:] = 1e6
    again = forecast_statsforecast("theta", y[:48], poisoned, 4)
    np.testing.assert_allclose(again["multi_step"], forecast["multi_step"])
    np.testing.assert_allclose(again["one_step"][: k + 1], forecast["one_step"][: k + 1])
    assert np.abs(again["one_step"][k + 1] - forecast["one_step"][k + 1]) > 1
    # It follows the trend: within a few units of the truth a season ahead (noise sd 1).
    assert np.abs(forecast["multi_step"][:4] - y[48:52]).max() < 5
    # Paths: from the end of the fitted history, the multi-step forecast; refitted on the
    # whole history for forecasts past the end.
    evaluation = EvaluationSection(season_length=4, baselines=["naive", "theta"])
    paths = make_baseline_paths(y, 48, np.array([44, 48]), 6, evaluation)
    assert set(paths) == {"naive", "theta"} and paths["theta"].shape == (2, 6)
    np.testing.assert_allclose(paths["theta"][1], forecast["multi_step"][:6], rtol=1e-6)
    ahead = forecast_ahead("theta", y, 3, 4)
    assert ahead.shape == (3,) and np.abs(ahead - (y[-4:-1] + 4)).max() < 8
    # The model's mean with Theta is a candidate of the choice.
    candidates = list_candidates(np.zeros(6), {"theta": np.full(6, 2.0)})
    np.testing.assert_allclose(candidates["kseq+theta"], 1.0)


def test_ets_that_cannot_be_fitted_is_skipped_with_a_note():
    from kseq.config import EvaluationSection
    from kseq.pipeline.evaluate import compute_baselines

    evaluation = EvaluationSection(season_length=1, baselines=["naive", "ets"])
    baselines, notes = compute_baselines(np.arange(1.0, 5.0), np.arange(5.0, 7.0), evaluation)
    assert set(baselines) == {"naive"}
    assert len(notes) == 1 and notes[0].startswith("ETS baseline skipped:")


def test_a_chosen_baseline_that_cannot_be_refitted_is_a_data_error():
    from kseq.config import EvaluationSection
    from kseq.errors import DataError
    from kseq.pipeline.evaluate import forecast_chosen

    evaluation = EvaluationSection(season_length=4)
    # A newer history with a zero: the airline model is fitted on logs (no NaN forecast).
    history = np.r_[np.arange(1.0, 30.0), 0.0]
    with pytest.raises(DataError, match="kseq\\+sarima; its SARIMA cannot be refitted"):
        forecast_chosen("kseq+sarima", np.ones(3), history, evaluation)
    # Too few points for AutoETS (or no statsforecast): named, not a traceback.
    with pytest.raises(DataError, match="The run chose ets; ETS cannot be refitted"):
        forecast_chosen("ets", np.ones(3), np.arange(1.0, 4.0), evaluation)
    # The naive forecasts need nothing: the mean of the model's and the last value.
    mean = forecast_chosen("kseq+naive", np.zeros(3), np.arange(1.0, 6.0), evaluation)
    np.testing.assert_allclose(mean, 2.5)


def test_one_series_is_scored_as_a_panel_and_a_forecast_that_failed_scores_null(tmp_path):
    import json
    from types import SimpleNamespace

    import pandas as pd

    from kseq.pipeline.report import write_test_scores

    history = np.array([0.0, 1.0, 3.0, 2.0])
    truth = np.array([1.0, 2.0, 3.0])
    test = SimpleNamespace(
        steps=3,
        truth=truth[:, None],
        multi_step=np.array([[np.nan], [2.0], [3.0]]),  # a net that diverged
        one_step=truth[:, None],
        baselines={"naive": np.full(3, 2.0)},
        baselines_one_step={"naive": np.array([2.0, 1.0, 2.0])},
        weights={},
        chosen={},
        bands={},
        coverage=None,
        interval=None,
    )
    written = write_test_scores(tmp_path, test, ["d1", "d2", "d3"], {"y": history}, 1)
    assert written == ["metrics.json", "metrics.csv", "forecasts.csv", "one_step.csv"]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    # MASE's scale: the mean absolute change of the history before the test part (4/3).
    scale = np.mean(np.abs(np.diff(history)))
    assert metrics["mase"]["naive"] == pytest.approx(np.mean(np.abs(truth - 2.0)) / scale)
    assert metrics["mase"]["kseq"] is None and metrics["smape"]["chosen"] is None
    frame = pd.read_csv(tmp_path / "forecasts.csv")
    assert list(frame.columns) == ["unique_id", "ds", "truth", "kseq", "naive", "chosen"]
    rolling = pd.read_csv(tmp_path / "one_step.csv")
    np.testing.assert_allclose(rolling["naive"], [2.0, 1.0, 2.0])
    assert set(pd.read_csv(tmp_path / "metrics.csv")["method"]) == {"kseq", "naive", "chosen"}


def test_msis_adds_the_width_and_the_scaled_misses():
    history = np.array([1.0, 3.0, 2.0, 4.0])  # seasonal (lag 2) naive MAE: 1
    truth = np.array([5.0, 0.0, 2.0])
    lower, upper = np.array([3.0, 1.0, 1.0]), np.array([4.0, 3.0, 3.0])
    # Widths 1, 2, 2; misses 1 above and 1 below, each times 2 / 0.2 = 10.
    assert msis(truth, lower, upper, 0.8, history, 2) == pytest.approx((1 + 2 + 2 + 10 + 10) / 3)
    assert msis(truth, truth, truth, 0.95, history, 2) == 0.0
    assert msis(truth, lower - np.inf, upper + np.inf, 0.8, history, 2) == np.inf
    assert np.isnan(msis(truth, lower, upper, 0.8, [1.0, 1.0, 1.0], 1))
