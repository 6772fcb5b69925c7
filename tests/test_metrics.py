import numpy as np
import pytest

from kseq.baselines import naive_baselines, sarima_airline, sarima_available
from kseq.data import load_airpassengers
from kseq.metrics import mae, mape, mase, rmse, seasonal_naive_forecast, smape


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
    assert mape(series[120:], forecast) == pytest.approx(15.5, abs=0.05)
    assert rmse(series[120:], forecast) == pytest.approx(77.0, abs=0.05)
    one_step = naive_baselines(series[:120], series[120:], 12)["seasonal_naive"]["one_step"]
    np.testing.assert_array_equal(one_step, series[108:132])


@pytest.mark.skipif(not sarima_available(), reason="statsmodels not installed")
def test_sarima_airline_matches_the_reference():
    series = load_airpassengers().to_numpy()
    result = sarima_airline(series[:120], series[120:], 12)
    assert mape(series[120:], result["multi_step"]) == pytest.approx(8.5, abs=0.1)
    assert rmse(series[120:], result["multi_step"]) == pytest.approx(43.2, abs=0.3)
    assert mape(series[120:], result["one_step"]) == pytest.approx(2.55, abs=0.05)
